//! The request log: what the simulator saw of every request.

use std::io::{self, Read};

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
    /// Every header in the order received, names as sent.
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
        super::routes::query_param(self.query.as_deref(), name)
    }
}

/// Wraps the request body: counts every byte and keeps the first [`CAPTURE_LIMIT`].
pub(crate) struct RecordingReader<'a> {
    inner: &'a mut dyn Read,
    pub(crate) captured: Vec<u8>,
    pub(crate) total: u64,
}

impl<'a> RecordingReader<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read) -> Self {
        RecordingReader { inner, captured: Vec::new(), total: 0 }
    }

    /// Reads and discards the rest of the body.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }
}

impl Read for RecordingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        let room = CAPTURE_LIMIT.saturating_sub(self.captured.len());
        if room > 0 {
            self.captured.extend_from_slice(&buf[..n.min(room)]);
        }
        Ok(n)
    }
}
