//! An [axum](https://docs.rs/axum) extractor that verifies webhook deliveries (feature `axum`).
//!
//! [`VerifiedWebhook`] reads the raw request body and the headers, verifies them with the
//! [`Verifier`] from the app state against the current time, and yields the typed
//! [`WebhookEvent`]. A delivery it refuses never reaches the handler: the request is answered
//! with a [`WebhookRejection`], 400 for a malformed request (a missing or invalid header, a body
//! that is not a JSON object) or 401 for a delivery that fails the signature or the age check,
//! with the reason as a plain-text body. No reason ever contains a secret.
//!
//! The state holds the [`Verifier`] itself (it is cheap to clone: clones share the secrets), or
//! is your own state type with a `FromRef<YourState> for Verifier` impl. The extractor consumes
//! the body, so it must be the handler's last argument. Bodies larger than axum's body limit
//! (2 MB unless `DefaultBodyLimit` says otherwise) are refused with 413 before any verification.
//!
//! Deliveries may be retried with the same [`delivery_id`](WebhookEvent::delivery_id): act on
//! each id once and answer a repeat with 2xx (see [the module docs](super#processing-each-delivery-once)).
//!
//! ```rust,no_run
//! use axum::{routing::post, Router};
//! use removebgvideo::webhook::axum::VerifiedWebhook;
//! use removebgvideo::webhook::{EventKind, Verifier};
//!
//! async fn receive(VerifiedWebhook(event): VerifiedWebhook) -> &'static str {
//!     if event.kind == EventKind::JobCompleted {
//!         println!("job {:?} is ready at {:?}", event.job_id, event.output_url);
//!     }
//!     "ok"
//! }
//!
//! let verifier = Verifier::new("whsec_from_your_dashboard")?;
//! let app: Router = Router::new().route("/webhooks/removebgvideo", post(receive)).with_state(verifier);
//! // Serve `app` with `axum::serve` (axum's `tokio` feature) or any hyper server.
//! # drop(app);
//! # Ok::<(), removebgvideo::webhook::WebhookError>(())
//! ```

use std::fmt;

use ::axum::body::Bytes;
use ::axum::extract::rejection::BytesRejection;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::http::StatusCode;
use ::axum::response::{IntoResponse, Response};

use super::{Verifier, WebhookError, WebhookEvent};

/// An extractor for a verified webhook delivery: the handler receives the [`WebhookEvent`] only
/// if the signature matches one of the [`Verifier`]'s secrets and the timestamp is within its
/// tolerance. Otherwise the request is answered with a [`WebhookRejection`].
///
/// The [`Verifier`] comes from the router's state through [`FromRef`]; see the
/// [module docs](self) for an example.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedWebhook(pub WebhookEvent);

impl<S> FromRequest<S> for VerifiedWebhook
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        // The body extractor takes the whole request (it honours `DefaultBodyLimit`), so the
        // headers are copied first.
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state).await.map_err(WebhookRejection::Body)?;
        verifier.construct_event(&headers, &body).map(Self).map_err(WebhookRejection::Refused)
    }
}

/// Why [`VerifiedWebhook`] refused a request. As a response it is the [status](Self::status)
/// with the reason as a plain-text body; the reason never contains a secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The body could not be read: larger than the route's body limit (413), or the connection
    /// failed while reading it.
    Body(BytesRejection),
    /// The delivery was read and refused: 401 for a bad signature or a timestamp outside the
    /// tolerance, 400 for a malformed request (see [`WebhookError::http_status`]).
    Refused(WebhookError),
}

impl WebhookRejection {
    /// The status the response carries.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Body(rejection) => rejection.status(),
            Self::Refused(error) => StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Body(rejection) => write!(f, "could not read the webhook body: {}", rejection.body_text()),
            Self::Refused(error) => write!(f, "webhook refused: {error}"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Body(rejection) => Some(rejection),
            Self::Refused(error) => Some(error),
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}
