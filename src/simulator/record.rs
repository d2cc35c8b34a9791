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

/// A [`RecordedRequest`] as the log keeps it: its text in one allocation (method, path, query,
/// request id, then each header's name and value, one after another) and its body, so that a
/// request adds, and the oldest one dropped frees, two blocks instead of one per string.
pub(crate) struct LoggedRequest {
    text: Box<str>,
    /// Where each piece of `text` ends: method, path, query, request id, then name and value
    /// of each header.
    ends: Box<[u32]>,
    has_query: bool,
    /// The body's first bytes, without spare capacity: the log's byte bound counts lengths, so
    /// a body kept in a larger block would hold more memory than the bound says.
    pub(crate) body: Box<[u8]>,
    body_len: u64,
}

impl std::fmt::Debug for LoggedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the headers: they hold the keys.
        f.debug_struct("LoggedRequest")
            .field("method", &self.piece(METHOD))
            .field("path", &self.piece(PATH))
            .field("body_len", &self.body_len)
            .finish_non_exhaustive()
    }
}

/// Where the pieces before the headers end in [`LoggedRequest::ends`].
const METHOD: usize = 0;
const PATH: usize = 1;
const QUERY: usize = 2;
const REQUEST_ID: usize = 3;

impl LoggedRequest {
    /// The request as the log keeps it; header values are trimmed and read as UTF-8 (an invalid
    /// byte becoming U+FFFD), as [`RecordedRequest::headers`] shows them.
    pub(crate) fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        request_id: &str,
        headers: &http::HeaderMap,
        body: Vec<u8>,
        body_len: u64,
    ) -> LoggedRequest {
        let heads: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        let mut text =
            String::with_capacity(method.len() + path.len() + query.map_or(0, str::len) + request_id.len() + heads);
        let mut ends = Vec::with_capacity(4 + 2 * headers.len());
        // A head is at most about 128 KiB (see the server's `MAX_HEAD`), so every end fits.
        let mut push = |text: &mut String, piece: &str| {
            text.push_str(piece);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        };
        for piece in [method, path, query.unwrap_or(""), request_id] {
            push(&mut text, piece);
        }
        for (name, value) in headers {
            push(&mut text, name.as_str());
            push(&mut text, String::from_utf8_lossy(value.as_bytes()).trim());
        }
        LoggedRequest {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            has_query: query.is_some(),
            body: body.into_boxed_slice(),
            body_len,
        }
    }

    /// The `index`th piece of the text.
    fn piece(&self, index: usize) -> &str {
        let start = index.checked_sub(1).and_then(|i| self.ends.get(i)).map_or(0, |&end| end as usize);
        let end = self.ends.get(index).map_or(start, |&end| end as usize);
        self.text.get(start..end).unwrap_or("")
    }

    /// The request as [`Simulator::requests`](super::Simulator::requests) gives it.
    pub(crate) fn to_recorded(&self) -> RecordedRequest {
        let headers = (REQUEST_ID + 1..self.ends.len())
            .step_by(2)
            .map(|i| (self.piece(i).to_owned(), self.piece(i + 1).to_owned()))
            .collect();
        RecordedRequest {
            method: self.piece(METHOD).to_owned(),
            path: self.piece(PATH).to_owned(),
            query: self.has_query.then(|| self.piece(QUERY).to_owned()),
            headers,
            body: self.body.to_vec(),
            body_len: self.body_len,
            request_id: self.piece(REQUEST_ID).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_request_gives_back_every_piece_in_order() {
        let mut headers = http::HeaderMap::new();
        headers.append("x-api-key", http::HeaderValue::from_static("sim_test_key"));
        headers.append("accept", http::HeaderValue::from_static("  */*  "));
        headers.append("x-many", http::HeaderValue::from_static("one"));
        headers.append("x-many", http::HeaderValue::from_static(""));
        headers.append("x-bytes", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let logged = LoggedRequest::new("POST", "/v1/jobs", Some("a=1&b="), "req_1", &headers, b"{}".to_vec(), 2);
        let recorded = logged.to_recorded();
        assert_eq!((recorded.method.as_str(), recorded.path.as_str()), ("POST", "/v1/jobs"));
        assert_eq!(recorded.query.as_deref(), Some("a=1&b="));
        assert_eq!(recorded.request_id, "req_1");
        assert_eq!((recorded.body.as_slice(), recorded.body_len), (&b"{}"[..], 2));
        let pairs: Vec<(&str, &str)> = recorded.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("x-api-key", "sim_test_key"),
                ("accept", "*/*"),
                ("x-many", "one"),
                ("x-many", ""),
                ("x-bytes", "caf\u{fffd}")
            ]
        );

        let bare = LoggedRequest::new("GET", "/", None, "", &http::HeaderMap::new(), Vec::new(), 0).to_recorded();
        assert_eq!((bare.query, bare.headers.len(), bare.request_id.as_str()), (None, 0, ""));
        let empty_query = LoggedRequest::new("GET", "/", Some(""), "r", &http::HeaderMap::new(), Vec::new(), 0);
        assert_eq!(empty_query.to_recorded().query.as_deref(), Some(""));
    }
}
