//! The one HTTP core under all four clients: async reqwest, one connection pool, one retry
//! loop. The async clients run it on the caller's tokio runtime; the blocking clients on the
//! crate's own (see `runtime.rs`).
//!
//! It may use the client's errors, clock and progress; the calls above it (`async_client.rs`,
//! `admin.rs`, `upload.rs`, ...) build a `Call` and never touch reqwest themselves.

mod answer;
pub(crate) mod attempt;
mod config;
mod gate;
mod path;
pub(crate) mod retry;
mod trace;
mod transfer;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderValue, Method};
use serde::de::DeserializeOwned;

use crate::client::error::{invalid, Error, Transfer};
use crate::clock::Clock;

pub use crate::client::transport_error::TransportError;
pub(crate) use answer::Answer;
pub use attempt::AttemptInfo;
pub(crate) use attempt::AttemptObserver;
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) use config::Certificate;
use config::LONGEST;
#[cfg(feature = "test-util")]
pub(crate) use config::MAX_UPLOAD_BYTES;
pub(crate) use config::{credential_header, TransportConfig};
pub(crate) use path::segment;
pub use retry::RetryPolicy;
pub(crate) use retry::Safety;
pub(crate) use transfer::{DownloadBody, FilePart, UploadSource};

use crate::client::transport_error::{origin_of, Kind};
use gate::Gate;
use retry::Verdict;
use trace::AttemptTrace;
use transfer::{Activity, FileChunks, RedirectChain};

/// The header that carries a public API key.
pub(crate) const API_KEY_HEADER: &str = "X-Api-Key";
/// The header that carries an admin token.
pub(crate) const ADMIN_TOKEN_HEADER: &str = "X-Admin-Token";

/// Cheap to clone: clones share one connection pool and one back-off. (`pub` only so the
/// sealed builder trait can name it; the module is private, so no user can.)
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
    /// Settings of `with_options`, over the client's own.
    overrides: Option<Arc<Overrides>>,
    /// The owning client's credential: hidden from every error of every request, including
    /// those that do not send it (health, pricing, downloads).
    hidden: Option<HeaderValue>,
}

/// What `with_options` changes for the calls of one client handle.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
    /// Checked: none replaces a credential or the content type.
    pub(crate) headers: http::HeaderMap,
}

struct Shared {
    /// One client, one pool: API calls, uploads and downloads.
    http: reqwest::Client,
    base: url::Url,
    timeout: Duration,
    stall_timeout: Duration,
    transfer_timeout: Option<Duration>,
    max_upload_size: Option<u64>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    /// The back-off every call through this pool waits at.
    gate: Gate,
    /// Caps the requests in flight at once, when set.
    in_flight: Option<tokio::sync::Semaphore>,
    on_attempt: Option<AttemptObserver>,
}

/// The body of a call.
pub(crate) enum Body<'a> {
    Empty,
    /// Shared, so that each attempt sends it without a copy.
    Json(bytes::Bytes),
    /// A multipart body of one part, `file`.
    File(&'a FilePart),
}

/// One API call, before it is sent.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// The route as a template, for logs: `/v1/jobs/{id}`.
    pub(crate) route: &'static str,
    /// The path with its ids already encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) credential: Option<(&'static str, &'a HeaderValue)>,
    pub(crate) body: Body<'a>,
    pub(crate) safety: Safety,
    /// The answer holds a secret (a new API key): an error quotes none of it.
    pub(crate) reveals_secret: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(route: &'static str, path: String) -> Self {
        Self {
            method: Method::GET,
            route,
            path,
            query: Vec::new(),
            credential: None,
            body: Body::Empty,
            safety: Safety::Idempotent,
            reveals_secret: false,
        }
    }

    pub(crate) fn post_json(route: &'static str, path: String, body: &impl serde::Serialize) -> Result<Self, Error> {
        let json = serde_json::to_vec(body)
            .map_err(|source| invalid("body", format!("could not be encoded as JSON: {source}")))?;
        Ok(Self {
            method: Method::POST,
            body: Body::Json(json.into()),
            safety: Safety::SideEffect,
            ..Self::get(route, path)
        })
    }

    pub(crate) fn upload(route: &'static str, file: &'a FilePart, safety: Safety) -> Self {
        Self { method: Method::POST, body: Body::File(file), safety, ..Self::get(route, route.to_owned()) }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    /// Marks a call whose answer holds a secret.
    pub(crate) fn reveals_secret(mut self) -> Self {
        self.reveals_secret = true;
        self
    }

    pub(crate) fn credential(mut self, header: &'static str, value: &'a HeaderValue) -> Self {
        self.credential = Some((header, value));
        self
    }
}

