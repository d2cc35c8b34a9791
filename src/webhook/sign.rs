//! Computing signatures: the same computation the API does, for verification and for tests.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secret::Secret;
use super::{WebhookError, HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// The prefix of the `X-Webhook-Signature` value; it names the MAC algorithm.
pub(crate) const SIGNATURE_PREFIX: &str = "sha256=";

/// Former name of [`WebhookError`] for [`sign`]'s error; kept so `SignError::EmptySecret` still
/// compiles.
pub type SignError = WebhookError;

/// The HMAC-SHA256 of `"{timestamp}." + body` under `key`, not yet finalized.
///
/// `timestamp` is the text exactly as it travels in the header: the MAC covers those bytes, so a
/// verifier must not re-render a parsed number.
pub(crate) fn mac_of(key: &Secret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC is defined for keys of every length (long keys are hashed, short ones zero-padded),
    // and hmac 0.12's `new_from_slice` returns `Ok` for every length, so this cannot panic.
    // Falling back to some fixed key instead would be worse: it would silently sign with it.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Signs `body` as the API does: returns `sha256=<hex HMAC-SHA256(secret, "{timestamp}." + body)>`,
/// the value of the `X-Webhook-Signature` header (lowercase hex).
///
/// Use it to test your own webhook handler, or see [`signed_headers`] for all four headers.
///
/// # Errors
/// [`WebhookError::EmptySecret`] when `secret` is empty.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> Result<String, WebhookError> {
    let secret = Secret::new(secret)?;
    let mac = mac_of(&secret, &timestamp.to_string(), body);
    Ok(format!("{SIGNATURE_PREFIX}{}", hex::encode(mac.finalize().into_bytes())))
}

/// The four headers the API sends with a delivery of `body`, signed with `secret`:
/// `X-Webhook-Event`, `X-Webhook-Delivery-Id`, `X-Webhook-Timestamp` and `X-Webhook-Signature`,
/// in that order, as `(name, value)` pairs.
///
/// The pairs can be passed straight to [`Verifier::verify`](super::Verifier::verify) or turned
/// into request headers for an HTTP test of your handler.
///
/// # Errors
/// [`WebhookError::EmptySecret`] when `secret` is empty.
pub fn signed_headers(
    secret: &str,
    event: &str,
    delivery_id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, WebhookError> {
    let signature = sign(secret, timestamp, body)?;
    Ok(vec![
        (HEADER_EVENT, event.to_owned()),
        (HEADER_DELIVERY_ID, delivery_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, signature),
    ])
}
