//! Webhook deliveries shaped as the API documents them (contract §8): an ISO 8601
//! `X-Webhook-Timestamp` in every style an ISO 8601 / RFC 3339 producer writes, the unix-seconds
//! style of earlier senders, and the `{"event": ..., "data": {...}}` body.
//!
//! Every expected signature was computed outside this crate, with Python's standard library:
//!
//! ```text
//! python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret", TIMESTAMP.encode() + b"." + BODY, hashlib.sha256).hexdigest())'
//! ```
//!
//! and the first one cross-checked with
//! `printf '%s' "2026-04-20T10:00:00Z.$BODY" | openssl dgst -sha256 -hmac whsec_test_secret`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use removebgvideo::webhook::{
    self, EventKind, Verifier, WebhookError, HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use removebgvideo::JobStatus;

const SECRET: &str = "whsec_test_secret";
/// The documented envelope: the event name, then the job under `data`.
const BODY: &[u8] = br#"{"event":"job.completed","data":{"id":"job_1","status":"completed","progress":100,"output_url":"http://127.0.0.1:1234/outputs/job_1.webm"}}"#;
/// 2026-04-20T10:00:00Z in unix seconds (`date -u -d 2026-04-20T10:00:00Z +%s`).
const APRIL_20: u64 = 1_776_679_200;

/// `(X-Webhook-Timestamp text, what it names, hex HMAC computed with Python as above)`.
const VECTORS: [(&str, Duration, &str); 7] = [
    ("2026-04-20T10:00:00Z", Duration::ZERO, "a59c32175babbfd2c3b284b9c7d4057b1eb6d1dc45d5bb0799ad36f8a50dc5e9"),
    ("2026-04-20T10:00:00+00:00", Duration::ZERO, "8c3fa9c96f0123f92f830af2eb347b8049a01838a48d8f1538ace43f5d420e4e"),
    ("2026-04-20T12:00:00+02:00", Duration::ZERO, "6904d0b3a1a86bea0a269d0a3ac644d65e1318c73d9e92733a8a3fdbb7c090e2"),
    (
        "2026-04-20T10:00:00.123Z",
        Duration::from_millis(123),
        "18a25f0c990544c05fca306284ea0435c45d3fe38a7958b238440e613971b1c0",
    ),
    (
        "2026-04-20T10:00:00.123456+00:00",
        Duration::from_micros(123_456),
        "b46d9c3fbb7fe2910ac07477e75261c84868fe73d5415c54c302625c460b1eff",
    ),
    // No zone: UTC, as Python's `datetime.utcnow().isoformat()` writes it.
    ("2026-04-20T10:00:00", Duration::ZERO, "2154f36e7c8b9e2a869effbc1aee4f41fcbca02bc43a61fea1799bff4898e4cb"),
    // Unix seconds, which earlier versions of the contract specified.
    ("1776679200", Duration::ZERO, "6840b2be8ae58a4ccf33c0e83e3dd3008394b60db381bf86da98d209e6f4d57d"),
];

fn april_20_plus(offset: Duration) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(APRIL_20) + offset
}

fn headers(timestamp: &str, hex_mac: &str) -> Vec<(&'static str, String)> {
    vec![
        (HEADER_EVENT, "job.completed".to_owned()),
        (HEADER_DELIVERY_ID, "dlv_1".to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_owned()),
        (HEADER_SIGNATURE, format!("sha256={hex_mac}")),
    ]
}

fn verifier() -> Verifier {
    Verifier::new(SECRET).unwrap()
}

#[test]
fn the_crates_signer_matches_every_independent_vector() {
    for (timestamp, _, hex_mac) in VECTORS {
        assert_eq!(webhook::sign(SECRET, timestamp, BODY).unwrap(), format!("sha256={hex_mac}"), "{timestamp}");
    }
}

#[test]
fn every_timestamp_style_verifies_and_names_the_right_instant() {
    for (timestamp, offset, hex_mac) in VECTORS {
        let signed_at = april_20_plus(offset);
        let event = verifier()
            .construct_event_at(&headers(timestamp, hex_mac), BODY, signed_at)
            .unwrap_or_else(|error| panic!("{timestamp}: {error}"));
        assert_eq!(event.timestamp_header, timestamp, "the header text is kept verbatim");
        assert_eq!(event.signed_at(), signed_at, "{timestamp}");
        assert_eq!(event.kind, EventKind::JobCompleted);
        assert_eq!(event.job_id.as_deref(), Some("job_1"));
    }
}

#[test]
fn the_mac_covers_the_header_text_not_the_instant() {
    // `Z` and `+00:00` name the same instant, but only the text that was signed verifies.
    let (_, _, z_mac) = VECTORS[0];
    let now = april_20_plus(Duration::ZERO);
    for same_instant in ["2026-04-20T10:00:00+00:00", "2026-04-20T10:00:00.000Z", "2026-04-20T10:00:00", "1776679200"] {
        assert_eq!(
            verifier().verify_at(&headers(same_instant, z_mac), BODY, now),
            Err(WebhookError::SignatureMismatch),
            "{same_instant}"
        );
    }
}

