//! The refusal of a request field, shared by the requests' checks. It needs no client, so the
//! requests check themselves in every build; the client turns it into
//! [`Error::InvalidInput`](crate::Error::InvalidInput).

use std::fmt;

/// A request field refused before sending: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) field: &'static str,
    pub(crate) reason: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.reason)
    }
}

/// An [`Invalid`] for `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Invalid {
    Invalid { field, reason: reason.into() }
}

#[cfg(feature = "client")]
impl From<Invalid> for crate::Error {
    fn from(refusal: Invalid) -> Self {
        crate::Error::InvalidInput { field: refusal.field, reason: refusal.reason }
    }
}
