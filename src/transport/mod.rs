//! The one blocking HTTP transport that [`Client`](crate::Client) and
//! [`AdminClient`](crate::AdminClient) share: base URL, timeouts, retries, bounded reads.

mod answer;
mod config;
mod path;
mod retry;
mod trace;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::blocking::{multipart::Form, RequestBuilder, Response};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::{Error, Secret};

pub(crate) use answer::{decode, read_error};
pub(crate) use config::TransportConfig;
pub(crate) use path::segment;
pub use retry::RetryPolicy;
pub(crate) use retry::Safety;
use retry::Verdict;
use trace::AttemptTrace;

/// The header that carries a public API key.
pub(crate) const API_KEY_HEADER: &str = "X-Api-Key";
/// The header that carries an admin token.
pub(crate) const ADMIN_TOKEN_HEADER: &str = "X-Admin-Token";

/// Cheap to clone: clones share one connection pool. (`pub` only so the sealed builder trait
/// can name it; the module is private, so no user can.)
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::blocking::Client,
    base: reqwest::Url,
    user_agent: String,
    timeout: Duration,
    stall_timeout: Duration,
    transfer_timeout: Option<Duration>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

/// The body of a call. A multipart body is made anew for each attempt: a stream, once sent,
/// cannot be sent again.
pub(crate) enum Body<'a> {
    Empty,
    Json(Vec<u8>),
    Multipart(&'a dyn Fn() -> Result<Form, Error>),
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
        decode(self.send(call)?)
    }

    /// Sends a call, retrying as the policy allows; returns the 2xx answer or the error.
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response, Error> {
        self.send_with(call, &self.shared.retry)
    }

    /// Sends a call with no retries (for callers that run their own loop).
    pub(crate) fn send_once(&self, call: &Call<'_>) -> Result<Response, Error> {
        self.send_with(call, &RetryPolicy::none())
    }

    fn send_with(&self, call: &Call<'_>, policy: &RetryPolicy) -> Result<Response, Error> {
        let mut retries_done = 0;
        loop {
            let request = self.request(call)?;
            let trace = AttemptTrace::start(call, retries_done + 1);
            let outcome = request.send();
            trace.finish(outcome.as_ref().ok());
            let verdict = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let retry_after = retry::retry_after(response.headers(), SystemTime::now());
                    match policy.after_status(retries_done, response.status(), retry_after, call.safety) {
                        Verdict::GiveUp => return Err(answer::api_error(response, retry_after)),
                        retry => {
                            answer::drain(response);
                            retry
                        }
                    }
                }
                Err(error) => match policy.after_transport_error(retries_done, &error, call.safety) {
                    Verdict::GiveUp => return Err(Error::Transport(error)),
                    retry => retry,
                },
            };
            if let Verdict::RetryAfter(pause) = verdict {
                self.shared.clock.sleep(pause);
            }
            retries_done += 1;
        }
    }

    fn request(&self, call: &Call<'_>) -> Result<RequestBuilder, Error> {
        let shared = &self.shared;
        let mut url = shared.base.clone();
        url.set_path(&format!("{}{}", shared.base.path().trim_end_matches('/'), call.path));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter().map(|(name, value)| (*name, value.as_str())));
        }
        let mut request =
            shared.http.request(call.method.clone(), url).header(http::header::USER_AGENT, &shared.user_agent);
        request = match call.transfer {
            // reqwest's blocking timeout spans the whole body upload, so a large file gets its
            // own limit (none by default); the connect and TCP stall limits still apply.
            true => match shared.transfer_timeout {
                Some(limit) => request.timeout(limit),
                None => request,
            },
            false => request.timeout(shared.timeout),
        };
        if let Some((header, secret)) = call.credential {
            let mut value = http::HeaderValue::from_str(secret.expose()).map_err(|_| {
                Error::Config(format!("the {header} credential holds characters that cannot go in a header"))
            })?;
            value.set_sensitive(true);
            request = request.header(header, value);
        }
        Ok(match &call.body {
            Body::Empty => request,
            Body::Json(json) => request.header(http::header::CONTENT_TYPE, "application/json").body(json.clone()),
            Body::Multipart(make_form) => request.multipart(make_form()?),
        })
    }

    /// A GET of a URL outside the API (the output CDN), with no credential. reqwest applies a
    /// blocking answer's timeout to each read, so the stall timeout bounds every pause.
    pub(crate) fn download_request(&self, url: reqwest::Url) -> Result<Response, Error> {
        let response = self
            .shared
            .http
            .get(url)
            .header(http::header::USER_AGENT, &self.shared.user_agent)
            .timeout(self.shared.stall_timeout)
            .send()?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(answer::api_error(response, None))
        }
    }
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
