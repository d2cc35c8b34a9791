//! The request log: what the simulator saw of every request.

/// How many body bytes a [`RecordedRequest`] keeps.
pub(crate) const CAPTURE_LIMIT: usize = 64 * 1024;

/// One request as the simulator received it, kept in [`Simulator::requests`](super::Simulator::requests).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, upper case (`GET`, `POST`, ...).
    pub method: String,
    /// The path without the query string, as sent (not percent-decoded).
    pub path: String,
    /// The raw query string after `?`, if the URL had one.
    pub query: Option<String>,
    /// Every header in the order received, names in lower case (as HTTP/2 and hyper write them).
    pub headers: Vec<(String, String)>,
    /// The first 64 KiB of the body.
    pub body: Vec<u8>,
    /// The full length of the body in bytes (uploads are counted, not kept).
    pub body_len: u64,
    /// The `X-Request-Id` the simulator answered this request with.
    pub request_id: String,
}

impl RecordedRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, or `None` when it is not (or was cut at 64 KiB).
    #[must_use]
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The value of the query parameter `name`, percent-decoded.
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<String> {
        super::query::param(self.query.as_deref(), name)
    }
}
