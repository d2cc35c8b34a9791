//! Computing signatures: the same computation the API does, for verification and for tests.

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{WebhookError, HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::secret::Secret;
use crate::timestamp::{format_iso8601, format_unix_seconds};

/// The prefix of the `X-Webhook-Signature` value; it names the MAC algorithm.
pub(crate) const SIGNATURE_PREFIX: &str = "sha256=";

/// How [`TimestampFormat::format`] writes the `X-Webhook-Timestamp` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// RFC 3339 in UTC with milliseconds, `2026-04-20T10:00:00.123Z`: what the API sends.
    #[default]
    Iso8601,
    /// Unix seconds, `1776679200`: what earlier versions of the API sent.
    UnixSeconds,
}

impl TimestampFormat {
    /// Writes `time` as header text in this format. Never fails: an ISO time outside years
    /// 0001..=9999 is clamped to that range, and unix seconds before 1970 are written as `0`.
    #[must_use]
    pub fn format(self, time: SystemTime) -> String {
        match self {
            Self::Iso8601 => format_iso8601(time),
            Self::UnixSeconds => format_unix_seconds(time),
        }
    }
}

/// The secret as a key, refusing an empty one: an empty HMAC key would "verify" anything anyone
/// computes with it.
pub(crate) fn key_from(secret: &str) -> Result<Secret, WebhookError> {
    let secret = Secret::new(secret);
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    Ok(secret)
}

/// The HMAC-SHA256 of `"{timestamp}." + body` under `key`, not yet finalized.
///
/// `timestamp` is the text exactly as it travels in the header: the MAC covers those bytes, so a
/// verifier must never re-format a parsed time before computing it.
pub(crate) fn mac_of(key: &Secret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC is defined for keys of every length (long keys are hashed, short ones zero-padded),
    // and hmac 0.12's `new_from_slice` returns `Ok` for every length, so this cannot panic.
    // Falling back to some fixed key instead would be worse: it would silently sign with it.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Signs `body` as the API does: returns `sha256=<hex HMAC-SHA256(secret, "{timestamp}." + body)>`,
/// the value of the `X-Webhook-Signature` header (lowercase hex).
///
/// `timestamp` is the `X-Webhook-Timestamp` header text, verbatim: the MAC covers exactly those
/// characters, so sign the text you send. It is not checked here, so a test can also sign a
/// malformed timestamp and see the verifier refuse it. Use it to test your own webhook handler,
/// or see [`signed_headers`] for all four headers.
///
/// ```rust
/// use removebgvideo::webhook;
///
/// let signature = webhook::sign("whsec_example", "2026-04-20T10:00:00.123Z", br#"{"event":"job.started"}"#)?;
/// assert!(signature.starts_with("sha256="));
/// # Ok::<(), removebgvideo::webhook::WebhookError>(())
/// ```
///
/// # Errors
/// [`WebhookError::EmptySecret`] when `secret` is empty.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> Result<String, WebhookError> {
    let key = key_from(secret)?;
    let mac = mac_of(&key, timestamp, body);
    Ok(format!("{SIGNATURE_PREFIX}{}", hex::encode(mac.finalize().into_bytes())))
}

/// The four headers the API sends with a delivery of `body` signed at `signed_at`:
/// `X-Webhook-Event`, `X-Webhook-Delivery-Id`, `X-Webhook-Timestamp` (ISO 8601, as the API writes
/// it, e.g. `2026-04-20T10:00:00.123Z`) and `X-Webhook-Signature`, in that order, as
/// `(name, value)` pairs.
///
/// The pairs can be passed straight to [`Verifier::verify`](super::Verifier::verify) or turned
/// into request headers for an HTTP test of your handler. To send another timestamp text (unix
/// seconds, an offset, no fraction), use [`signed_headers_with`].
///
/// # Errors
/// [`WebhookError::EmptySecret`] when `secret` is empty.
pub fn signed_headers(
    secret: &str,
    event: &str,
    delivery_id: &str,
    signed_at: SystemTime,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, WebhookError> {
    signed_headers_with(secret, event, delivery_id, &TimestampFormat::Iso8601.format(signed_at), body)
}

/// Like [`signed_headers`], with the `X-Webhook-Timestamp` text given verbatim and signed as is:
/// `&TimestampFormat::UnixSeconds.format(time)` for the older unix-seconds style, or any text
/// (`2026-04-20T10:00:00+00:00`, or something malformed for a negative test).
///
/// ```rust
/// use std::time::{Duration, UNIX_EPOCH};
/// use removebgvideo::webhook::{self, TimestampFormat, HEADER_TIMESTAMP};
///
/// let signed_at = UNIX_EPOCH + Duration::from_secs(1_776_679_200);
/// let timestamp = TimestampFormat::UnixSeconds.format(signed_at);
/// let headers = webhook::signed_headers_with("whsec_example", "job.started", "dlv_1", &timestamp, b"{}")?;
/// assert!(headers.contains(&(HEADER_TIMESTAMP, "1776679200".to_owned())));
/// # Ok::<(), removebgvideo::webhook::WebhookError>(())
/// ```
///
/// # Errors
/// [`WebhookError::EmptySecret`] when `secret` is empty.
pub fn signed_headers_with(
    secret: &str,
    event: &str,
    delivery_id: &str,
    timestamp: &str,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, WebhookError> {
    let signature = sign(secret, timestamp, body)?;
    Ok(vec![
        (HEADER_EVENT, event.to_owned()),
        (HEADER_DELIVERY_ID, delivery_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_owned()),
        (HEADER_SIGNATURE, signature),
    ])
}
