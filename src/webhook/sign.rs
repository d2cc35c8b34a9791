use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a body could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signing secret is empty.
    #[error("webhook secret is empty")]
    EmptySecret,
}

/// Signs `body` as the API does: returns `sha256=<hex HMAC-SHA256(secret, "{timestamp}." + body)>`,
/// the value of the `X-Webhook-Signature` header.
///
/// # Errors
/// [`SignError::EmptySecret`] when `secret` is empty.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> Result<String, SignError> {
    if secret.is_empty() {
        return Err(SignError::EmptySecret);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}
