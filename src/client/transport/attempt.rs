//! What [`ClientBuilder::on_attempt`](crate::client::ClientBuilder::on_attempt) is told about each
//! HTTP attempt, for metrics: never a URL with ids, a query or a header.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};

use super::Answer;
use crate::client::error::Error;
use crate::client::transport_error::TransportError;

/// One HTTP attempt of an API call, as passed to
/// [`ClientBuilder::on_attempt`](crate::client::ClientBuilder::on_attempt): a retried call reports
/// each of its attempts.
///
/// It names the route as a template (`/v1/jobs/{id}`), never a job id, a query or a
/// credential, so it can label metrics as is.
///
/// ```
/// use removebgvideo::client::AttemptInfo;
/// use removebgvideo::Client;
///
/// let client = Client::builder("my-api-key")
///     .on_attempt(|info: &AttemptInfo| {
///         let outcome = match info.status {
///             Some(status) => status.as_u16().to_string(),
///             None => info.error.unwrap_or("error").to_owned(),
///         };
///         println!("{} {} -> {outcome} (attempt {}, {:?})", info.method, info.route, info.attempt, info.duration);
///     })
///     .build()?;
/// # let _ = client;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptInfo {
    /// The HTTP method.
    pub method: Method,
    /// The route as a template: `/v1/jobs/{id}`, `/v1/jobs`, `/v1/upload`, ...
    pub route: &'static str,
    /// The status of the answer, when one came.
    pub status: Option<StatusCode>,
    /// What went wrong when no answer came: `connect`, `timeout`, `stalled`, `request`,
    /// `body`, `redirect`, `io` or `other`.
    pub error: Option<&'static str>,
    /// 1 for the first attempt of a call, 2 for its first retry, ...
    pub attempt: u32,
    /// How long the attempt took, on the client's [`Clock`](crate::clock::Clock).
    pub duration: Duration,
    /// The `X-Request-Id` the API answered with, if any.
    pub request_id: Option<String>,
}

/// The callback, shared by the clones of a client.
#[derive(Clone)]
pub(crate) struct AttemptObserver(pub(crate) Arc<dyn Fn(&AttemptInfo) + Send + Sync>);

impl fmt::Debug for AttemptObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttemptObserver")
    }
}

/// The status or the kind of error of an attempt's outcome.
pub(crate) fn outcome_of(outcome: &Result<Answer, Error>) -> (Option<StatusCode>, Option<&'static str>) {
    match outcome {
        Ok(answer) => (Some(answer.status), None),
        Err(Error::Transport(error)) => (None, Some(transport_kind(error))),
        Err(Error::Stalled { .. }) => (None, Some("stalled")),
        Err(Error::Io { .. }) => (None, Some("io")),
        Err(error) => (error.status(), error.status().is_none().then_some("other")),
    }
}

fn transport_kind(error: &TransportError) -> &'static str {
    if error.is_connect() {
        "connect"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_body() {
        "body"
    } else if error.is_request() {
        "request"
    } else if error.is_redirect() {
        "redirect"
    } else {
        "other"
    }
}

/// The request id of an answer.
pub(crate) fn request_id(outcome: &Result<Answer, Error>) -> Option<String> {
    let answer = outcome.as_ref().ok()?;
    answer.headers.get("x-request-id")?.to_str().ok().map(str::to_owned)
}
