//! When to try a request again, and how long to wait first.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use super::TransportError;
use crate::client::api_error::is_retryable_status;

/// How the client retries transient failures.
///
/// The default retries twice, after the pauses the API's docs advise: 1–2 s before the first
/// retry, 2–4 s before the second, then 4–8 s and at most 8–16 s (each pause drawn in the upper
/// half of its doubling step, so that clients that failed together do not retry together), or
/// what the server's `Retry-After` asks for up to 30 s; past that cap the call returns the
/// error at once, with [`Error::retry_after`](crate::Error::retry_after) set.
///
/// Every value is accepted, `Duration::MAX` and `u32::MAX` included: the arithmetic saturates.
///
/// Reads (`GET`) are retried after 408, 429, 500, 502, 503, 504, connection failures and
/// timeouts. Calls that create or change something (`create_job`, `start_job`, `upload`, the
/// key calls) are retried only where the server certainly did not act: a 429, or a connection
/// that failed before the request was sent. A blind retry after a 5xx or a timeout could create
/// a second job and spend credits twice; [`with_retry_non_idempotent`](Self::with_retry_non_idempotent)
/// opts in to that anyway.
///
/// Its settings are read with the plain name (`max_retries()`) and set with `with_` (as
/// [`Verifier`](crate::webhook::Verifier)'s tolerance): the policy is a value callers both
/// build and read.
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::RetryPolicy;
///
/// let policy = RetryPolicy::default().with_max_retries(4).with_max_backoff(Duration::from_secs(4));
/// assert_eq!(policy.max_retries(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(16),
            max_retry_after: Duration::from_secs(30),
            retry_non_idempotent: false,
        }
    }
}

/// Whether a call may be repeated without repeating its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// A read: repeating it changes nothing.
    Idempotent,
    /// Creates or changes something: repeat only where the server certainly did not act.
    SideEffect,
    /// Its body is a stream that is gone once sent: never repeat.
    NotReplayable,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self::default().with_max_retries(0)
    }

    /// How many times a call is repeated after its first attempt (default 2; 0 turns retries off).
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The step of the first retry (default 2 s, so a pause of 1–2 s); it doubles on each retry.
    pub fn with_initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// The largest step between retries (default 16 s, so a pause of at most 8–16 s).
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest `Retry-After` the client waits out by itself (default 30 s). A longer one
    /// ends the call with the error, its [`retry_after`](crate::Error::retry_after) set.
    pub fn with_max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Also retry calls that create or change something after a 5xx or a timeout (default
    /// `false`). Only turn this on if a duplicate job or key is harmless to you.
    pub fn with_retry_non_idempotent(mut self, retry: bool) -> Self {
        self.retry_non_idempotent = retry;
        self
    }

    /// How many times a call is repeated after its first attempt.
    #[must_use]
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The step of the first retry.
    #[must_use]
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest step between retries.
    #[must_use]
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest `Retry-After` the client waits out by itself.
    #[must_use]
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether calls that create or change something are also retried after a 5xx or a
    /// timeout.
    #[must_use]
    pub fn retries_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// After an answer with a non-2xx `status`.
    pub(crate) fn after_status(
        &self,
        retries_done: u32,
        status: StatusCode,
        retry_after: Option<Duration>,
        safety: Safety,
    ) -> Verdict {
        if retries_done >= self.max_retries || !is_retryable_status(status) {
            return Verdict::GiveUp;
        }
        // A 429 means the server refused before acting, so even a POST is safe to repeat.
        let server_did_not_act = status == StatusCode::TOO_MANY_REQUESTS;
        if !self.may_repeat(safety, server_did_not_act) {
            return Verdict::GiveUp;
        }
        match retry_after {
            Some(wait) if wait > self.max_retry_after => Verdict::GiveUp,
            Some(wait) => Verdict::RetryAfter(wait),
            None => Verdict::RetryAfter(self.backoff(retries_done)),
        }
    }

    /// The range the pause before retry number `retry` (1 for the first) is drawn from: the
    /// upper half of the doubling step, `initial_backoff × 2^(retry-1)` capped at `max_backoff`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use removebgvideo::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default();
    /// assert_eq!(policy.backoff_range(1), Duration::from_secs(1)..=Duration::from_secs(2));
    /// assert_eq!(policy.backoff_range(4), Duration::from_secs(8)..=Duration::from_secs(16));
    /// assert_eq!(policy.backoff_range(9), Duration::from_secs(8)..=Duration::from_secs(16));
    /// ```
    #[must_use]
    pub fn backoff_range(&self, retry: u32) -> std::ops::RangeInclusive<Duration> {
        let doublings = retry.saturating_sub(1);
        let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
        let step = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = step / 2;
        half..=step
    }

    /// After a request that got no whole answer.
    pub(crate) fn after_transport_error(&self, retries_done: u32, error: &TransportError, safety: Safety) -> Verdict {
        if retries_done >= self.max_retries {
            return Verdict::GiveUp;
        }
        // A failed connect never sent the request; anything later may have reached the server.
        if !error.is_transient() || !self.may_repeat(safety, error.is_connect()) {
            return Verdict::GiveUp;
        }
        Verdict::RetryAfter(self.backoff(retries_done))
    }

    fn may_repeat(&self, safety: Safety, server_did_not_act: bool) -> bool {
        match safety {
            Safety::Idempotent => true,
            Safety::SideEffect => server_did_not_act || self.retry_non_idempotent,
            Safety::NotReplayable => false,
        }
    }

    /// The longest `Retry-After` waited out by the client itself.
    pub(crate) fn retry_after_limit(&self) -> Duration {
        self.max_retry_after
    }

    /// Exponential backoff with "equal jitter": half the step is fixed, half random.
    fn backoff(&self, retries_done: u32) -> Duration {
        self.pause(retries_done.saturating_add(1))
    }

    /// The pause before retry number `retry` (1 for the first), drawn from
    /// [`backoff_range`](Self::backoff_range).
    pub(crate) fn pause(&self, retry: u32) -> Duration {
        let range = self.backoff_range(retry);
        let half = *range.start();
        // `half` is at most half of `Duration::MAX`, and the factor below 1: no overflow.
        half.saturating_add(half.mul_f64(fastrand::f64()))
    }
}

/// Reads `Retry-After` as seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}
