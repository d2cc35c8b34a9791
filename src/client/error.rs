//! The crate's error type.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use http::StatusCode;

use crate::client::api_error::ApiError;
use crate::client::human::human;
use crate::client::redact;
pub use crate::client::transport_error::TransportError;
use crate::models::Job;

/// Everything that can go wrong in a call. Match on the variant to decide what to do; the
/// helpers ([`status`](Error::status), [`request_id`](Error::request_id),
/// [`is_retryable`](Error::is_retryable), [`is_timeout`](Error::is_timeout)) answer the usual
/// questions without a match.
///
/// Each message says what happened once: a variant with a source does not repeat it, so
/// printing the chain (`anyhow`'s `{:#}`) shows every cause exactly once. No message, `Debug`
/// or source shows a credential, a URL's query or a password, whatever the server answers:
/// URLs are reduced to their origin or lose their query, every copy of the request's
/// credential and every value of a credential-like field (`api_key`, `token`, `secret`, ...)
/// quoted from an answer shows as `[redacted]`, and the answer of a call that returns a secret
/// (`create_key`) is not quoted at all. [`job`](Error::job) gives the whole job.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with a non-2xx status. (Boxed: an API error is large, and every
    /// `Result` of the crate carries the size of its largest variant.)
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The API answered 2xx, but with a body that is not the expected JSON.
    #[error(
        "the API answered {status} with a body that could not be read as the expected JSON; body starts: {snippet:?}"
    )]
    Decode {
        /// The status of the answer.
        status: StatusCode,
        /// The start of the body, redacted (URL queries and credential-like values show as
        /// `[redacted]`); empty for an answer that holds a secret, such as `create_key`'s.
        snippet: String,
        /// What the JSON parser said, redacted the same way.
        #[source]
        source: JsonError,
    },

    /// An answer was larger than the crate reads into memory.
    #[error("the answer ({status}) is larger than {limit} bytes and was cut off; no API answer is that large, so check the base URL")]
    AnswerTooLarge {
        /// The status of the answer.
        status: StatusCode,
        /// The limit in bytes.
        limit: u64,
    },

    /// The request did not get a whole answer: DNS, connection, TLS, timeout, or an answer
    /// that broke off. See [`TransportError`]'s predicates.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// A transfer stopped moving for the stall timeout. An upload: the connection took no more
    /// of the file, or the whole file went and no answer came; the server may have received
    /// it, so the crate does not send it again on its own. A download: no byte came; nothing
    /// is left on disk, and downloading again is safe.
    #[error("{}", stalled(*.transfer, *.stalled_for))]
    Stalled {
        /// The upload or the download.
        transfer: Transfer,
        /// The stall timeout that ran out.
        stalled_for: Duration,
    },

    /// The call was cancelled before it finished: the runtime that ran it shut down.
    #[error("the call was cancelled before it finished: the client's runtime shut down")]
    Cancelled,

    /// A local file or reader could not be read or written (also during an upload). Its
    /// message is "could not {action} {path}"; the operating system's error is its source,
    /// never repeated in the message.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What the crate was doing, as a verb phrase that takes the path: "read", "create",
        /// "move the download to".
        action: &'static str,
        /// The file (for a reader, the file name it was uploaded as).
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

    /// The client is configured in a way that cannot work; [`ConfigError`] says how.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The call was not sent: the client's shared back-off (after a 429, or a run of 5xx
    /// answers seen by any call through this client or its clones) holds every call for
    /// longer than the retry policy waits out by itself.
    #[error("every call through this client is paused for another {}, after the API answered 429 or several 5xx; try again then", human(*.retry_after))]
    BackedOff {
        /// How long the pause still lasts.
        retry_after: Duration,
    },

    /// A job that `wait_for_completion` waited for failed. Its message and `Debug` show the
    /// job's URLs without their query; [`Error::job`] gives the whole job.
    #[error("job {} failed: {}", redact::text(&.0.id, &[]), redact::text(.0.error.as_deref().unwrap_or("the service gave no reason"), &[]))]
    JobFailed(Box<Job>),

    /// `wait_for_completion` ran out of time. Its `Debug` shows the last job seen without its
    /// URLs' queries; [`Error::job`] gives the whole job.
    #[error("job {job_id} did not finish within {} (last status: {}); wait longer or poll again later", human(*.elapsed), last_status(.last_seen.as_deref()))]
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

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

