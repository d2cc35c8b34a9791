//! The API's structured error answer.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::client::redact::{self, SNIPPET_CHARS};
use crate::models::ErrorCode;

/// A non-2xx answer from the API: `{"error": {"code", "message", "request_id"}}`, a
/// message-only body, or a proxy's HTML or empty page.
///
/// [`code`](ApiError::code) is the documented [`ErrorCode`]; the helpers
/// ([`is_insufficient_credits`](ApiError::is_insufficient_credits),
/// [`is_auth_error`](ApiError::is_auth_error), [`is_not_found`](ApiError::is_not_found),
/// [`is_rate_limited`](ApiError::is_rate_limited)) also read the status, so they answer for a
/// proxy's bare page too.
///
/// ```
/// # fn demo(client: &removebgvideo::Client) {
/// use removebgvideo::{Error, ErrorCode};
///
/// match client.get_job("job_123") {
///     Err(Error::Api(err)) if err.is_not_found() => println!("no such job"),
///     Err(Error::Api(err)) if err.is_insufficient_credits() => println!("top up credits"),
///     Err(Error::Api(err)) if err.code() == Some(&ErrorCode::InvalidApiKey) => println!("fix the key"),
///     Err(err) => eprintln!("{err}"),
///     Ok(job) => println!("{}", job.status),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: Option<ErrorCode>,
    message: String,
    request_id: Option<String>,
    body_snippet: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// Reads an error answer. Never fails: a body that is not the API's shape still gives the
    /// status, a message that says what came back, and a snippet of the body. Every text kept
    /// from the body goes through [`redact`], `secrets` (the request's credential) included.
    pub(crate) fn from_answer(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        retry_after: Option<Duration>,
        secrets: &[&[u8]],
    ) -> Self {
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let structured = parsed.as_ref().and_then(|value| value.get("error")).filter(|error| error.is_object());
        let field = |name: &str| -> Option<String> {
            let value = structured.and_then(|error| error.get(name)).or_else(|| parsed.as_ref()?.get(name))?;
            match value {
                Value::String(text) if !text.is_empty() => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            }
        };
        let message = field("message")
            .or_else(|| field("error"))
            .or_else(|| parsed.as_ref().and_then(|value| value.get("detail")).map(detail_text))
            .map(|message| redact::text(&message, secrets))
            .unwrap_or_else(|| describe_unstructured(status, body, parsed.is_some(), secrets));
        let request_id = field("request_id")
            .or_else(|| headers.get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned))
            .map(|id| redact::text(&id, secrets));
        let code = field("code").map(|code| ErrorCode::from(redact::text(&code, secrets)));
        Self { status, code, message, request_id, body_snippet: redact::snippet(body, secrets), retry_after }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The API's error code, such as [`ErrorCode::InsufficientCredits`], when the answer had
    /// one; a code the crate does not know is [`ErrorCode::Other`].
    #[must_use]
    pub fn code(&self) -> Option<&ErrorCode> {
        self.code.as_ref()
    }

    /// The API's error code as sent, such as `insufficient_credits`.
    #[must_use]
    pub fn code_str(&self) -> Option<&str> {
        self.code.as_ref().map(ErrorCode::as_str)
    }

    /// Whether the account has too few credits (code `insufficient_credits` or status 402):
    /// top up credits; retrying does not help.
    #[must_use]
    pub fn is_insufficient_credits(&self) -> bool {
        self.code == Some(ErrorCode::InsufficientCredits) || self.status == StatusCode::PAYMENT_REQUIRED
    }

    /// Whether the service asks to slow down (code `rate_limited` or status 429).
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.code == Some(ErrorCode::RateLimited) || self.status == StatusCode::TOO_MANY_REQUESTS
    }

    /// Whether the credential is missing, wrong, disabled or not allowed (codes
    /// `missing_api_key`, `invalid_api_key`, or status 401 or 403).
    #[must_use]
    pub fn is_auth_error(&self) -> bool {
        matches!(self.code, Some(ErrorCode::MissingApiKey | ErrorCode::InvalidApiKey))
            || matches!(self.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    }

    /// Whether the job or route does not exist for this key (code `not_found` or status 404);
    /// another key's job looks the same.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.code == Some(ErrorCode::NotFound) || self.status == StatusCode::NOT_FOUND
    }

    /// The API's message, or a description of what came back when the body had none.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request id from the body or the `X-Request-Id` header: quote it to support.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The start of the body (at most 300 characters), for logs: every URL's query and every
    /// credential-like field's value (`api_key`, `token`, `secret`, ...) shows as `[redacted]`.
    #[must_use]
    pub fn body_snippet(&self) -> &str {
        &self.body_snippet
    }

    /// How long the server asked to wait (`Retry-After`), when it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether the same request may succeed later: 408, 429, 500, 502, 503 or 504, and never
    /// when the account is out of credits (whatever the status).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        is_retryable_status(self.status) && !self.is_insufficient_credits()
    }

    fn hint(&self) -> Option<&'static str> {
        if self.is_insufficient_credits() {
            return Some(
                "the account is out of credits: top up credits in the RemoveBGVideo dashboard, then try again",
            );
        }
        Some(match self.status.as_u16() {
            401 => "check the API key (REMOVEBGVIDEO_API_KEY) or admin token (REMOVEBGVIDEO_ADMIN_TOKEN)",
            403 => "the credential is valid but not allowed to do this",
            404 => "check the id and the base URL",
            429 => "rate limited: slow down and retry later",
            500..=599 => "the service failed: retry later",
            _ => return None,
        })
    }
}

/// The statuses after which the same request may succeed: 408, 429, 500, 502, 503, 504.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "API error {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id {request_id}]")?;
        }
        if let Some(retry_after) = self.retry_after {
            write!(f, "; retry after {}s", retry_after.as_secs_f64())?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// FastAPI-style `detail`: a string, or a list of validation problems.
fn detail_text(detail: &Value) -> String {
    match detail {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn describe_unstructured(status: StatusCode, body: &[u8], is_json: bool, secrets: &[&[u8]]) -> String {
    let reason = status.canonical_reason().unwrap_or("unknown status");
    if body.iter().all(u8::is_ascii_whitespace) {
        format!("{reason} (empty body)")
    } else if is_json {
        format!("{reason} (JSON body without a message)")
    } else if let Some(title) = html_title(body) {
        format!("{reason} (non-JSON body: an HTML page titled {:?})", redact::text(&title, secrets))
    } else {
        format!("{reason} (non-JSON body: {})", redact::snippet(body, secrets))
    }
}

/// The `<title>` of an HTML page, whitespace collapsed, when the body is one and has a title.
fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title: String = text[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = title.chars().take(SNIPPET_CHARS).collect();
    (!title.is_empty()).then_some(title)
}
