//! Reading answers with a bound, so a broken or hostile server cannot exhaust memory.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use serde::de::DeserializeOwned;

use crate::client::api_error::ApiError;
use crate::client::error::{Error, JsonError};
use crate::client::redact;

/// No real answer of this API comes near this size; anything larger is cut off.
pub(crate) const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// What an echoed credential is replaced with.
const REDACTED: &[u8] = redact::REDACTED.as_bytes();

/// A whole answer, its body read with a bound.
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    pub(crate) headers: http::HeaderMap,
    /// The bytes as the HTTP library handed them over: an answer that came in one piece, as
    /// nearly every API answer does, is not copied.
    pub(crate) body: Bytes,
}

impl Answer {
    /// Decodes a 2xx answer. The error quotes the body only as [`redact`] shows it, and not
    /// at all for an answer that `reveals_secret` (a new API key): no redaction could know
    /// which of its values is the secret once its shape changed.
    /// The client's own credential is blanked out of the body first: no answer needs to quote
    /// it, and a value read from the body (a failed job's reason) may end up in an error.
    pub(crate) fn decode<T: DeserializeOwned>(
        mut self,
        credential: Option<&HeaderValue>,
        reveals_secret: bool,
    ) -> Result<T, Error> {
        if let Some(credential) = credential {
            redact(&mut self.body, credential.as_bytes());
        }
        serde_json::from_slice(&self.body).map_err(|error| {
            let secrets: Vec<&[u8]> = credential.map(HeaderValue::as_bytes).into_iter().collect();
            let (snippet, source) = if reveals_secret {
                (String::new(), JsonError::without_text(&error))
            } else {
                (redact::snippet(&self.body, &secrets), JsonError::redacted(&error, &secrets))
            };
            Error::Decode { status: self.status, snippet, source }
        })
    }

    /// Turns a non-2xx answer into an [`ApiError`]. A server that quotes the credential back
    /// ("invalid key sk_...") does not get it into the error: it is blanked out of the body
    /// before the body is read.
    pub(crate) fn into_error(mut self, retry_after: Option<Duration>, credential: Option<&HeaderValue>) -> Error {
        let secrets: Vec<&[u8]> = credential.map(HeaderValue::as_bytes).into_iter().collect();
        if let Some(credential) = credential {
            redact(&mut self.body, credential.as_bytes());
        }
        ApiError::from_answer(self.status, &self.headers, &self.body, retry_after, &secrets).into()
    }
}

/// `body` with every occurrence of `secret` replaced; untouched (no copy) when it holds none,
/// as nearly every answer does.
fn redact(body: &mut Bytes, secret: &[u8]) {
    let Some(first) = find(body, secret) else {
        return;
    };
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..first]);
    let mut at = first;
    while let Some(found) = find(&body[at..], secret) {
        out.extend_from_slice(&body[at..at + found]);
        out.extend_from_slice(REDACTED);
        at += found + secret.len();
    }
    out.extend_from_slice(&body[at..]);
    *body = out.into();
}

/// Where `secret` first occurs in `body`: a scan for its first byte, then a comparison at each
/// hit. (A credential is short and its first byte rare enough in JSON; a searcher built per
/// answer would cost more than the scan.)
fn find(body: &[u8], secret: &[u8]) -> Option<usize> {
    let (&head, _) = secret.split_first()?;
    memchr::memchr_iter(head, body).find(|&at| body[at..].starts_with(secret))
}

/// The error for an answer over [`MAX_ANSWER_BYTES`].
fn too_large(status: http::StatusCode) -> Error {
    Error::AnswerTooLarge { status, limit: MAX_ANSWER_BYTES }
}

/// Reads the whole body of an answer, at most [`MAX_ANSWER_BYTES`]; an error of the HTTP
/// library is reported at `origin` (any URL of the answer's origin).
pub(crate) async fn read_bounded(mut response: reqwest::Response, origin: &url::Url) -> Result<Answer, Error> {
    let status = response.status();
    if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES) {
        return Err(too_large(status));
    }
    // The first piece is kept as it came; only a body in several pieces is gathered.
    let mut first = Bytes::new();
    let mut gathered = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| super::transport(error, origin))? {
        let length = first.len() + gathered.len() + chunk.len();
        if u64::try_from(length).map_or(true, |length| length > MAX_ANSWER_BYTES) {
            return Err(too_large(status));
        }
        if first.is_empty() && gathered.is_empty() {
            first = chunk;
        } else {
            if gathered.is_empty() {
                gathered.extend_from_slice(&std::mem::take(&mut first));
            }
            gathered.extend_from_slice(&chunk);
        }
    }
    let body = if gathered.is_empty() { first } else { gathered.into() };
    Ok(Answer { status, headers: std::mem::take(response.headers_mut()), body })
}

#[cfg(test)]
mod tests {
    use super::redact;

    fn redacted(body: &[u8], secret: &[u8]) -> Vec<u8> {
        let mut body = bytes::Bytes::copy_from_slice(body);
        redact(&mut body, secret);
        body.to_vec()
    }

    #[test]
    fn every_copy_of_the_credential_is_blanked_out() {
        assert_eq!(redacted(b"bad key sk_1 (sk_1)", b"sk_1"), b"bad key [redacted] ([redacted])");
        assert_eq!(redacted(b"sk_1sk_1", b"sk_1"), b"[redacted][redacted]");
        assert_eq!(redacted(b"sk_sk_1_", b"sk_1"), b"sk_[redacted]_");
        assert_eq!(redacted(b"nothing here", b"sk_1"), b"nothing here");
        assert_eq!(redacted(b"sk", b"sk_1"), b"sk");
        assert_eq!(redacted(b"any", b""), b"any");
    }
}