/// Which transfer an [`Error::Stalled`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transfer {
    /// An upload (`upload`, `upload_reader`).
    Upload,
    /// A download (`download`, `download_output`).
    Download,
}

fn stalled(transfer: Transfer, stalled_for: Duration) -> String {
    match transfer {
        Transfer::Upload => format!(
            "the upload stalled: nothing moved for {}; it may have arrived, so list your jobs or uploads before \
             sending it again",
            human(stalled_for)
        ),
        Transfer::Download => format!(
            "the download stalled: nothing moved for {}; download it again, or raise the stall timeout",
            human(stalled_for)
        ),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api(error) => f.debug_tuple("Api").field(error).finish(),
            Self::Decode { status, snippet, source } => f
                .debug_struct("Decode")
                .field("status", status)
                .field("snippet", snippet)
                .field("source", source)
                .finish(),
            Self::AnswerTooLarge { status, limit } => {
                f.debug_struct("AnswerTooLarge").field("status", status).field("limit", limit).finish()
            }
            Self::Transport(error) => f.debug_tuple("Transport").field(error).finish(),
            Self::Stalled { transfer, stalled_for } => {
                f.debug_struct("Stalled").field("transfer", transfer).field("stalled_for", stalled_for).finish()
            }
            Self::Cancelled => f.write_str("Cancelled"),
            Self::Io { action, path, source } => {
                f.debug_struct("Io").field("action", action).field("path", path).field("source", source).finish()
            }
            Self::InvalidInput { field, reason } => {
                f.debug_struct("InvalidInput").field("field", field).field("reason", reason).finish()
            }
            Self::Config(error) => f.debug_tuple("Config").field(error).finish(),
            Self::BackedOff { retry_after } => f.debug_struct("BackedOff").field("retry_after", retry_after).finish(),
            // The job as it may be shown: `job()` gives it whole.
            Self::JobFailed(job) => f.debug_tuple("JobFailed").field(&redact::job(job)).finish(),
            Self::WaitTimeout { job_id, elapsed, last_seen, last_error } => f
                .debug_struct("WaitTimeout")
                .field("job_id", job_id)
                .field("elapsed", elapsed)
                .field("last_seen", &last_seen.as_deref().map(redact::job))
                .field("last_error", last_error)
                .finish(),
        }
    }
}

/// Why a 2xx answer could not be read as the expected JSON: the parser's message, redacted
/// like every text the crate quotes from a server, and where in the body it stopped.
///
/// (Boxed inside, so that [`Error`] stays small.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<JsonErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct JsonErrorInner {
    message: String,
    line: usize,
    column: usize,
}

impl JsonError {
    /// The parser's message, with the request's credential, URL queries and credential-like
    /// values hidden.
    pub(crate) fn redacted(error: &serde_json::Error, secrets: &[&[u8]]) -> Self {
        Self::new(redact::text(&error.to_string(), secrets), error)
    }

    /// Only the kind of problem and where: for answers whose values may all be secret (the
    /// parser's message quotes the value it stopped at).
    pub(crate) fn without_text(error: &serde_json::Error) -> Self {
        let kind = match error.classify() {
            serde_json::error::Category::Io => "could not be read",
            serde_json::error::Category::Syntax => "is not valid JSON",
            serde_json::error::Category::Data => "does not have the expected shape",
            serde_json::error::Category::Eof => "ends too early",
        };
        Self::new(format!("the answer {kind} (at line {} column {})", error.line(), error.column()), error)
    }

    fn new(message: String, error: &serde_json::Error) -> Self {
        Self(Box::new(JsonErrorInner { message, line: error.line(), column: error.column() }))
    }

