//! The axum extractor: an axum `Router` driven in-process with `tower::ServiceExt::oneshot`
//! (no socket, no network), with deliveries signed by the crate's own signer (whose output is
//! pinned to independent vectors in `tests/webhook_vectors.rs`).
#![cfg(feature = "axum")]

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use axum::body::{to_bytes, Body};
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::Router;
use removebgvideo::webhook::axum::{VerifiedWebhook, WebhookRejection};
use removebgvideo::webhook::{self, Verifier, WebhookError, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tower::ServiceExt;

const SECRET: &str = "whsec_axum_secret";
const BODY: &[u8] =
    br#"{"event":"job.completed","data":{"id":"job_1","status":"completed","output_url":"http://127.0.0.1:1/o.webm"}}"#;

/// Answers with what the handler saw, so a test can tell the event reached it intact.
async fn receive(VerifiedWebhook(event): VerifiedWebhook) -> String {
    format!(
        "{} {} {} {}",
        event.kind,
        event.job_id.as_deref().unwrap_or("-"),
        event.delivery_id.as_deref().unwrap_or("-"),
        event.timestamp_header
    )
}

fn app() -> Router {
    Router::new().route("/webhooks", post(receive)).with_state(Verifier::new(SECRET).unwrap())
}

fn request(headers: &[(&str, String)], body: &[u8]) -> Request<Body> {
    let mut builder = Request::post("/webhooks").header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::from(body.to_vec())).unwrap()
}

fn signed_now(body: &[u8]) -> Vec<(&'static str, String)> {
    webhook::signed_headers(SECRET, "job.completed", "dlv_1", SystemTime::now(), body).unwrap()
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_genuine_delivery_reaches_the_handler_as_a_typed_event() {
    let headers = signed_now(BODY);
    let timestamp = headers.iter().find(|(name, _)| *name == HEADER_TIMESTAMP).unwrap().1.clone();
    let (status, body) = send(app(), request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, format!("job.completed job_1 dlv_1 {timestamp}"));
    assert!(timestamp.ends_with('Z') && timestamp.contains('T'), "an ISO 8601 delivery: {timestamp}");
}

#[tokio::test]
async fn a_bad_signature_is_401_and_says_so() {
    let mut headers = signed_now(BODY);
    for (name, value) in &mut headers {
        if *name == HEADER_SIGNATURE {
            *value = format!("sha256={}", "0".repeat(64));
        }
    }
    let (status, body) = send(app(), request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("signature does not match"), "{body}");
}

#[tokio::test]
async fn a_tampered_body_is_401() {
    let headers = signed_now(BODY);
    let tampered = String::from_utf8(BODY.to_vec()).unwrap().replace("job_1", "job_2");
    let (status, body) = send(app(), request(&headers, tampered.as_bytes())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("signature does not match"), "{body}");
}

#[tokio::test]
async fn an_old_delivery_is_401_and_says_how_old() {
    let signed_at = SystemTime::now() - Duration::from_secs(3600);
    let headers = webhook::signed_headers(SECRET, "job.completed", "dlv_1", signed_at, BODY).unwrap();
    let (status, body) = send(app(), request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("too old") && body.contains("tolerance is 300 s"), "{body}");
}

#[tokio::test]
async fn a_delivery_from_the_future_is_401() {
    let signed_at = SystemTime::now() + Duration::from_secs(3600);
    let headers = webhook::signed_headers(SECRET, "job.completed", "dlv_1", signed_at, BODY).unwrap();
    let (status, body) = send(app(), request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("in the future"), "{body}");
}

#[tokio::test]
async fn a_missing_header_is_400_and_names_it() {
    for missing in [HEADER_TIMESTAMP, HEADER_SIGNATURE] {
        let headers: Vec<_> = signed_now(BODY).into_iter().filter(|(name, _)| *name != missing).collect();
        let (status, body) = send(app(), request(&headers, BODY)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains(missing), "{body}");
    }
}

#[tokio::test]
async fn a_malformed_timestamp_is_400() {
    let headers = webhook::signed_headers_with(SECRET, "job.completed", "dlv_1", "yesterday", BODY).unwrap();
    let (status, body) = send(app(), request(&headers, BODY)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains(HEADER_TIMESTAMP), "{body}");
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_400() {
    let body = b"this is not json";
    let (status, text) = send(app(), request(&signed_now(body), body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("invalid webhook payload"), "{text}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_verification() {
    let app = app().layer(DefaultBodyLimit::max(16));
    let (status, body) = send(app, request(&signed_now(BODY), BODY)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn no_rejection_echoes_the_secret() {
    let wrong_secret =
        webhook::signed_headers("whsec_other", "job.completed", "dlv_1", SystemTime::now(), BODY).unwrap();
    for headers in [wrong_secret, Vec::new()] {
        let (status, body) = send(app(), request(&headers, BODY)).await;
        assert!(status.is_client_error());
        assert!(!body.contains("whsec"), "{body}");
    }
}

/// An app state of your own: the extractor finds the verifier through `FromRef`.
#[derive(Clone)]
struct AppState {
    verifier: Verifier,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[tokio::test]
async fn the_verifier_can_live_in_a_larger_app_state() {
    let state = AppState { verifier: Verifier::new(SECRET).unwrap() };
    let app = Router::new().route("/webhooks", post(receive)).with_state(state);
    let (status, body) = send(app, request(&signed_now(BODY), BODY)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("job.completed job_1"), "{body}");
}

#[test]
fn the_rejection_is_an_error_with_the_webhook_error_as_its_source() {
    let rejection = WebhookRejection::Refused(WebhookError::SignatureMismatch);
    assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rejection.to_string(), "webhook refused: webhook signature does not match");
    let source = rejection.source().and_then(|source| source.downcast_ref::<WebhookError>());
    assert_eq!(source, Some(&WebhookError::SignatureMismatch));
    assert_eq!(
        WebhookRejection::Refused(WebhookError::MissingHeader { name: HEADER_SIGNATURE }).status(),
        StatusCode::BAD_REQUEST
    );
}
