//! Verifying the webhooks the API sends, with no HTTP client and no network access.
//!
//! Given a `webhook_url`, the API POSTs `job.started`, `job.completed` and `job.failed` events to
//! it. Each delivery carries four headers:
//!
//! | header | value |
//! |---|---|
//! | [`X-Webhook-Event`](HEADER_EVENT) | the event kind, e.g. `job.completed` |
//! | [`X-Webhook-Delivery-Id`](HEADER_DELIVERY_ID) | an id that a retried delivery keeps |
//! | [`X-Webhook-Timestamp`](HEADER_TIMESTAMP) | the signing time, ISO 8601, e.g. `2026-04-20T10:00:00.123Z` |
//! | [`X-Webhook-Signature`](HEADER_SIGNATURE) | `sha256=` + hex HMAC-SHA256(secret, timestamp + `.` + raw body) |
//!
//! A [`Verifier`] checks the signature in constant time against one or more secrets, refuses
//! deliveries signed more than five minutes ago (or ahead), and parses the body into a
//! [`WebhookEvent`]. Anything it refuses comes back as a [`WebhookError`] saying why, and
//! [`WebhookError::http_status`] says what to answer.
//!
//! # Timestamps
//!
//! The API writes `X-Webhook-Timestamp` as ISO 8601. The verifier accepts what ISO 8601 / RFC 3339
//! producers write: `2026-04-20T10:00:00Z`, `2026-04-20T10:00:00+00:00` (any offset), fractional
//! seconds (`2026-04-20T10:00:00.123Z`, `2026-04-20T10:00:00.123456+00:00`) and a time with no
//! zone, read as UTC (`2026-04-20T10:00:00`, what Python's `datetime.utcnow().isoformat()`
//! writes); and unix seconds (digits only, `1776679200`), which earlier senders used. Anything
//! else is [`WebhookError::InvalidTimestamp`]. The signature covers the header text exactly as
//! sent, which [`WebhookEvent::timestamp_header`] keeps; the time it names is
//! [`WebhookEvent::signed_at`].
//!
//! This module needs none of the crate's HTTP client: it also builds with
//! `default-features = false`.
//!
//! # Verifying a delivery
//!
//! ```rust
//! use std::time::{Duration, UNIX_EPOCH};
//! use removebgvideo::webhook::{self, EventKind, Verifier};
//! use removebgvideo::JobStatus;
//!
//! // What the API would send (here signed by hand; `signed_headers` is there for tests).
//! let body = br#"{"event":"job.completed","data":{"id":"job_1","status":"completed","progress":100}}"#;
//! let signed_at = UNIX_EPOCH + Duration::from_secs(1_776_679_200); // 2026-04-20T10:00:00Z
//! let headers = webhook::signed_headers("whsec_example", "job.completed", "dlv_1", signed_at, body)?;
//!
//! // What your handler does: build the verifier once, then verify every request.
//! let verifier = Verifier::new("whsec_example")?;
//! // `construct_event(&headers, body)` checks the age against the real clock; here a fixed
//! // "now" ten seconds after signing keeps the example deterministic.
//! let now = signed_at + Duration::from_secs(10);
//! let event = verifier.construct_event_at(&headers, body, now)?;
//!
//! assert_eq!(event.kind, EventKind::JobCompleted);
//! assert_eq!(event.job_id.as_deref(), Some("job_1"));
//! assert_eq!(event.status, Some(JobStatus::Completed));
//! assert_eq!(event.delivery_id.as_deref(), Some("dlv_1"));
//! assert_eq!(event.timestamp_header, "2026-04-20T10:00:00.000Z");
//! assert_eq!(event.signed_at(), signed_at);
//!
//! // One changed byte and the delivery is refused.
//! let forged = br#"{"event":"job.completed","data":{"id":"job_2","status":"completed","progress":100}}"#;
//! assert!(verifier.construct_event_at(&headers, forged, now).is_err());
//! # Ok::<(), removebgvideo::webhook::WebhookError>(())
//! ```
//!
//! Headers can come from an [`http::HeaderMap`] or from plain `(name, value)` pairs, slices,
//! `Vec`s and maps; names are matched case-insensitively (see [`WebhookHeaders`]).
//!
//! # Verify the raw body, not parsed JSON
//!
//! The signature covers the body's exact bytes. JSON that was parsed and serialized again has
//! other whitespace or key order and no longer matches, so take the body as bytes
//! (`axum::body::Bytes`, `actix_web::web::Bytes`, `Vec<u8>`), never through a `Json<T>`
//! extractor, verify it, and only then read it, from [`WebhookEvent`] or with
//! `serde_json::from_slice`.
//!
//! ## axum
//!
//! With the `axum` feature, the `axum::VerifiedWebhook` extractor does all of this: it reads
//! the raw body and the headers, verifies them with the [`Verifier`] in the app state, and hands
//! the handler a [`WebhookEvent`], or answers 400 (malformed) or 401 (bad signature, stale) with
//! the reason as a plain-text body. The feature needs none of the crate's HTTP client
//! (`default-features = false, features = ["axum"]`); the `axum` module shows a router.
//!
//! ## actix-web
//!
//! actix-web 4 has its own header map type, so hand the verifier the headers as pairs.
//!
//! ```rust,ignore
//! use actix_web::{post, web, HttpRequest, HttpResponse};
//! use removebgvideo::webhook::Verifier;
//!
//! #[post("/webhooks/removebgvideo")]
//! async fn receive(req: HttpRequest, body: web::Bytes, verifier: web::Data<Verifier>) -> HttpResponse {
//!     let headers: Vec<(&str, &str)> = req
//!         .headers()
//!         .iter()
//!         .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
//!         .collect();
//!     match verifier.construct_event(&headers, &body) {
//!         Ok(event) => {
//!             println!("{} for job {:?}", event.kind, event.job_id);
//!             HttpResponse::Ok().body("ok")
//!         }
//!         Err(error) if error.http_status() == 401 => HttpResponse::Unauthorized().body(error.to_string()),
//!         Err(error) => HttpResponse::BadRequest().body(error.to_string()),
//!     }
//! }
//! ```
//!
//! # Why the timestamp tolerance
//!
//! A valid signature proves the server signed the body once; it does not prove the request is
//! new. Whoever sees one delivery (a log, a proxy, a leaked capture) could send it again and
//! again. The signature also covers the timestamp, so refusing timestamps far from the current
//! time caps that window. The default is 300 seconds either way, which absorbs clock skew and
//! queueing. It is measured between the instant the header names (fraction included, offset
//! applied) and now, in whole seconds; both edges pass, so a delivery exactly 300 s old is
//! accepted and one 301 s old is [`TooOld`](WebhookError::TooOld) (one 301 s ahead is
//! [`InFuture`](WebhookError::InFuture)). No timestamp, tolerance or clock reading, however
//! extreme, makes the check panic. Change it with [`Verifier::with_tolerance`]; check against
//! another time (a delivery taken from a queue, a test) with [`Verifier::verify_at`]. Skipping the
//! check takes an explicit call to [`Verifier::verify_ignoring_age`] or
//! [`Verifier::construct_event_ignoring_age`]; no tolerance value turns it off.
//!
//! # Processing each delivery once
//!
//! The API retries a delivery it thinks failed, with the same `X-Webhook-Delivery-Id`
//! ([`WebhookEvent::delivery_id`]). Remember the ids you have handled (a bounded set or a unique
//! database column suffices, since retries come within minutes), and answer a repeat with a 2xx
//! without acting on it again, so the server stops retrying. Record an id only once its handling
//! succeeded. The id header is not signed: deduplication protects you from retries, and the
//! tolerance from replays. (To also refuse a replay inside the window, remember the signatures
//! you accepted for as long as the tolerance, as they are unique per timestamp and body.)
//! `examples/webhook_receiver.rs` does all of this with a small blocking server.
//!
//! # Rotating the secret
//!
//! A [`Verifier`] holds several secrets and accepts a signature made with any of them. Add the new
//! secret next to the old one, switch the server over, and drop the old one once no delivery
//! signed with it can still arrive.
//!
//! ```rust
//! use removebgvideo::webhook::Verifier;
//!
//! let verifier = Verifier::with_secrets(["whsec_new", "whsec_old"])?;
//! assert_eq!(verifier.secret_count(), 2);
//! # Ok::<(), removebgvideo::webhook::WebhookError>(())
//! ```
//!
//! # Testing your handler
//!
//! [`sign`] computes the signature header and [`signed_headers`] all four headers, exactly as the
//! API would (an ISO 8601 timestamp), so a test can post a delivery your handler must accept (and
//! tamper with it to see it refused). [`signed_headers_with`] signs any timestamp text you give,
//! such as [`TimestampFormat::UnixSeconds`] or an offset style.
//!
//! # Secrets stay secret
//!
//! No error message contains a secret, and `Debug` of a [`Verifier`] shows only how many secrets
//! it holds and its tolerance.
//!
//! Within the crate, it uses only the crate's `Secret`, `timestamp` and `models`, never the client
//! (a webhook-only build has none); `axum.rs` is behind the `axum` feature.

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod error;
mod event;
mod headers;
mod parse;
mod sign;
mod verify;

pub use error::WebhookError;
pub use event::{EventKind, WebhookEvent};
pub use headers::WebhookHeaders;
pub use sign::{sign, signed_headers, signed_headers_with, TimestampFormat};
pub use verify::{construct_event, Verifier};

/// Header carrying the event kind, for example `job.completed`.
pub const HEADER_EVENT: &str = "X-Webhook-Event";
/// Header carrying the unique id of one delivery.
pub const HEADER_DELIVERY_ID: &str = "X-Webhook-Delivery-Id";
/// Header carrying the time at which the delivery was signed: ISO 8601 (or unix seconds from
/// older senders). The signature covers its text verbatim.
pub const HEADER_TIMESTAMP: &str = "X-Webhook-Timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const HEADER_SIGNATURE: &str = "X-Webhook-Signature";
