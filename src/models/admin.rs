//! The answers of the admin calls.

use serde::{Deserialize, Serialize};

use super::answers::object_answer;
use super::lenient::Extra;
use crate::secret::Secret;

object_answer! {
    /// The answer to `get_config`: the service's configuration as the admin API shows it.
    AdminConfig
}

/// One API key as `list_keys` shows it (never the key itself, only its fingerprint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyInfo {
    /// The client the key belongs to.
    #[serde(default)]
    pub client_id: String,
    /// The fingerprint that names the key in `disable_key` and `enable_key`.
    #[serde(default)]
    pub key_fingerprint: String,
    /// Every other field (note, enabled, dates), as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The keys, as `list_keys` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyList {
    /// The keys.
    #[serde(default)]
    pub items: Vec<ApiKeyInfo>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A key just created by `create_key`. The key itself is shown only this once: store it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The new API key; `Debug` prints it redacted, [`Secret::expose`] reads it.
    pub api_key: Secret,
    /// The fingerprint that names the key in `disable_key` and `enable_key`.
    #[serde(default)]
    pub key_fingerprint: String,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `disable_key` and `enable_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyStatusChange {
    /// Whether the server applied the change, when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}
