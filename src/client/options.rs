//! Per-call options: `client.with_options(..)` gives the same calls with another timeout,
//! retry policy or extra headers, on the same connection pool and shared back-off.

use std::fmt;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::{invalid, Error};
use crate::client::transport::retry::RetryPolicy;
use crate::client::transport::Overrides;

/// Headers an extra header may not set: the credentials, and what the crate sets for each body
/// or connection itself.
const RESERVED: [&str; 8] = [
    "x-api-key",
    "x-admin-token",
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "user-agent",
];

/// Settings for some calls of a client, over its own: see [`AsyncClient::with_options`] and
/// [`Client::with_options`].
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::client::RequestOptions;
/// use removebgvideo::{Client, RetryPolicy};
///
/// let client = Client::new("my-api-key")?;
/// let patient = client.with_options(
///     RequestOptions::new()
///         .timeout(Duration::from_secs(120))
///         .retry_policy(RetryPolicy::default().with_max_retries(5))
///         .header("X-Correlation-Id", "order-1234"),
/// )?;
/// # let _ = patient;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct RequestOptions {
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    max_retries: Option<u32>,
    headers: Vec<(String, String)>,
}

impl RequestOptions {
    /// No change yet: the client's own settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The limit on each API call, as [`ClientBuilder::timeout`](crate::client::ClientBuilder::timeout)
    /// (zero is refused).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How these calls retry, instead of the client's policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// How many times these calls are repeated after their first attempt; overrides the
    /// policy's count, whichever is set first.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// An extra header on every API call (never on downloads from the output host). It may not
    /// set `X-Api-Key`, `X-Admin-Token`, `Content-Type` or a header the crate sets itself
    /// (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `User-Agent`), and its
    /// value may not hold a control character (CR, LF), as the user-agent suffix. Checked by
    /// `with_options`; a name given twice sends both values.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The checked overrides, over `base` (the policy of the client they apply to).
    fn overrides(&self, base: &RetryPolicy) -> Result<Overrides, Error> {
        if self.timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(invalid("timeout", "must be more than zero, or every request would time out at once"));
        }
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            let (name, value) = checked_header(name, value)?;
            headers.append(name, value);
        }
        let retry = match (&self.retry, self.max_retries) {
            (None, None) => None,
            (policy, Some(max_retries)) => {
                Some(policy.clone().unwrap_or_else(|| base.clone()).with_max_retries(max_retries))
            }
            (Some(policy), None) => Some(policy.clone()),
        };
        Ok(Overrides { timeout: self.timeout, retry, headers })
    }
}

/// A header as it may be sent; its value is never quoted (it may be a token).
fn checked_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| invalid("header", format!("{name:?} is not a valid header name")))?;
    if RESERVED.contains(&name.as_str()) {
        return Err(invalid("header", format!("{name} is set by the client itself and cannot be replaced")));
    }
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(invalid(
            "header",
            format!("the value of {name} holds a control character (such as CR or LF), which cannot go in a header"),
        ));
    }
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| invalid("header", format!("the value of {name} holds characters that cannot go in a header")))?;
    // It may be a token: kept out of the HTTP library's logs.
    value.set_sensitive(true);
    Ok((name, value))
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("max_retries", &self.max_retries)
            .field("headers", &names)
            .finish()
    }
}

impl AsyncClient {
    /// The same client with other settings for its calls: a timeout, a retry policy, extra
    /// headers. For one call (`client.with_options(..)?.get_job(id)`) or a group of calls (keep
    /// the handle). It shares this client's connection pool and its back-off; settings not
    /// given stay this client's. Options given to a client made this way replace its options
    /// wholesale, over the original client's settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero timeout or a header that cannot be sent (see
    /// [`RequestOptions::header`]).
    pub fn with_options(&self, options: RequestOptions) -> Result<Self, Error> {
        let overrides = options.overrides(self.transport.base_retry_policy())?;
        Ok(self.with_transport(self.transport.with_overrides(overrides)))
    }
}

impl Client {
    /// The same client with other settings for its calls; see [`AsyncClient::with_options`].
    ///
    /// # Errors
    /// As [`AsyncClient::with_options`].
    pub fn with_options(&self, options: RequestOptions) -> Result<Self, Error> {
        Ok(Self::from_parts(self.inner.with_options(options)?, self.runtime.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_framing_headers_cannot_be_replaced() {
        for name in ["X-Api-Key", "x-admin-token", "Content-Type", "Host", "content-length"] {
            let options = RequestOptions::new().header(name, "x");
            assert!(options.overrides(&RetryPolicy::default()).is_err(), "{name}");
        }
        let bad_value = RequestOptions::new().header("X-Trace", "a\r\nX-Api-Key: stolen");
        let error = bad_value.overrides(&RetryPolicy::default()).unwrap_err().to_string();
        assert!(error.contains("control character") && !error.contains("stolen"), "{error}");
        let fine = RequestOptions::new().header("X-Trace", "abc").header("x-trace", "def");
        assert_eq!(fine.overrides(&RetryPolicy::default()).unwrap().headers.get_all("x-trace").iter().count(), 2);
    }

    #[test]
    fn max_retries_applies_over_the_clients_policy() {
        let base = RetryPolicy::default().with_max_backoff(Duration::from_secs(3));
        let overrides = RequestOptions::new().max_retries(7).overrides(&base).unwrap();
        assert_eq!(overrides.retry, Some(base.with_max_retries(7)));
        assert!(RequestOptions::new().timeout(Duration::ZERO).overrides(&RetryPolicy::default()).is_err());
    }
}
