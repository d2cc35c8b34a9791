//! Webhook signature verification (docs being written).

mod error;
mod event;
mod headers;
mod parse;
mod secret;
mod sign;
mod verify;

pub use error::WebhookError;
pub use event::{EventKind, WebhookEvent};
pub use headers::WebhookHeaders;
pub use sign::{sign, signed_headers, SignError};
pub use verify::{construct_event, Verifier};

/// Header carrying the event kind, for example `job.completed`.
pub const HEADER_EVENT: &str = "X-Webhook-Event";
/// Header carrying the unique id of one delivery.
pub const HEADER_DELIVERY_ID: &str = "X-Webhook-Delivery-Id";
/// Header carrying the unix time (seconds) at which the delivery was signed.
pub const HEADER_TIMESTAMP: &str = "X-Webhook-Timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const HEADER_SIGNATURE: &str = "X-Webhook-Signature";