impl Transport {
    pub(crate) fn new(config: TransportConfig) -> Result<Self, Error> {
        config.build()
    }

    /// The same transport (sharing its connection pool), whose errors hide `credential`.
    pub(crate) fn hiding(&self, credential: &HeaderValue) -> Self {
        Self { shared: Arc::clone(&self.shared), hidden: Some(credential.clone()), overrides: self.overrides.clone() }
    }

    /// The credential to hide from the errors of `call`: the one it sends, else the client's.
    fn hidden<'a>(&'a self, call: &Call<'a>) -> Option<&'a HeaderValue> {
        call.credential.map(|(_, value)| value).or(self.hidden.as_ref())
    }

    /// The API origin and path prefix, without a trailing slash.
    pub(crate) fn base_url(&self) -> &str {
        self.shared.base.as_str().trim_end_matches('/')
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    /// The largest upload sent, when limited.
    pub(crate) fn max_upload_size(&self) -> Option<u64> {
        self.shared.max_upload_size
    }

    /// The same pool, gate and settings, with `overrides` over the settings.
    pub(crate) fn with_overrides(&self, overrides: Overrides) -> Self {
        Self { shared: Arc::clone(&self.shared), overrides: Some(Arc::new(overrides)), hidden: self.hidden.clone() }
    }

    /// The settings in force for this handle's calls.
    pub(crate) fn overrides(&self) -> Option<&Overrides> {
        self.overrides.as_deref()
    }

    /// The client's own retry policy, under any override.
    pub(crate) fn base_retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The retry policy of this handle's calls.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        self.overrides().and_then(|o| o.retry.as_ref()).unwrap_or(&self.shared.retry)
    }

    fn timeout(&self) -> Duration {
        self.overrides().and_then(|o| o.timeout).unwrap_or(self.shared.timeout)
    }

