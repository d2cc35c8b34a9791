//! Webhook signature verification (being written; see issue 3).

mod sign;

pub use sign::{sign, SignError};

/// Header carrying the event kind, for example `job.completed`.
pub const HEADER_EVENT: &str = "X-Webhook-Event";
/// Header carrying the unique id of one delivery.
pub const HEADER_DELIVERY_ID: &str = "X-Webhook-Delivery-Id";
/// Header carrying the unix time (seconds) at which the delivery was signed.
pub const HEADER_TIMESTAMP: &str = "X-Webhook-Timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const HEADER_SIGNATURE: &str = "X-Webhook-Signature";
