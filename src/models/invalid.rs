//! The refusal of a request field, shared by the requests' checks. It needs nothing above the
//! models, so the requests check themselves in every build; the client turns it into its own
//! error (`From`).

/// A request field refused before sending: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub(crate) struct InvalidInput {
    /// The field, as the API names it.
    pub(crate) field: &'static str,
    /// What is wrong with it.
    pub(crate) reason: String,
}

/// An [`InvalidInput`] for `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidInput {
    InvalidInput { field, reason: reason.into() }
}
