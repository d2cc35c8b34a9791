//! [`TransportError`]: a request that got no whole answer, in the crate's own words.

use std::fmt;
use std::time::Duration;

use crate::client::human::human;

/// A request that did not get a whole answer: it could not connect, timed out, broke off, or
/// was redirected where the crate does not follow.
///
/// Its message names what happened and the origin (scheme, host, port) only: never a path,
/// a query (an output URL's query is often a signature) or a credential. The underlying HTTP
/// library's error stays reachable through [`source`](std::error::Error::source), with its URL
/// removed; its type is not part of this crate's API.
pub struct TransportError {
    kind: Kind,
    origin: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No connection was made: DNS, refused, TLS handshake, connect timeout.
    Connect,
    /// The call's time ran out (its limit is kept).
    Timeout(Option<Duration>),
    /// The request could not be sent whole.
    Request,
    /// The answer broke off while being read.
    Body,
    /// A redirect the crate does not follow.
    Redirect,
    /// Anything else the HTTP library reported.
    Other,
}

impl TransportError {
    pub(crate) fn new(kind: Kind, origin: Option<String>) -> Self {
        Self { kind, origin, source: None }
    }

    /// Wraps an error of the HTTP library: its kind read, its URL reduced to the origin.
    pub(crate) fn from_http(error: reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            Kind::Timeout(None)
        } else if error.is_connect() {
            Kind::Connect
        } else if error.is_redirect() {
            Kind::Redirect
        } else if error.is_body() || error.is_decode() {
            Kind::Body
        } else if error.is_request() {
            Kind::Request
        } else {
            Kind::Other
        };
        let origin = error.url().map(origin_of);
        Self { kind, origin, source: Some(Box::new(error.without_url())) }
    }

    /// The same error, its origin set when it had none.
    pub(crate) fn at(mut self, url: &url::Url) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin_of(url));
        }
        self
    }

    /// The same error, the limit that ran out named when it was a timeout of unknown limit.
    pub(crate) fn timed_out_after(mut self, limit: std::time::Duration) -> Self {
        if self.kind == Kind::Timeout(None) {
            self.kind = Kind::Timeout(Some(limit));
        }
        self
    }

    /// Whether no connection could be made: the request never reached the server.
    #[must_use]
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Whether a time limit ran out: the call timeout, or a transfer's whole-transfer limit. (A
    /// transfer that stopped moving is [`Error::Stalled`](crate::Error::Stalled).)
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// Whether the answer broke off while its body was being read.
    #[must_use]
    pub fn is_body(&self) -> bool {
        self.kind == Kind::Body
    }

    /// Whether the request could not be sent whole.
    #[must_use]
    pub fn is_request(&self) -> bool {
        self.kind == Kind::Request
    }

    /// Whether the answer was a redirect the crate does not follow (an API call redirected to
    /// another origin, or too many redirects).
    #[must_use]
    pub fn is_redirect(&self) -> bool {
        self.kind == Kind::Redirect
    }

    /// The origin (`https://host:port`) the request went to, when known.
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// Whether the same call may succeed later.
    pub(crate) fn is_transient(&self) -> bool {
        !matches!(self.kind, Kind::Redirect | Kind::Other)
    }
}

/// `scheme://host:port`, nothing else of a URL.
pub(crate) fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = self.origin.as_deref().unwrap_or("the server");
        match self.kind {
            Kind::Connect => write!(f, "could not connect to {origin}; check the base URL and the network"),
            Kind::Timeout(Some(limit)) => {
                write!(f, "the request to {origin} timed out after {}; retry, or raise the timeout", human(limit))
            }
            Kind::Timeout(None) => write!(f, "the request to {origin} timed out; retry, or raise the timeout"),
            Kind::Request => write!(f, "the request to {origin} could not be sent whole; retry"),
            Kind::Body => write!(f, "the answer from {origin} broke off while being read; retry"),
            Kind::Redirect => write!(f, "the answer from {origin} redirected too often or to another origin"),
            Kind::Other => write!(f, "the request to {origin} failed"),
        }
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("origin", &self.origin)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}