#[test]
fn anything_else_is_an_invalid_timestamp() {
    let (_, _, z_mac) = VECTORS[0];
    for timestamp in [
        "",
        "2026-04-20",
        "10:00:00",
        "2026-04-20T10:00:00+0",
        "2026-04-20T25:00:00Z",
        "Mon, 20 Apr 2026 10:00:00 GMT",
        "1776679200.5",
        "-1776679200",
        " 2026-04-20T10:00:00Z",
        "2026-04-20T10:00:00Z ",
    ] {
        let result = verifier().verify_at(&headers(timestamp, z_mac), BODY, april_20_plus(Duration::ZERO));
        assert!(matches!(result, Err(WebhookError::InvalidTimestamp { .. })), "{timestamp:?} gave {result:?}");
        assert!(result.unwrap_err().to_string().contains(HEADER_TIMESTAMP));
    }
}

#[test]
fn the_tolerance_applies_to_the_instant_with_its_fraction() {
    // Both fractional styles: 300 s either way passes, 301 s does not.
    for (timestamp, offset, hex_mac) in [VECTORS[3], VECTORS[4]] {
        let headers = headers(timestamp, hex_mac);
        let signed_at = april_20_plus(offset);
        let verifier = verifier();
        assert_eq!(verifier.verify_at(&headers, BODY, signed_at + Duration::from_secs(300)), Ok(()), "{timestamp}");
        assert_eq!(verifier.verify_at(&headers, BODY, signed_at - Duration::from_secs(300)), Ok(()), "{timestamp}");
        assert_eq!(
            verifier.verify_at(&headers, BODY, signed_at + Duration::from_secs(301)),
            Err(WebhookError::TooOld { age_secs: 301, tolerance_secs: 300 }),
            "{timestamp}"
        );
        assert_eq!(
            verifier.verify_at(&headers, BODY, signed_at - Duration::from_secs(301)),
            Err(WebhookError::InFuture { ahead_secs: 301, tolerance_secs: 300 }),
            "{timestamp}"
        );
    }
}

#[test]
fn the_offset_is_applied_before_the_age_is_measured() {
    // 12:00+02:00 is 10:00Z: two hours off if the offset were ignored.
    let (timestamp, _, hex_mac) = VECTORS[2];
    let headers = headers(timestamp, hex_mac);
    assert_eq!(verifier().verify_at(&headers, BODY, april_20_plus(Duration::from_secs(300))), Ok(()));
    assert_eq!(
        verifier().verify_at(&headers, BODY, april_20_plus(Duration::from_secs(7200))),
        Err(WebhookError::TooOld { age_secs: 7200, tolerance_secs: 300 })
    );
}

#[test]
fn extreme_tolerances_and_clocks_never_panic() {
    let (timestamp, _, hex_mac) = VECTORS[3];
    let headers = headers(timestamp, hex_mac);
    let unlimited = verifier().with_tolerance(Duration::MAX);
    assert_eq!(unlimited.verify_at(&headers, BODY, UNIX_EPOCH), Ok(()));
    let far_future = UNIX_EPOCH + Duration::from_secs(1 << 40);
    assert_eq!(unlimited.verify_at(&headers, BODY, far_future), Ok(()));
    assert!(matches!(verifier().verify_at(&headers, BODY, UNIX_EPOCH), Err(WebhookError::InFuture { .. })));
    assert!(matches!(verifier().verify_at(&headers, BODY, far_future), Err(WebhookError::TooOld { .. })));
}

// ---------------------------------------------------------------------------------------------
// The documented body envelope

fn event_for(body: &str) -> webhook::WebhookEvent {
    let signed_at = april_20_plus(Duration::ZERO);
    let headers = webhook::signed_headers(SECRET, "job.failed", "dlv_2", signed_at, body.as_bytes()).unwrap();
    verifier().construct_event_at(&headers, body.as_bytes(), signed_at).unwrap()
}

#[test]
fn job_fields_come_from_data_and_the_whole_body_is_kept() {
    let body = r#"{"event":"job.failed","id":"evt_1","data":{"id":"job_9","status":"failed","progress":40,"error":"decoder crashed","credits":3}}"#;
    let event = event_for(body);
    assert_eq!(event.kind, EventKind::JobFailed);
    assert_eq!(event.job_id.as_deref(), Some("job_9"), "data's id is the job's, the top-level one the event's");
    assert_eq!(event.status, Some(JobStatus::Failed));
    assert_eq!(event.progress, Some(40.0));
    assert_eq!(event.error.as_deref(), Some("decoder crashed"));
    assert_eq!(event.output_url, None);
    assert_eq!(event.delivery_id.as_deref(), Some("dlv_2"));
    assert_eq!(event.payload, serde_json::from_str::<serde_json::Value>(body).unwrap());
    assert_eq!(event.payload["data"]["credits"], 3, "unknown fields stay in the payload");
}

#[test]
fn an_error_object_under_data_gives_its_message() {
    let event =
        event_for(r#"{"event":"job.failed","data":{"id":"job_9","error":{"code":"oom","message":"out of memory"}}}"#);
    assert_eq!(event.error.as_deref(), Some("out of memory"));
}

#[test]
fn fields_missing_from_data_fall_back_to_the_top_level() {
    let event = event_for(r#"{"event":"job.failed","job_id":"job_top","status":"failed","data":{"error":"boom"}}"#);
    assert_eq!(event.job_id.as_deref(), Some("job_top"));
    assert_eq!(event.status, Some(JobStatus::Failed));
    assert_eq!(event.error.as_deref(), Some("boom"));
}
