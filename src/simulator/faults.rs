//! Injected faults: what a test can make the simulator do wrong, and on which requests.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::reply::Reply;

/// A misbehaviour the simulator shows on a matching request.
///
/// Every fault except [`Fault::Delay`] and [`Fault::StatusAfterApplying`] answers *instead of*
/// the real handler: the request takes no effect (a faulted `POST /v1/jobs` creates no job).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and the structured error body
    /// `{"error":{"code","message","request_id"}}`; the request takes no effect.
    Status(u16),
    /// Answer `429` with a `Retry-After: <retry_after>` header (seconds) and the structured
    /// error body (code `rate_limited`); the request takes no effect.
    RateLimited {
        /// The value of the `Retry-After` header, in seconds.
        retry_after: u64,
    },
    /// Answer with this status and an HTML page, as a proxy in front of the API does
    /// (for example `502`); the request takes no effect.
    HtmlPage(u16),
    /// Answer with this status and no body at all (`Content-Length: 0`); the request takes no
    /// effect.
    EmptyBody(u16),
    /// Answer with this status and only a top-level `{"message": "..."}` body (no `error`
    /// object), a shape some API answers have; the request takes no effect.
    MessageOnly(u16),
    /// Answer `200` with `Content-Type: application/json` and a JSON document cut off in the
    /// middle; the request takes no effect.
    TruncatedJson,
    /// Handle the request normally, but only after this delay (interrupted when the simulator
    /// stops).
    Delay(Duration),
    /// Handle the request normally — **it takes effect** (a `POST /v1/jobs` creates its job,
    /// webhooks fire) — then throw the answer away and answer this status with the structured
    /// error body. Use it to prove a client does not blindly retry a `POST` the server already
    /// executed.
    StatusAfterApplying(u16),
    /// Answer `504` with the structured error body and the documented code `timeout`, as the
    /// service does when processing a request took too long; the request takes no effect.
    Timeout,
    /// Read the request, then give no answer: the connection is closed, so the client sees a
    /// broken connection and no status, as when a proxy or the network drops it. The request
    /// takes no effect.
    DropConnection,
}

impl Fault {
    /// Whether the real handler runs for a request hit by this fault.
    pub(crate) fn applies_request(&self) -> bool {
        matches!(self, Fault::Delay(_) | Fault::StatusAfterApplying(_))
    }
}

/// Which requests a [`Fault`] hits, and how many times.
///
/// Rules are kept in the order they were injected; a request takes the first rule that matches
/// it and still has uses left. A rule made with [`after(n)`](FaultRule::after) lets the first
/// `n` matching requests that reach it go by untouched (they go on to the later rules). Faults
/// hit the API routes only (`/v1/*`, `/api/*`, `/health`), never the `/outputs/*` files.
///
/// ```
/// # use removebgvideo::simulator::{Fault, FaultRule};
/// let rule = FaultRule::new(Fault::Status(503)).method("POST").path_prefix("/v1/jobs").times(2);
/// // The account runs out of credits after three jobs: the fourth create and every later one get 402.
/// let out_of_credits = FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").after(3).times(u32::MAX);
/// # let _ = (rule, out_of_credits);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct FaultRule {
    pub(crate) fault: Fault,
    pub(crate) method: Option<String>,
    pub(crate) path_prefix: Option<String>,
    pub(crate) times: u32,
    pub(crate) skip: u32,
}

impl FaultRule {
    /// A rule hitting the next request (any method, any API path) once.
    pub fn new(fault: Fault) -> Self {
        FaultRule { fault, method: None, path_prefix: None, times: 1, skip: 0 }
    }

    /// Hit only requests with this method (compared case-insensitively).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Hit only requests whose path starts with `prefix` (for example `/v1/jobs`).
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// Hit the next `n` matching requests (default 1; 0 makes the rule inert).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Let the first `n` matching requests that reach this rule through untouched, then hit
    /// the next ones (default 0).
    pub fn after(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

/// Takes one use of the first rule matching the request, dropping rules that are used up. A
/// matching rule still letting requests through counts this one and passes it on.
pub(crate) fn take(rules: &mut Vec<FaultRule>, method: &str, path: &str) -> Option<Fault> {
    let idx = rules.iter_mut().position(|rule| {
        if !rule.matches(method, path) {
            return false;
        }
        if rule.skip > 0 {
            rule.skip -= 1;
            return false;
        }
        true
    })?;
    let rule = &mut rules[idx];
    rule.times -= 1;
    let fault = rule.fault.clone();
    if rule.times == 0 {
        let _ = rules.remove(idx);
    }
    Some(fault)
}

/// Why a fault specification (see [`FaultRule`]'s `FromStr`) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFaultError {
    spec: String,
    why: String,
}

impl fmt::Display for ParseFaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault {:?}: {}", self.spec, self.why)
    }
}

