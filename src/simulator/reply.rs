//! The answer a handler builds, before it becomes an HTTP response.

use serde_json::{json, Value};

/// What the body of an answer is.
pub(crate) enum ReplyBody {
    /// Bytes held in memory.
    Bytes(Vec<u8>),
    /// A file that ships with the crate.
    Static(&'static [u8]),
    /// Bytes shared with the state (an upload).
    Shared(std::sync::Arc<Vec<u8>>),
    /// A generated output file, streamed.
    Output { job_id: String, len: usize },
}

/// One answer: status, headers (besides `X-Request-Id`, added by the server) and body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: ReplyBody,
}

impl Reply {
    /// `status` with a JSON body.
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply::bytes(status, "application/json", body)
    }

    /// `200` with a JSON body.
    pub(crate) fn ok(value: &Value) -> Reply {
        Reply::json(200, value)
    }

    /// `status` with the structured error body.
    pub(crate) fn error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
        Reply::json(status, &json!({ "error": { "code": code, "message": message, "request_id": request_id } }))
    }

    /// `status` with these bytes as a body of `content_type`.
    pub(crate) fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: ReplyBody::Bytes(body),
        }
    }

    /// `status` with no body.
    pub(crate) fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: ReplyBody::Bytes(Vec::new()) }
    }

    /// The same answer with one more header.
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}