    /// The line (from 1) at which the parser stopped.
    #[must_use]
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The column (from 1) at which the parser stopped.
    #[must_use]
    pub fn column(&self) -> usize {
        self.0.column
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for JsonError {}

/// What is wrong with a client's configuration: refused by `build()` or `from_env()`, before
/// any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required environment variable is not set.
    #[error("the environment variable {name} is not set")]
    MissingEnv {
        /// The variable.
        name: &'static str,
    },
    /// A required environment variable is set but empty (or only spaces).
    #[error("the environment variable {name} is set but empty")]
    EmptyEnv {
        /// The variable.
        name: &'static str,
    },
    /// An environment variable holds bytes that are not UTF-8.
    #[error("the environment variable {name} is not valid UTF-8")]
    NotUnicodeEnv {
        /// The variable.
        name: &'static str,
    },
    /// The base URL cannot be used.
    #[error("the base URL {reason}")]
    InvalidBaseUrl {
        /// Why (never quoting a password).
        reason: String,
    },
    /// The base URL is plain http to a remote host, which would send the credential
    /// unencrypted.
    #[error("the base URL uses plain http to a remote host, which would send the credential unencrypted; use https, or allow it with `allow_insecure_http(true)`")]
    InsecureBaseUrl,
    /// The base URL ends in `/v1`, which every route adds itself.
    #[error("the base URL ends in /v1, but the routes add /v1 themselves; use the origin alone, such as https://api.removebgvideo.com")]
    BaseUrlHasVersionPath,
    /// The API key or admin token cannot be sent.
    #[error("the {which} {reason}")]
    InvalidCredential {
        /// `API key` or `admin token`.
        which: &'static str,
        /// Why, never quoting it.
        reason: &'static str,
    },
    /// The user-agent suffix cannot go in a header.
    #[error("the user-agent suffix {reason}")]
    InvalidUserAgent {
        /// Why.
        reason: &'static str,
    },
    /// The proxy URL cannot be used.
    #[error("the proxy {reason}")]
    InvalidProxy {
        /// Why (never quoting its credentials).
        reason: String,
    },
    /// An extra root certificate cannot be read.
    #[error("a root certificate could not be read: {reason}")]
    InvalidCertificate {
        /// What the TLS library said.
        reason: String,
    },
    /// The HTTP client could not be built (for example, no TLS backend could start).
    #[error("the HTTP client could not be built: {reason}")]
    HttpClient {
        /// What the HTTP library said.
        reason: String,
    },
    /// The blocking clients' runtime could not start (no thread could be spawned).
    #[error("the runtime of the blocking client could not start: {reason}")]
    Runtime {
        /// What the operating system said.
        reason: String,
    },
}

impl Error {
    /// The HTTP status of the answer behind this error, if there was one.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(error) => Some(error.status()),
            Self::Decode { status, .. } | Self::AnswerTooLarge { status, .. } => Some(*status),
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
        match self {
            Self::BackedOff { retry_after } => Some(*retry_after),
            _ => self.api_error().and_then(ApiError::retry_after),
        }
    }

    /// Whether the account is out of credits (a 402, or the code `insufficient_credits`): top
    /// up credits in the dashboard before creating more jobs. Never retried.
    #[must_use]
    pub fn is_insufficient_credits(&self) -> bool {
        self.api_error().is_some_and(ApiError::is_insufficient_credits)
    }

    /// Whether something timed out: a request, a transfer, or a wait for a job.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Transport(error) => error.is_timeout(),
            Self::WaitTimeout { .. } | Self::Stalled { .. } => true,
            _ => false,
        }
    }

    /// Whether the same call may succeed if tried again later: a 408, 429 or 5xx answer (500,
    /// 502, 503, 504), or a connection failure, timeout or broken answer.
    ///
    /// For calls that create something (`create_job`, `upload`, key calls), a retry after a
    /// timeout or 5xx may repeat the action: check first (for example with `list_jobs`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(error) => error.is_retryable(),
            Self::Transport(error) => error.is_transient(),
            Self::Stalled { .. } | Self::BackedOff { .. } => true,
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

/// A request the models refused: the same field and reason.
impl From<crate::models::InvalidInput> for Error {
    fn from(refusal: crate::models::InvalidInput) -> Self {
        Error::InvalidInput { field: refusal.field, reason: refusal.reason }
    }
}

#[cfg(feature = "batch")]
impl crate::models::CreateJob {
    /// The request's own checks, as the client's error: for callers (the batch) that check
    /// before they record a create.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Ok(self.check()?)
    }
}

/// An [`Error::InvalidInput`].
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidInput { field, reason: reason.into() }
}

fn last_status(job: Option<&Job>) -> String {
    match job {
        // A status the crate does not know is the server's text, so it is shown redacted.
        Some(job) => match job.progress {
            Some(progress) => format!("{} at {progress}%", redact::text(job.status.as_str(), &[])),
            None => redact::text(job.status.as_str(), &[]),
        },
        None => "never seen".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_at_most_64_bytes() {
        assert!(std::mem::size_of::<Error>() <= 64, "{} bytes", std::mem::size_of::<Error>());
    }
}
