//! A signing secret that never prints.

use std::fmt;

use super::WebhookError;

/// The bytes of one webhook secret. `Debug` prints a placeholder, and there is deliberately no
/// `Display` and no accessor outside the module, so a secret cannot end up in a log by accident.
#[derive(Clone)]
pub(crate) struct Secret {
    bytes: Box<[u8]>,
}

impl Secret {
    /// Keeps a copy of `secret`.
    ///
    /// # Errors
    /// [`WebhookError::EmptySecret`] when `secret` is empty: an empty HMAC key would "verify"
    /// anything anyone computes with it.
    pub(crate) fn new(secret: &str) -> Result<Self, WebhookError> {
        if secret.is_empty() {
            return Err(WebhookError::EmptySecret);
        }
        Ok(Self { bytes: secret.as_bytes().into() })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
