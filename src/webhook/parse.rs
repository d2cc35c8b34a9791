//! Strict parsing of the timestamp and signature header values.
//!
//! Anything that is not exactly what the API sends is refused with its own error, before any MAC
//! is computed, so a malformed header is reported as malformed and never as a mere mismatch.

use super::sign::SIGNATURE_PREFIX;
use super::WebhookError;

/// Bytes in a SHA-256 MAC.
const MAC_LEN: usize = 32;

/// Parses a unix time in seconds: one or more ASCII digits and nothing else (no sign, no
/// whitespace, no fraction), small enough for a `u64`.
///
/// # Errors
/// [`WebhookError::InvalidTimestamp`] with the reason.
pub(crate) fn parse_timestamp(value: &str) -> Result<u64, WebhookError> {
    let invalid = |reason| WebhookError::InvalidTimestamp { reason };
    if value.is_empty() {
        return Err(invalid("the value is empty"));
    }
    // `u64::from_str` alone would accept a leading `+`; the API sends digits only.
    if !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid("expected unix seconds made of ASCII digits only"));
    }
    value.parse::<u64>().map_err(|_| invalid("the number is too large"))
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
