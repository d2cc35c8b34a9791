//! The one error type of the webhook module.

use super::{HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// Why a webhook delivery was rejected, or why a body could not be signed.
///
/// No variant ever carries a secret: the messages name headers, reasons and numbers only, so
/// logging an error (or answering it to the sender) reveals nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is absent. `name` is one of the `HEADER_*` constants.
    #[error("missing webhook header `{name}`")]
    MissingHeader {
        /// The header that is missing.
        name: &'static str,
    },

    /// The `X-Webhook-Timestamp` header is neither an ISO 8601 / RFC 3339 time (such as
    /// `2026-04-20T10:00:00Z`) nor unix seconds, or names a time this system cannot represent.
    #[error("invalid `{HEADER_TIMESTAMP}` header: {reason}")]
    InvalidTimestamp {
        /// What is wrong with the value.
        reason: &'static str,
    },

    /// The `X-Webhook-Signature` header is not `sha256=` followed by 64 hex digits.
    #[error("invalid `{HEADER_SIGNATURE}` header: {reason}")]
    InvalidSignatureFormat {
        /// What is wrong with the value.
        reason: &'static str,
    },

    /// The signature is well formed but matches none of the secrets: the body, the timestamp or
    /// the signature was changed, or the secret is not the one the server signs with.
    #[error("webhook signature does not match")]
    SignatureMismatch,

    /// The signature is valid but the delivery was signed longer ago than the tolerance allows
    /// (possibly a replay).
    #[error("webhook timestamp is too old: signed {age_secs} s ago, tolerance is {tolerance_secs} s")]
    TooOld {
        /// How many whole seconds before "now" the delivery was signed.
        age_secs: u64,
        /// The tolerance in force, in seconds.
        tolerance_secs: u64,
    },

    /// The signature is valid but the timestamp lies further in the future than the tolerance
    /// allows (a clock far off, or a delivery forged ahead of time with a leaked secret).
    #[error("webhook timestamp is in the future: {ahead_secs} s ahead, tolerance is {tolerance_secs} s")]
    InFuture {
        /// How many whole seconds after "now" the timestamp lies.
        ahead_secs: u64,
        /// The tolerance in force, in seconds.
        tolerance_secs: u64,
    },

    /// A secret is empty, or no secret was given at all.
    #[error("webhook secret is empty")]
    EmptySecret,

    /// The signature is valid but the body is not a JSON object.
    #[error("invalid webhook payload: {reason}")]
    InvalidPayload {
        /// What the JSON parser reported.
        reason: String,
    },

    /// Neither the `X-Webhook-Event` header nor an `event` or `type` field in the body names the
    /// event.
    #[error("webhook event kind is missing: no `{HEADER_EVENT}` header and no `event` or `type` field in the body")]
    MissingEventKind,

    /// The `X-Webhook-Event` header (which the signature does not cover) disagrees with the
    /// signed `event` field of the body.
    #[error("webhook event kind mismatch: header says `{header}`, signed body says `{body}`")]
    EventKindMismatch {
        /// The value of the `X-Webhook-Event` header.
        header: String,
        /// The value of the body's `event` field.
        body: String,
    },
}

impl WebhookError {
    /// The HTTP status a webhook receiver should answer with this error: 401 when the sender did
    /// not prove it holds the secret or the delivery is stale ([`SignatureMismatch`],
    /// [`TooOld`], [`InFuture`]), 500 for [`EmptySecret`] (the receiver is misconfigured), and
    /// 400 for a malformed request (missing or invalid headers, a body that is not a JSON
    /// object, no or contradicting event kind).
    ///
    /// [`SignatureMismatch`]: Self::SignatureMismatch
    /// [`TooOld`]: Self::TooOld
    /// [`InFuture`]: Self::InFuture
    /// [`EmptySecret`]: Self::EmptySecret
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::SignatureMismatch | Self::TooOld { .. } | Self::InFuture { .. } => 401,
            Self::EmptySecret => 500,
            _ => 400,
        }
    }
}
