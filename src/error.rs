//! The crate's error type.

use std::path::PathBuf;
use std::time::Duration;

use http::StatusCode;

use crate::{ApiError, Job};

/// Everything that can go wrong in a call. Match on the variant to decide what to do; the
/// helpers ([`status`](Error::status), [`request_id`](Error::request_id),
/// [`is_retryable`](Error::is_retryable), [`is_timeout`](Error::is_timeout)) answer the usual
/// questions without a match.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with a non-2xx status.
    #[error(transparent)]
    Api(#[from] ApiError),

    /// The API answered 2xx, but with a body that is not the expected JSON.
    #[error("the API answered {status} with a body that could not be read ({source}); body starts: {snippet:?}")]
    Decode {
        /// The status of the answer.
        status: StatusCode,
        /// The start of the body.
        snippet: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },

    /// An answer was larger than the crate reads into memory.
    #[error("the answer ({status}) is larger than {limit} bytes and was cut off; no API answer is that large, so check the base URL")]
    AnswerTooLarge {
        /// The status of the answer.
        status: StatusCode,
        /// The limit in bytes.
        limit: u64,
    },

    /// The request did not get an answer: DNS, connection, TLS, timeout or a broken transfer.
    #[error("{}", describe_transport(.0))]
    Transport(#[source] reqwest::Error),

    /// An upload stopped moving for the stall timeout: the connection took no more of the
    /// file, or the whole file went and no answer came. The server may have received it, so
    /// the crate does not send it again on its own.
    #[error("the upload stalled: nothing moved for {stalled_for:?}; it may have arrived, so list your jobs or uploads before sending it again")]
    Stalled {
        /// The stall timeout that ran out.
        stalled_for: std::time::Duration,
    },

    /// An answer broke off while its body was being read.
    #[error("the answer broke off while being read ({0}); retry")]
    BrokenAnswer(#[source] std::io::Error),

    /// A local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the crate was doing, such as "could not read".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An argument was refused before any request was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The client is configured in a way that cannot work (a missing environment variable, a
    /// bad base URL, a plain-http URL to a remote host).
    #[error("configuration error: {0}")]
    Config(String),

    /// A job that [`wait_for_completion`](crate::Client::wait_for_completion) waited for failed.
    #[error("job {} failed: {}", .0.id, .0.error.as_deref().unwrap_or("the service gave no reason"))]
    JobFailed(Box<Job>),

    /// [`wait_for_completion`](crate::Client::wait_for_completion) ran out of time.
    #[error("job {job_id} did not finish within {elapsed:?} (last status: {}); wait longer or poll again later", last_status(.last_seen.as_deref()))]
    WaitTimeout {
        /// The job waited for.
        job_id: String,
        /// How long the wait lasted.
        elapsed: Duration,
        /// The job as last seen, if any poll succeeded.
        last_seen: Option<Box<Job>>,
        /// The error of the last poll, when it failed.
        #[source]
        last_error: Option<Box<Error>>,
    },
}

impl Error {
    /// The HTTP status of the answer behind this error, if there was one.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(error) => Some(error.status()),
            Self::Decode { status, .. } | Self::AnswerTooLarge { status, .. } => Some(*status),
            Self::Transport(error) => error.status(),
            _ => None,
        }
    }

    /// The request id the API gave, if any: quote it to support.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(error) => error.request_id(),
            _ => None,
        }
    }

    /// The structured API error, if this is one.
    #[must_use]
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error),
            _ => None,
        }
    }

    /// How long the server asked to wait before retrying, when it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(ApiError::retry_after)
    }

    /// Whether something timed out: a request, or a wait for a job.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Transport(error) => error.is_timeout(),
            Self::WaitTimeout { .. } | Self::Stalled { .. } => true,
            _ => false,
        }
    }

    /// Whether the same call may succeed if tried again later: a 408, 429 or 5xx answer (500,
    /// 502, 503, 504), or a connection failure or timeout.
    ///
    /// For calls that create something (`create_job`, `upload`, key calls), a retry after a
    /// timeout or 5xx may repeat the action: check first (for example with `list_jobs`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(error) => error.is_retryable(),
            Self::Transport(error) => error.is_connect() || error.is_timeout() || error.is_request() || error.is_body(),
            Self::BrokenAnswer(_) | Self::Stalled { .. } => true,
            _ => false,
        }
    }

    /// The job behind a [`JobFailed`](Error::JobFailed) or the last state seen by a
    /// [`WaitTimeout`](Error::WaitTimeout).
    #[must_use]
    pub fn job(&self) -> Option<&Job> {
        match self {
            Self::JobFailed(job) => Some(job),
            Self::WaitTimeout { last_seen, .. } => last_seen.as_deref(),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

/// An [`Error::InvalidInput`].
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidInput { field, reason: reason.into() }
}

fn describe_transport(error: &reqwest::Error) -> String {
    let target = error.url().map(|url| format!(" {}", url.origin().ascii_serialization())).unwrap_or_default();
    if error.is_timeout() {
        format!("the request to{target} timed out; retry, or raise the timeout")
    } else if error.is_connect() {
        format!("could not connect to{target}; check the base URL and the network")
    } else if error.is_redirect() {
        format!("the answer from{target} redirected too often or to another origin")
    } else if error.is_body() || error.is_request() {
        format!("the transfer to{target} broke off; retry")
    } else if error.is_decode() {
        format!("the answer from{target} could not be decoded")
    } else {
        format!("the request to{target} failed")
    }
}

fn last_status(job: Option<&Job>) -> String {
    match job {
        Some(job) => match job.progress {
            Some(progress) => format!("{} at {progress}%", job.status),
            None => job.status.to_string(),
        },
        None => "never seen".to_owned(),
    }
}
