//! The typed form of a verified delivery, read leniently from a body whose exact shape the API
//! does not document.

use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{WebhookError, WebhookHeaders, HEADER_DELIVERY_ID, HEADER_EVENT};
use crate::models::JobStatus;
use crate::string_enum::string_enum;

string_enum! {
    /// What happened to a job. Kinds this crate does not know yet are kept in
    /// [`EventKind::Other`].
    pub enum EventKind {
        /// Processing has begun.
        JobStarted => "job.started",
        /// The job finished; the output URL is set.
        JobCompleted => "job.completed",
        /// The job finished without output; the error says why.
        JobFailed => "job.failed",
    }
}

/// A verified webhook delivery.
///
/// The API sends `{"event": "job.completed", "data": {"id": ..., "status": ..., ...}}`. The job
/// fields are read from the nested `data` (or `job`) object first, then from the top level of the
/// body; each is `None` when absent or of an unexpected type. The whole body stays available in
/// [`payload`](Self::payload), unknown fields included.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event kind, from the `X-Webhook-Event` header or else the body's `event` or `type`.
    pub kind: EventKind,
    /// The `X-Webhook-Delivery-Id` header (or else a `delivery_id` body field). A retried
    /// delivery keeps its id: use it to process each delivery once. The header is not covered by
    /// the signature.
    pub delivery_id: Option<String>,
    /// The `X-Webhook-Timestamp` header exactly as sent and signed, e.g.
    /// `2026-04-20T10:00:00.123Z` (or unix seconds from older senders). The time it names is
    /// [`signed_at`](Self::signed_at).
    pub timestamp_header: String,
    /// The job's id (`job_id`, or else `id`).
    pub job_id: Option<String>,
    /// The job's status.
    pub status: Option<JobStatus>,
    /// The job's progress, 0 to 100.
    pub progress: Option<f64>,
    /// Where the output can be downloaded, once completed.
    pub output_url: Option<String>,
    /// Why the job failed (a string, or the `message` of an error object).
    pub error: Option<String>,
    /// The body as parsed, with every field the server sent.
    pub payload: Value,
    /// The time `timestamp_header` names, parsed once when the delivery was verified.
    signed_at: SystemTime,
}

impl WebhookEvent {
    /// When the API signed the delivery: the time the `X-Webhook-Timestamp` header names, with
    /// its fraction of a second. Never panics, whatever was signed.
    #[must_use]
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }
}

/// The verified `X-Webhook-Timestamp`: the time it names and its text as sent.
pub(crate) struct SignedTime {
    pub(crate) at: SystemTime,
    pub(crate) text: String,
}

/// Builds the event from a body whose signature has already been verified.
pub(crate) fn event_from_verified_body<H: WebhookHeaders + ?Sized>(
    headers: &H,
    body: &[u8],
    signed: SignedTime,
) -> Result<WebhookEvent, WebhookError> {
    let payload: Value =
        serde_json::from_slice(body).map_err(|error| WebhookError::InvalidPayload { reason: error.to_string() })?;
    let Value::Object(top) = &payload else {
        return Err(WebhookError::InvalidPayload { reason: "expected a JSON object".to_owned() });
    };

    let kind = event_kind(headers, top)?;
    let delivery_id = match headers.get_header(HEADER_DELIVERY_ID) {
        Some(id) => Some(id.into_owned()),
        None => string_field(top, "delivery_id"),
    };

    // The documented envelope is `{"event", "data": {...}}`; a nested object names the job more
    // specifically than the envelope around it, so it is searched first: in
    // `{"id": "evt_1", "data": {"id": "job_1"}}` the top-level id is the event's, not the job's.
    let sources: Vec<&Map<String, Value>> =
        [top.get("data"), top.get("job")].into_iter().flatten().filter_map(Value::as_object).chain([top]).collect();
    Ok(WebhookEvent {
        kind,
        delivery_id,
        timestamp_header: signed.text,
        signed_at: signed.at,
        job_id: first_found(&sources, |source| id_field(source, "job_id").or_else(|| id_field(source, "id"))),
        status: first_found(&sources, |source| string_field(source, "status")).map(JobStatus::from),
        progress: first_found(&sources, progress_field),
        output_url: first_found(&sources, |source| string_field(source, "output_url")),
        error: first_found(&sources, error_field),
        payload,
    })
}

/// The header names the kind; the body's `event` (or `type`) is the fallback. The header is not
/// signed, so when the signed `event` field is present too, the two must agree.
fn event_kind<H: WebhookHeaders + ?Sized>(headers: &H, top: &Map<String, Value>) -> Result<EventKind, WebhookError> {
    let signed_event = string_field(top, "event");
    match (headers.get_header(HEADER_EVENT), signed_event) {
        (Some(header), Some(body)) if header != body => {
            Err(WebhookError::EventKindMismatch { header: header.into_owned(), body })
        }
        (Some(header), _) => Ok(EventKind::from(header.as_ref())),
        (None, Some(body)) => Ok(EventKind::from(body)),
        (None, None) => string_field(top, "type").map(EventKind::from).ok_or(WebhookError::MissingEventKind),
    }
}

/// The first value `read` finds, trying the sources in order.
fn first_found<T>(sources: &[&Map<String, Value>], read: impl Fn(&Map<String, Value>) -> Option<T>) -> Option<T> {
    sources.iter().find_map(|source| read(source))
}

fn string_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key)?.as_str().map(str::to_owned)
}

/// An id may arrive as a string or, from some servers, as a number.
fn id_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one; non-finite values are dropped.
fn progress_field(object: &Map<String, Value>) -> Option<f64> {
    let progress = match object.get("progress")? {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    progress.is_finite().then_some(progress)
}

/// A string, or the `message` of an object such as `{"code": ..., "message": ...}`.
fn error_field(object: &Map<String, Value>) -> Option<String> {
    match object.get("error")? {
        Value::String(message) => Some(message.clone()),
        Value::Object(error) => string_field(error, "message"),
        _ => None,
    }
}