impl std::error::Error for ParseFaultError {}

/// The syntax [`FaultRule::from_str`] reads, for command-line help.
pub const FAULT_SYNTAX: &str = "A fault is a comma-separated list: one fault, then optional narrowing.
Faults:
  status=CODE          answer CODE with the structured error body (e.g. status=503, status=402)
  rate-limit=SECONDS   answer 429 with Retry-After: SECONDS
  drop                 read the request, then close the connection without an answer
  delay=SECONDS        answer normally after SECONDS (decimals allowed: delay=0.5)
  html=CODE            answer CODE with a proxy's HTML page
  empty=CODE           answer CODE with no body
  message-only=CODE    answer CODE with only {\"message\": ...}
  truncated-json       answer 200 with JSON cut off in the middle
  timeout              answer 504 with the documented code timeout
  after-applying=CODE  handle the request (it takes effect), then answer CODE
Narrowing (all optional):
  method=METHOD        only requests with this method (GET, POST, ...)
  path=PREFIX          only requests whose path starts with PREFIX (e.g. /v1/jobs)
  after=N              let the first N matching requests through untouched
  times=N|always       hit N matching requests (default 1), or every one
Example: --fault status=503,method=POST,path=/v1/jobs,times=2 --fault rate-limit=30,after=5";

impl FromStr for FaultRule {
    type Err = ParseFaultError;

    /// Reads a rule in the syntax of [`FAULT_SYNTAX`], for example
    /// `status=503,method=POST,path=/v1/jobs,times=2`.
    ///
    /// ```
    /// use removebgvideo::simulator::{Fault, FaultRule};
    /// let rule: FaultRule = "rate-limit=30,path=/v1/jobs,after=2,times=always".parse()?;
    /// assert_eq!(
    ///     rule,
    ///     FaultRule::new(Fault::RateLimited { retry_after: 30 }).path_prefix("/v1/jobs").after(2).times(u32::MAX)
    /// );
    /// # Ok::<(), removebgvideo::simulator::ParseFaultError>(())
    /// ```
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let fail = |why: String| ParseFaultError { spec: spec.to_owned(), why };
        let mut fault = None;
        let (mut method, mut path, mut after, mut times) = (None, None, 0, 1);
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
                None => (item.to_ascii_lowercase(), None),
            };
            let need = |what: &str| value.ok_or_else(|| fail(format!("{key} needs a value ({key}={what})")));
            let code = || -> Result<u16, ParseFaultError> {
                let v = need("CODE")?;
                v.parse::<u16>()
                    .ok()
                    .filter(|c| (100..=999).contains(c))
                    .ok_or_else(|| fail(format!("{key}={v}: expected an HTTP status from 100 to 999")))
            };
            let number = |what: &str| -> Result<u32, ParseFaultError> {
                let v = need(what)?;
                v.parse::<u32>().map_err(|_| fail(format!("{key}={v}: expected a whole number")))
            };
            let parsed = match key.as_str() {
                "status" => Some(Fault::Status(code()?)),
                "rate-limit" => Some(Fault::RateLimited { retry_after: u64::from(number("SECONDS")?) }),
                "drop" => Some(Fault::DropConnection),
                "delay" => {
                    let v = need("SECONDS")?;
                    let secs = v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
                    let d = secs
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or_else(|| fail(format!("delay={v}: expected seconds, such as 2 or 0.5")))?;
                    Some(Fault::Delay(d))
                }
                "html" => Some(Fault::HtmlPage(code()?)),
                "empty" => Some(Fault::EmptyBody(code()?)),
                "message-only" => Some(Fault::MessageOnly(code()?)),
                "truncated-json" => Some(Fault::TruncatedJson),
                "timeout" => Some(Fault::Timeout),
                "after-applying" => Some(Fault::StatusAfterApplying(code()?)),
                "method" => {
                    method = Some(need("METHOD")?.to_ascii_uppercase());
                    None
                }
                "path" => {
                    let p = need("PREFIX")?;
                    if !p.starts_with('/') {
                        return Err(fail(format!("path={p}: a path prefix starts with /")));
                    }
                    path = Some(p.to_owned());
                    None
                }
                "after" => {
                    after = number("N")?;
                    None
                }
                "times" => {
                    times = match need("N")? {
                        "always" | "all" => u32::MAX,
                        _ => number("N")?,
                    };
                    None
                }
                other => return Err(fail(format!("unknown item {other:?}; see the fault syntax"))),
            };
            if let Some(parsed) = parsed
                && fault.replace(parsed).is_some()
            {
                return Err(fail("more than one fault; give each its own rule".to_owned()));
            }
        }
        let fault = fault.ok_or_else(|| fail("no fault given (status=, rate-limit=, drop, delay=, ...)".to_owned()))?;
        Ok(FaultRule { fault, method, path_prefix: path, times, skip: after })
    }
}

