//! The one blocking HTTP transport that [`Client`](crate::Client) and
//! [`AdminClient`](crate::AdminClient) share: base URL, timeouts, retries, bounded reads.

mod answer;
mod config;
mod path;
mod retry;
mod trace;
mod transfer;

use std::io::Read;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderValue, StatusCode};
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::error::invalid;
use crate::{Error, Secret};

pub(crate) use answer::{decode, read_error};
pub(crate) use config::TransportConfig;
pub(crate) use path::segment;
pub use retry::RetryPolicy;
pub(crate) use retry::Safety;

use retry::Verdict;
use trace::AttemptTrace;
use transfer::{AsyncReply, FileChunks, RedirectChain, Transfers};

/// The header that carries a public API key.
pub(crate) const API_KEY_HEADER: &str = "X-Api-Key";
/// The header that carries an admin token.
pub(crate) const ADMIN_TOKEN_HEADER: &str = "X-Admin-Token";

/// The read buffer of a download through a user's blocking client.
const DOWNLOAD_BUFFER_BYTES: usize = 256 * 1024;

/// Cheap to clone: clones share one connection pool. (`pub` only so the sealed builder trait
/// can name it; the module is private, so no user can.)
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::blocking::Client,
    /// Whether `http` is the crate's own client rather than one the user passed in. The
    /// crate's own carries the call timeout client-wide and leaves transfers to `transfers`;
    /// a user's client carries everything, so that its proxy and TLS settings hold for all.
    own_http: bool,
    /// Started on the first transfer, so a client that never uploads or downloads costs no
    /// thread; an error is kept and given to every transfer.
    transfers: OnceLock<Result<Transfers, String>>,
    base: reqwest::Url,
    user_agent: String,
    timeout: Duration,
    connect_timeout: Duration,
    stall_timeout: Duration,
    transfer_timeout: Option<Duration>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

/// Where a download's bytes go, one chunk at a time, each with the announced total size.
pub(crate) type DownloadSink<'a> = dyn FnMut(Option<u64>, &[u8]) -> Result<(), Error> + 'a;

/// The body of a call.
pub(crate) enum Body<'a> {
    Empty,
    Json(Vec<u8>),
    /// A multipart body of one part, `file`.
    File(FilePart<'a>),
}

/// The `file` part of an upload. Its content is opened anew for each attempt: a stream, once
/// sent, cannot be sent again.
pub(crate) struct FilePart<'a> {
    pub(crate) file_name: &'a str,
    pub(crate) mime: &'a str,
    /// The content and its length, which the multipart head announces before the content.
    pub(crate) open: &'a dyn Fn() -> Result<(Box<dyn Read + Send>, u64), Error>,
}

/// One API call, before it is sent.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// The route as a template, for logs: `/v1/jobs/{id}`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) route: &'static str,
    /// The path with its ids already encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) credential: Option<(&'static str, &'a Secret)>,
    pub(crate) body: Body<'a>,
    pub(crate) safety: Safety,
    /// Whether the body is a file transfer that may outlast the per-call timeout.
    pub(crate) transfer: bool,
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
            transfer: false,
        }
    }

    pub(crate) fn post_json(route: &'static str, path: String, body: &impl serde::Serialize) -> Result<Self, Error> {
        let json = serde_json::to_vec(body).map_err(|source| Error::InvalidInput {
            field: "body",
            reason: format!("could not be encoded as JSON: {source}"),
        })?;
        Ok(Self { method: Method::POST, body: Body::Json(json), safety: Safety::SideEffect, ..Self::get(route, path) })
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub(crate) fn credential(mut self, header: &'static str, secret: &'a Secret) -> Self {
        self.credential = Some((header, secret));
        self
    }
}

fn send_blocking(request: RequestBuilder) -> Result<Response, Error> {
    request.send().map_err(Error::Transport)
}

/// An answer the retry loop can judge and dispose of, whichever client it came from.
pub(crate) trait Reply: Sized {
    fn status(&self) -> StatusCode;
    fn headers(&self) -> &HeaderMap;
    /// Reads the answer into an [`Error::Api`].
    fn into_error(self, retry_after: Option<Duration>) -> Error;
    /// Reads a little of an answer that will not be used, so that its connection is kept.
    fn discard(self);
}

impl Reply for Response {
    fn status(&self) -> StatusCode {
        Response::status(self)
    }

    fn headers(&self) -> &HeaderMap {
        Response::headers(self)
    }

    fn into_error(self, retry_after: Option<Duration>) -> Error {
        answer::api_error(self, retry_after)
    }

    fn discard(self) {
        answer::drain(self);
    }
}

impl Transport {
    pub(crate) fn new(config: TransportConfig) -> Result<Self, Error> {
        config.build()
    }

