//! Strict parsing of the timestamp and signature header values.
//!
//! Anything that is not exactly what the API sends is refused with its own error, before any MAC
//! is computed, so a malformed header is reported as malformed and never as a mere mismatch.

use std::time::SystemTime;

use super::sign::SIGNATURE_PREFIX;
use super::WebhookError;
use crate::timestamp::parse_any;

/// Bytes in a SHA-256 MAC.
const MAC_LEN: usize = 32;

/// Parses the `X-Webhook-Timestamp` text: ISO 8601 / RFC 3339 (`Z` or an offset, optional
/// fraction, no zone read as UTC) or unix seconds (ASCII digits only). Parsing is
/// [`crate::timestamp`]'s; this only names the error.
///
/// # Errors
/// [`WebhookError::InvalidTimestamp`] with the reason.
pub(crate) fn parse_timestamp(value: &str) -> Result<SystemTime, WebhookError> {
    parse_any(value).map_err(|reason| WebhookError::InvalidTimestamp { reason })
}

/// Parses `sha256=` followed by exactly 64 hex digits into the 32 MAC bytes.
///
/// The prefix must be lowercase, as the API sends it. The hex digits may be lower- or uppercase:
/// they only encode bytes, and the bytes are what is compared.
///
/// # Errors
/// [`WebhookError::InvalidSignatureFormat`] with the reason.
pub(crate) fn parse_signature(value: &str) -> Result<[u8; MAC_LEN], WebhookError> {
    let invalid = |reason| WebhookError::InvalidSignatureFormat { reason };
    let Some(hex_digits) = value.strip_prefix(SIGNATURE_PREFIX) else {
        return Err(invalid("expected the value to start with `sha256=`"));
    };
    if hex_digits.len() != MAC_LEN * 2 {
        return Err(invalid("expected exactly 64 hex digits after `sha256=`"));
    }
    let mut mac = [0_u8; MAC_LEN];
    hex::decode_to_slice(hex_digits, &mut mac).map_err(|_| invalid("expected only hex digits after `sha256=`"))?;
    Ok(mac)
}