    /// Sends a call, retrying as the policy allows, and decodes its 2xx answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, Error> {
        let policy = self.retry_policy();
        // The usual call, the gate open and a 2xx first time, makes one attempt in this future
        // and allocates nothing for it. The rest of the retry loop is boxed: its state is
        // large, and every future above it (the call's, the caller's) would otherwise carry it.
        let answer = if self.shared.gate.is_pending() {
            Box::pin(self.send(call, policy)).await?
        } else {
            match self.attempt_observed(call, 1).await {
                Ok(answer) if answer.status.is_success() => answer,
                outcome => Box::pin(self.retry(call, policy, outcome)).await?,
            }
        };
        answer.decode(self.hidden(call), call.reveals_secret)
    }

    /// Sends a call once, with no retries (for callers that run their own loop), and decodes
    /// its 2xx answer.
    pub(crate) async fn json_once<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, Error> {
        self.send(call, &RetryPolicy::none()).await?.decode(self.hidden(call), call.reveals_secret)
    }

    /// The retry loop, from its first attempt.
    async fn send(&self, call: &Call<'_>, policy: &RetryPolicy) -> Result<Answer, Error> {
        if self.shared.gate.is_pending() {
            self.pass_gate(policy).await?;
        }
        let first = self.attempt_observed(call, 1).await;
        self.retry(call, policy, first).await
    }

    /// The retry loop after an attempt that ended with `outcome`: the one place that decides
    /// whether to try again and how long to wait.
    async fn retry(
        &self,
        call: &Call<'_>,
        policy: &RetryPolicy,
        mut outcome: Result<Answer, Error>,
    ) -> Result<Answer, Error> {
        let mut retries_done = 0u32;
        loop {
            let verdict = match outcome {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) => {
                    let retry_after = retry::retry_after(&answer.headers, SystemTime::now());
                    match policy.after_status(retries_done, answer.status, retry_after, call.safety) {
                        Verdict::GiveUp => return Err(answer.into_error(retry_after, self.hidden(call))),
                        retry => retry,
                    }
                }
                Err(Error::Transport(error)) => match policy.after_transport_error(retries_done, &error, call.safety) {
                    Verdict::GiveUp => return Err(Error::Transport(error)),
                    retry => retry,
                },
                // A stalled upload may have reached the server; a local read failure is the
                // caller's to fix: neither is retried blindly.
                Err(error) => return Err(error),
            };
            if let Verdict::RetryAfter(pause) = verdict {
                // One pause covers both this call's back-off and the client's shared one.
                self.shared.clock.sleep(pause.max(self.backoff_remaining())).await;
            }
            retries_done = retries_done.saturating_add(1);
            if self.shared.gate.is_pending() {
                self.pass_gate(policy).await?;
            }
            outcome = self.attempt_observed(call, retries_done.saturating_add(1)).await;
        }
    }

    /// One attempt (number `attempt`, from 1) within the in-flight cap when set, traced, and
    /// told to the gate and the attempt observer.
    ///
    /// What a caller does not use costs nothing: with no back-off pending, no in-flight cap
    /// and no attempt observer, an attempt reads no clock and takes no lock.
    async fn attempt_observed(&self, call: &Call<'_>, attempt: u32) -> Result<Answer, Error> {
        let trace = AttemptTrace::start(call, attempt);
        // The start is read only for the observer, the one user of an attempt's duration.
        let started = self.shared.on_attempt.as_ref().map(|_| self.shared.clock.now());
        let outcome = match &self.shared.in_flight {
            // Held for the attempt only, not across the pauses between attempts.
            Some(in_flight) => {
                let _permit = in_flight.acquire().await.ok();
                self.attempt(call).await
            }
            None => self.attempt(call).await,
        };
        trace.finish(outcome.as_ref().ok().map(|answer| (answer.status, &answer.headers)));
        self.record(call, attempt, started, &outcome);
        outcome
    }

    /// How long the client's shared back-off still holds every call.
    pub(crate) fn backoff_remaining(&self) -> Duration {
        if !self.shared.gate.is_pending() {
            return Duration::ZERO;
        }
        self.shared.gate.remaining(self.shared.clock.now())
    }

    /// Waits while the client's shared back-off holds every call; a pause longer than the
    /// policy waits out by itself ends the call at once.
    async fn pass_gate(&self, policy: &RetryPolicy) -> Result<(), Error> {
        loop {
            let left = self.backoff_remaining();
            if left.is_zero() {
                return Ok(());
            }
            if left > policy.retry_after_limit() {
                return Err(Error::BackedOff { retry_after: left });
            }
            self.shared.clock.sleep(left).await;
        }
    }

    /// Tells the gate and the attempt observer how an attempt went. The clock is read once,
    /// and only when the gate closes or an observer wants the attempt's duration.
    fn record(&self, call: &Call<'_>, attempt: u32, started: Option<Instant>, outcome: &Result<Answer, Error>) {
        let (gate, policy, clock) = (&self.shared.gate, &self.shared.retry, &self.shared.clock);
        let mut read = None;
        let mut now = || *read.get_or_insert_with(|| clock.now());
        match outcome {
            Ok(answer) if answer.status == http::StatusCode::TOO_MANY_REQUESTS => {
                gate.rate_limited(now(), retry::retry_after(&answer.headers, SystemTime::now()), policy);
            }
            Ok(answer) if answer.status.is_server_error() => gate.server_error(now(), policy),
            // Nothing to reset unless a pause or a run is pending.
            Ok(_) if gate.is_pending() => gate.success(now()),
            Ok(_) => {}
            // No answer says nothing of the server's load: a network fault is each call's own.
            Err(_) => {}
        }
        if let (Some(observer), Some(started)) = (&self.shared.on_attempt, started) {
            let (status, error) = attempt::outcome_of(outcome);
            (observer.0)(&AttemptInfo {
                method: call.method.clone(),
                route: call.route,
                status,
                error,
                attempt,
                duration: now().saturating_duration_since(started),
                request_id: attempt::request_id(outcome),
            });
        }
    }

    /// One attempt: the request sent and its whole answer read, within the call's limit (the
    /// call timeout, or for an upload the stall and transfer timeouts).
    async fn attempt(&self, call: &Call<'_>) -> Result<Answer, Error> {
        // An error names the origin only, which every API call shares with the base URL.
        let origin = &self.shared.base;
        if let Body::File(file) = &call.body {
            // Boxed: an upload's state is large, and an API call's future need not carry it.
            // Its limits are the stall and transfer timeouts, not the call timeout.
            return Box::pin(self.upload_attempt(file, self.request(call).timeout(LONGEST), origin)).await;
        }
        let limit = self.timeout();
        // A timeout names this limit, unless it was the connect timeout's.
        let named = |error: TransportError| Error::Transport(error.timed_out_after(limit));
        let response = self.start(call).await.map_err(|error| {
            if error.is_connect() {
                transport(error, origin)
            } else {
                named(TransportError::from_http(error).at(origin))
            }
        })?;
        answer::read_bounded(response, origin).await.map_err(|error| match error {
            Error::Transport(error) => named(error),
            error => error,
        })
    }

    /// Sends an API call's request: built and handed to the HTTP library here, outside the
    /// attempt's future, which then holds only the library's own (small) future.
    ///
    /// The limit is the HTTP library's own, over the answer's head and body: the client's
    /// timeout is set on the HTTP client itself, as bare reqwest's is, so a call that keeps it
    /// adds nothing to its request; only `with_options` sets one of its own.
    fn start(&self, call: &Call<'_>) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> {
        let request = self.request(call);
        match self.overrides().and_then(|overrides| overrides.timeout) {
            Some(limit) => request.timeout(limit.min(LONGEST)).send(),
            None => request.send(),
        }
    }

    /// One attempt of an upload, bounded by the stall and transfer timeouts.
    async fn upload_attempt(
        &self,
        file: &FilePart,
        request: reqwest::RequestBuilder,
        origin: &url::Url,
    ) -> Result<Answer, Error> {
        let stall = self.shared.stall_timeout;
        let reader = file.open()?;
        let activity = Activity::new();
        let chunks = FileChunks::new(reader, file.length(), activity.clone());
        let failure = chunks.failure();
        let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), file.length())
            .file_name(file.file_name().to_owned())
            .mime_str(file.mime())
            .map_err(|_| invalid("file_name", format!("gives an unusable content type {:?}", file.mime())))?;
        let request = request.multipart(reqwest::multipart::Form::new().part("file", part));
        let exchange = async {
            let sent = transfer::unless_stalled(request.send(), &activity, stall).await?;
            let response = sent.map_err(|error| transport(error, origin))?;
            match tokio::time::timeout(stall, answer::read_bounded(response, origin)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(Error::Stalled { transfer: Transfer::Upload, stalled_for: stall }),
            }
        };
        let outcome = match self.shared.transfer_timeout {
            Some(limit) => within(limit, origin, exchange).await,
            None => exchange.await,
        };
        // The source failed: that is the caller's file, not the network.
        match (outcome, failure.take()) {
            (Err(_), Some(source)) => Err(Error::Io { action: "read", path: file.io_path(), source }),
            (outcome, _) => outcome,
        }
    }

    fn url(&self, call: &Call<'_>) -> url::Url {
        let base = &self.shared.base;
        let mut url = base.clone();
        match base.path().trim_end_matches('/') {
            "" => url.set_path(&call.path),
            prefix => url.set_path(&format!("{prefix}{}", call.path)),
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter().map(|(name, value)| (*name, value.as_str())));
        }
        url
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let mut request = self.shared.http.request(call.method.clone(), self.url(call));
        if let Some(overrides) = self.overrides() {
            // Checked when set: none of them is a credential or the content type.
            for (name, value) in &overrides.headers {
                request = request.header(name, value.clone());
            }
        }
        if let Some((header, value)) = call.credential {
            request = request.header(header, value.clone());
        }
        match &call.body {
            Body::Json(json) => request.header(http::header::CONTENT_TYPE, "application/json").body(json.clone()),
            Body::Empty | Body::File(_) => request,
        }
    }

    /// Starts a GET of a URL outside the API (the output host), with no credential: follows
    /// its redirects by hand (http and https only, at most 10) and returns the body to read.
    ///
    /// Only a pause longer than the stall timeout ends it, or the transfer timeout when set.
    /// With `from` above zero it asks for the rest of the file from that byte (`Range`); the
    /// host may answer with the part (`206`) or the whole file.
    pub(crate) async fn open_download(&self, url: url::Url, from: u64) -> Result<DownloadBody, Error> {
        let limits = transfer::Limits::new(self.shared.stall_timeout, self.shared.transfer_timeout);
        let mut chain = RedirectChain::new(url);
        let response = loop {
            let url = chain.url().clone();
            // Only the stall and transfer timeouts bound a download, not the call timeout.
            let mut request = self.shared.http.get(url.clone()).timeout(LONGEST);
            if from > 0 {
                request = request.header(http::header::RANGE, format!("bytes={from}-"));
            }
            let response =
                limits.run(&url, async { request.send().await.map_err(|error| transport(error, &url)) }).await?;
            if !chain.follow(response.status(), response.headers())? {
                break response;
            }
        };
        let url = chain.url().clone();
        if !response.status().is_success() {
            let answer = limits.run(&url, answer::read_bounded(response, &url)).await?;
            return Err(answer.into_error(None, self.hidden.as_ref()));
        }
        Ok(DownloadBody::new(response, url, limits))
    }
}

/// `exchange`, or a timeout at `url`'s origin once `limit` has passed.
async fn within<T>(
    limit: Duration,
    url: &url::Url,
    exchange: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(limit, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(TransportError::new(Kind::Timeout(Some(limit)), Some(origin_of(url))).into()),
    }
}

/// An error of the HTTP library, in the crate's words, at `url`'s origin.
fn transport(error: reqwest::Error, url: &url::Url) -> Error {
    Error::Transport(TransportError::from_http(error).at(url))
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base_url", &self.base_url())
            .field("timeout", &self.timeout())
            .field("retry", self.retry_policy())
            .field("extra_headers", &self.overrides().map_or(0, |o| o.headers.len()))
            .finish_non_exhaustive()
    }
}
