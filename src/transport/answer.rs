//! Reading answers with a bound, so a broken or hostile server cannot exhaust memory.

use std::io::Read;

use reqwest::blocking::Response;
use serde::de::DeserializeOwned;

use crate::api_error::snippet;
use crate::{ApiError, Error};

/// No real answer of this API comes near this size; anything larger is cut off.
pub(crate) const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// How much of a discarded answer is read so the connection can go back to the pool.
pub(crate) const DRAIN_BYTES: u64 = 64 * 1024;

/// A whole answer, its body read with a bound.
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// Decodes a 2xx answer.
    pub(crate) fn decode<T: DeserializeOwned>(self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            status: self.status,
            snippet: snippet(&self.body),
            source,
        })
    }

    /// Turns a non-2xx answer into an [`ApiError`].
    pub(crate) fn into_error(self, retry_after: Option<std::time::Duration>) -> Error {
        ApiError::from_answer(self.status, &self.headers, &self.body, retry_after).into()
    }
}

/// The error for an answer over [`MAX_ANSWER_BYTES`].
pub(crate) fn too_large(status: http::StatusCode) -> Error {
    Error::AnswerTooLarge { status, limit: MAX_ANSWER_BYTES }
}

/// Reads the whole body of an answer, at most [`MAX_ANSWER_BYTES`].
pub(crate) fn read_bounded(response: Response) -> Result<Answer, Error> {
    let status = response.status();
    let headers = response.headers().clone();
    if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES) {
        return Err(too_large(status));
    }
    let mut body = Vec::new();
    response.take(MAX_ANSWER_BYTES + 1).read_to_end(&mut body).map_err(read_error)?;
    if body.len() as u64 > MAX_ANSWER_BYTES {
        return Err(too_large(status));
    }
    Ok(Answer { status, headers, body })
}

/// Decodes a 2xx answer.
pub(crate) fn decode<T: DeserializeOwned>(response: Response) -> Result<T, Error> {
    read_bounded(response)?.decode()
}

/// Turns a non-2xx answer into an [`ApiError`].
pub(crate) fn api_error(response: Response, retry_after: Option<std::time::Duration>) -> Error {
    match read_bounded(response) {
        Ok(answer) => answer.into_error(retry_after),
        Err(error) => error,
    }
}

/// Reads and drops a little of an answer that will not be used, so that a small body does not
/// cost a new connection.
pub(crate) fn drain(response: Response) {
    let _ = std::io::copy(&mut response.take(DRAIN_BYTES), &mut std::io::sink());
}

/// A failed read of a body: reqwest wraps its own error in the `io::Error`; unwrap it so the
/// caller gets the transport error with its kind (timeout, connection) intact.
pub(crate) fn read_error(error: std::io::Error) -> Error {
    let kind = error.kind();
    match error.into_inner() {
        Some(inner) => match inner.downcast::<reqwest::Error>() {
            Ok(transport) => Error::Transport(*transport),
            Err(other) => Error::BrokenAnswer(std::io::Error::new(kind, other)),
        },
        None => Error::BrokenAnswer(std::io::Error::from(kind)),
    }
}