    /// The API origin and path prefix, without a trailing slash.
    pub(crate) fn base_url(&self) -> &str {
        self.shared.base.as_str().trim_end_matches('/')
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    /// Sends a call and decodes its 2xx answer.
    pub(crate) fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, Error> {
        if let (Body::File(file), Some(transfers)) = (&call.body, self.transfers()?) {
            return self
                .send_with(
                    call,
                    &self.shared.retry,
                    || self.upload_request(transfers, call, file),
                    |(request, activity)| {
                        let answer = transfers.block_on(transfer::unless_stalled(
                            request.send(),
                            &activity,
                            self.shared.stall_timeout,
                        ))?;
                        Ok(AsyncReply { response: answer?, transfers })
                    },
                )?
                .decode();
        }
        decode(self.send(call)?)
    }

    /// Sends a call, retrying as the policy allows; returns the 2xx answer or the error.
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response, Error> {
        self.send_with(call, &self.shared.retry, || self.request(call), send_blocking)
    }

    /// Sends a call with no retries (for callers that run their own loop).
    pub(crate) fn send_once(&self, call: &Call<'_>) -> Result<Response, Error> {
        self.send_with(call, &RetryPolicy::none(), || self.request(call), send_blocking)
    }

    /// The retry loop: `build` makes each attempt's request (its body anew), `send` sends it.
    fn send_with<Q, R: Reply>(
        &self,
        call: &Call<'_>,
        policy: &RetryPolicy,
        build: impl Fn() -> Result<Q, Error>,
        send: impl Fn(Q) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut retries_done = 0;
        loop {
            let request = build()?;
            let trace = AttemptTrace::start(call, retries_done + 1);
            let outcome = send(request);
            trace.finish(outcome.as_ref().ok().map(|reply| (reply.status(), reply.headers())));
            let verdict = match outcome {
                Ok(reply) if reply.status().is_success() => return Ok(reply),
                Ok(reply) => {
                    let retry_after = retry::retry_after(reply.headers(), SystemTime::now());
                    match policy.after_status(retries_done, reply.status(), retry_after, call.safety) {
                        Verdict::GiveUp => return Err(reply.into_error(retry_after)),
                        retry => {
                            reply.discard();
                            retry
                        }
                    }
                }
                Err(Error::Transport(error)) => match policy.after_transport_error(retries_done, &error, call.safety) {
                    Verdict::GiveUp => return Err(Error::Transport(error)),
                    retry => retry,
                },
                // A stalled upload may have reached the server: never retried blindly.
                Err(error) => return Err(error),
            };
            if let Verdict::RetryAfter(pause) = verdict {
                self.shared.clock.sleep(pause);
            }
            retries_done += 1;
        }
    }

    /// The transfer runtime and clients, started on first use; `None` when the user passed
    /// their own client, which then carries transfers too.
    fn transfers(&self) -> Result<Option<&Transfers>, Error> {
        let shared = &self.shared;
        if !shared.own_http {
            return Ok(None);
        }
        match shared.transfers.get_or_init(|| Transfers::build(shared.connect_timeout, shared.stall_timeout)) {
            Ok(transfers) => Ok(Some(transfers)),
            Err(message) => Err(Error::Config(message.clone())),
        }
    }

    fn url(&self, call: &Call<'_>) -> reqwest::Url {
        let base = &self.shared.base;
        let mut url = base.clone();
        url.set_path(&format!("{}{}", base.path().trim_end_matches('/'), call.path));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter().map(|(name, value)| (*name, value.as_str())));
        }
        url
    }

    fn request(&self, call: &Call<'_>) -> Result<RequestBuilder, Error> {
        let shared = &self.shared;
        let mut request = shared
            .http
            .request(call.method.clone(), self.url(call))
            .header(http::header::USER_AGENT, &shared.user_agent);
        request = match (call.transfer, shared.own_http) {
            // reqwest's blocking timeout spans the whole body upload, so a large file gets its
            // own limit (none by default); the connect and TCP stall limits still apply.
            (true, _) => match shared.transfer_timeout {
                Some(limit) => request.timeout(limit),
                None => request,
            },
            // The crate's own client has the call timeout client-wide.
            (false, true) => request,
            (false, false) => request.timeout(shared.timeout),
        };
        if let Some((header, secret)) = call.credential {
            request = request.header(header, credential_value(header, secret)?);
        }
        Ok(match &call.body {
            Body::Empty => request,
            Body::Json(json) => request.header(http::header::CONTENT_TYPE, "application/json").body(json.clone()),
            Body::File(file) => {
                let (reader, length) = (file.open)()?;
                let part = reqwest::blocking::multipart::Part::reader_with_length(reader, length)
                    .file_name(file.file_name.to_owned())
                    .mime_str(file.mime)
                    .map_err(|_| unusable_mime(file.mime))?;
                request.multipart(reqwest::blocking::multipart::Form::new().part("file", part))
            }
        })
    }

    /// An upload on the async client: the same headers as [`request`](Self::request), the
    /// file in large chunks.
    fn upload_request(
        &self,
        transfers: &Transfers,
        call: &Call<'_>,
        file: &FilePart<'_>,
    ) -> Result<(reqwest::RequestBuilder, transfer::Activity), Error> {
        let shared = &self.shared;
        let mut request = transfers
            .upload
            .request(call.method.clone(), self.url(call))
            .header(http::header::USER_AGENT, &shared.user_agent);
        if let Some(limit) = shared.transfer_timeout {
            request = request.timeout(limit);
        }
        if let Some((header, secret)) = call.credential {
            request = request.header(header, credential_value(header, secret)?);
        }
        let (reader, length) = (file.open)()?;
        let activity = transfer::Activity::new();
        let part = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(FileChunks::new(reader, length, activity.clone())),
            length,
        )
        .file_name(file.file_name.to_owned())
        .mime_str(file.mime)
        .map_err(|_| unusable_mime(file.mime))?;
        Ok((request.multipart(reqwest::multipart::Form::new().part("file", part)), activity))
    }

    /// A GET of a URL outside the API (the output CDN), with no credential, streamed chunk by
    /// chunk into `sink` (given the announced total with each chunk); returns the bytes
    /// received. Redirects are followed here, not by reqwest: no credential is sent, so the
    /// API's guard against cross-origin redirects has nothing to protect.
    pub(crate) fn download(&self, url: reqwest::Url, sink: &mut DownloadSink<'_>) -> Result<u64, Error> {
        let deadline = self.shared.transfer_timeout.map(|limit| Instant::now() + limit);
        match self.transfers()? {
            Some(transfers) => transfers.block_on(self.download_async(transfers, url, deadline, sink)),
            None => self.download_blocking(url, deadline, sink),
        }
    }

    async fn download_async(
        &self,
        transfers: &Transfers,
        url: reqwest::Url,
        deadline: Option<Instant>,
        sink: &mut DownloadSink<'_>,
    ) -> Result<u64, Error> {
        let mut chain = RedirectChain::new(url);
        let mut response = loop {
            // The client's read timeout bounds the wait for the head and each pause in the
            // body; a transfer timeout, when set, bounds the whole, redirects included.
            let mut request =
                transfers.download.get(chain.url().clone()).header(http::header::USER_AGENT, &self.shared.user_agent);
            if let Some(deadline) = deadline {
                request = request.timeout(deadline.saturating_duration_since(Instant::now()));
            }
            let response = request.send().await?;
            if !chain.follow(response.status(), response.headers())? {
                break response;
            }
        };
        if !response.status().is_success() {
            return Err(transfer::read_bounded(response, answer::MAX_ANSWER_BYTES).await?.into_error(None));
        }
        let total = response.content_length();
        let mut received = 0u64;
        while let Some(chunk) = response.chunk().await? {
            sink(total, &chunk)?;
            received += chunk.len() as u64;
        }
        Ok(received)
    }

    /// A download through the user's blocking client, bounded by that client's own timeouts
    /// and, when set, the transfer timeout.
    fn download_blocking(
        &self,
        url: reqwest::Url,
        deadline: Option<Instant>,
        sink: &mut DownloadSink<'_>,
    ) -> Result<u64, Error> {
        let mut chain = RedirectChain::new(url);
        let mut response = loop {
            let mut request =
                self.shared.http.get(chain.url().clone()).header(http::header::USER_AGENT, &self.shared.user_agent);
            if let Some(deadline) = deadline {
                request = request.timeout(deadline.saturating_duration_since(Instant::now()));
            }
            let response = request.send()?;
            if !chain.follow(response.status(), response.headers())? {
                break response;
            }
        };
        if !response.status().is_success() {
            return Err(answer::api_error(response, None));
        }
        let total = response.content_length();
        let mut buffer = vec![0; DOWNLOAD_BUFFER_BYTES];
        let mut received = 0u64;
        loop {
            let read = match response.read(&mut buffer) {
                Ok(0) => return Ok(received),
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(read_error(error)),
            };
            sink(total, &buffer[..read])?;
            received += read as u64;
        }
    }
}

/// The credential as a header value that logs and `Debug` never show.
fn credential_value(header: &str, secret: &Secret) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(secret.expose())
        .map_err(|_| Error::Config(format!("the {header} credential holds characters that cannot go in a header")))?;
    value.set_sensitive(true);
    Ok(value)
}

fn unusable_mime(mime: &str) -> Error {
    invalid("file_name", format!("gives an unusable content type {mime:?}"))
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base_url", &self.base_url())
            .field("timeout", &self.shared.timeout)
            .field("retry", &self.shared.retry)
            .finish_non_exhaustive()
    }
}