/// The answer a fault gives instead of (or after) the real handler.
pub(crate) fn reply(fault: &Fault, request_id: &str) -> Reply {
    match fault {
        Fault::Status(status) | Fault::StatusAfterApplying(status) => {
            let status = clamp_status(*status);
            Reply::error(status, code_for(status), &format!("simulated fault: {}", reason(status)), request_id)
        }
        Fault::RateLimited { retry_after } => {
            Reply::error(429, "rate_limited", "simulated fault: too many requests", request_id)
                .with_header("Retry-After", &retry_after.to_string())
        }
        Fault::HtmlPage(status) => {
            let status = clamp_status(*status);
            let title = format!("{status} {}", reason(status));
            let page = format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            Reply::bytes(status, "text/html", page.into_bytes())
        }
        Fault::EmptyBody(status) => Reply::empty(clamp_status(*status)),
        Fault::MessageOnly(status) => {
            let status = clamp_status(*status);
            Reply::json(status, &serde_json::json!({ "message": format!("simulated fault: {}", reason(status)) }))
        }
        Fault::TruncatedJson => {
            Reply::bytes(200, "application/json", br#"{"success":true,"id":"job_0","status":"proce"#.to_vec())
        }
        Fault::Timeout => Reply::error(504, "timeout", "simulated fault: the request timed out", request_id),
        // Not reached: a delay answers through the real handler, a dropped connection not at all.
        Fault::Delay(_) | Fault::DropConnection => Reply::error(500, "internal_error", "delay fault", request_id),
    }
}

fn clamp_status(status: u16) -> u16 {
    if (100..=999).contains(&status) {
        status
    } else {
        500
    }
}

/// The documented error code (`api-reference/responses-errors`) for a status.
pub(crate) fn code_for(status: u16) -> &'static str {
    match status {
        401 | 403 => "invalid_api_key",
        402 => "insufficient_credits",
        404 => "not_found",
        408 | 504 => "timeout",
        429 => "rate_limited",
        500..=599 => "internal_error",
        _ => "invalid_request",
    }
}

/// The usual reason phrase of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_lets_the_first_matching_requests_through_and_passes_them_on() {
        let mut rules = vec![
            FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").after(2).times(2),
            FaultRule::new(Fault::Status(503)).method("POST").path_prefix("/v1/jobs").times(1),
        ];
        // The first request passes the 402 rule (1 of 2 let through) and meets the 503.
        assert_eq!(take(&mut rules, "POST", "/v1/jobs"), Some(Fault::Status(503)));
        assert_eq!(take(&mut rules, "POST", "/v1/jobs"), None);
        assert_eq!(take(&mut rules, "GET", "/v1/jobs/job_1"), None, "not a match: not counted");
        assert_eq!(take(&mut rules, "POST", "/v1/jobs"), Some(Fault::Status(402)));
        assert_eq!(take(&mut rules, "POST", "/v1/jobs"), Some(Fault::Status(402)));
        assert_eq!(take(&mut rules, "POST", "/v1/jobs"), None);
        assert!(rules.is_empty());
    }

    #[test]
    fn a_dropped_connection_gives_the_client_no_status_and_takes_no_effect() {
        let sim = crate::simulator::Simulator::start().unwrap();
        let client = sim.client_builder().max_retries(0).build().unwrap();
        sim.inject(FaultRule::new(Fault::DropConnection).method("POST").path_prefix("/v1/jobs"));
        let error = client.create_job(&crate::CreateJob::new("https://example.com/in.mp4")).unwrap_err();
        assert_eq!(error.status(), None, "{error:?}");
        assert_eq!(sim.job_count(), 0);
        assert!(client.create_job(&crate::CreateJob::new("https://example.com/in.mp4")).is_ok());
    }

    #[test]
    fn a_402_carries_the_insufficient_credits_code() {
        let sim = crate::simulator::Simulator::start().unwrap();
        let client = sim.client().unwrap();
        sim.inject(FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs"));
        let error = client.create_job(&crate::CreateJob::new("https://example.com/in.mp4")).unwrap_err();
        assert_eq!(error.api_error().and_then(crate::ApiError::code_str), Some("insufficient_credits"));
    }
}
