//! Behaviour of `removebgvideo::webhook`: signing, verification, replay tolerance, strict header
//! parsing, header lookup and typed events.
//!
//! These tests use the unix-seconds timestamp style, which the verifier still accepts; the ISO 8601
//! styles the API sends have their own vectors in `tests/webhook_vectors.rs`.
//!
//! The expected signatures were computed outside this crate, with Python's standard library:
//!
//! ```text
//! python3 -c 'import hmac,hashlib; print(hmac.new(KEY, b"1700000000." + BODY, hashlib.sha256).hexdigest())'
//! ```
//!
//! and one of them cross-checked with `printf '1700000000.hello' | openssl dgst -sha256 -hmac secret`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use removebgvideo::webhook::{
    self, EventKind, TimestampFormat, Verifier, WebhookError, WebhookHeaders, HEADER_DELIVERY_ID, HEADER_EVENT,
    HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use removebgvideo::JobStatus;

const SECRET: &str = "whsec_test_secret";
const TIMESTAMP: u64 = 1_700_000_000;
/// `TIMESTAMP` as header text, in the unix-seconds style.
const TIMESTAMP_TEXT: &str = "1700000000";
/// The flat body the simulator sends.
const BODY: &[u8] = br#"{"event":"job.completed","job_id":"job_1","status":"completed","progress":100,"output_url":"http://127.0.0.1:1234/outputs/job_1.webm","error":null}"#;
/// Python: `hmac.new(b"whsec_test_secret", b"1700000000." + BODY, hashlib.sha256).hexdigest()`
const BODY_SIGNATURE: &str = "sha256=dbf46de088f037c20128827da5fac9b5b532f9f26a9a48bf51fe59844d57a070";
/// Python: `hmac.new(b"whsec_new_secret", b"1700000000." + BODY, hashlib.sha256).hexdigest()`
const BODY_SIGNATURE_NEW_SECRET: &str = "sha256=22d4a231139de6af7187158c1ac5b782cbd92a111b810ccf7215ef57c140e330";

fn at(unix_secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_secs)
}

fn headers(timestamp: &str, signature: &str) -> Vec<(&'static str, String)> {
    vec![
        (HEADER_EVENT, "job.completed".to_owned()),
        (HEADER_DELIVERY_ID, "dlv_1".to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_owned()),
        (HEADER_SIGNATURE, signature.to_owned()),
    ]
}

fn valid_headers() -> Vec<(&'static str, String)> {
    headers("1700000000", BODY_SIGNATURE)
}

fn verifier() -> Verifier {
    Verifier::new(SECRET).unwrap()
}

fn verify_at_signing_time(headers: &[(&'static str, String)], body: &[u8]) -> Result<(), WebhookError> {
    verifier().verify_at(headers, body, at(TIMESTAMP))
}

// ---------------------------------------------------------------------------------------------
// Signing

#[test]
fn sign_matches_independently_computed_vectors() {
    assert_eq!(webhook::sign(SECRET, TIMESTAMP_TEXT, BODY).unwrap(), BODY_SIGNATURE);
    // Python: hmac.new(b"secret", b"1700000000.hello", hashlib.sha256); same with openssl.
    assert_eq!(
        webhook::sign("secret", TIMESTAMP_TEXT, b"hello").unwrap(),
        "sha256=47b1df0ab12338b2685470b0d2b37033add7c3b2bc8172f313e77413f1bb78c8"
    );
    // Python: hmac.new(b"whsec_test_secret", b"1700000000.", hashlib.sha256) -- empty body.
    assert_eq!(
        webhook::sign(SECRET, TIMESTAMP_TEXT, b"").unwrap(),
        "sha256=316b9ab98c15bfa039d243f3196acee619cf29749a91a634e6a8154e2f7b6727"
    );
}

#[test]
fn sign_refuses_an_empty_secret() {
    assert_eq!(webhook::sign("", TIMESTAMP_TEXT, BODY), Err(WebhookError::EmptySecret));
}

#[test]
fn signed_headers_carry_all_four_headers_and_verify() {
    let headers = webhook::signed_headers_with(SECRET, "job.completed", "dlv_9", TIMESTAMP_TEXT, BODY).unwrap();
    assert_eq!(
        headers,
        vec![
            (HEADER_EVENT, "job.completed".to_owned()),
            (HEADER_DELIVERY_ID, "dlv_9".to_owned()),
            (HEADER_TIMESTAMP, "1700000000".to_owned()),
            (HEADER_SIGNATURE, BODY_SIGNATURE.to_owned()),
        ]
    );
    assert_eq!(verify_at_signing_time(&headers, BODY), Ok(()));
    assert_eq!(
        webhook::signed_headers_with("", "job.completed", "dlv_9", TIMESTAMP_TEXT, BODY),
        Err(WebhookError::EmptySecret)
    );
    assert_eq!(
        webhook::signed_headers("", "job.completed", "dlv_9", at(TIMESTAMP), BODY),
        Err(WebhookError::EmptySecret)
    );
}

#[test]
fn signed_headers_write_an_iso_timestamp_like_the_api() {
    let signed_at = at(TIMESTAMP) + Duration::from_millis(250);
    let headers = webhook::signed_headers(SECRET, "job.completed", "dlv_9", signed_at, BODY).unwrap();
    assert_eq!(headers[2], (HEADER_TIMESTAMP, "2023-11-14T22:13:20.250Z".to_owned())); // `date -u -d @1700000000`
    assert_eq!(headers[3], (HEADER_SIGNATURE, webhook::sign(SECRET, "2023-11-14T22:13:20.250Z", BODY).unwrap()));
    let event = verifier().construct_event_at(&headers, BODY, signed_at).unwrap();
    assert_eq!(event.timestamp_header, "2023-11-14T22:13:20.250Z");
    assert_eq!(event.signed_at(), signed_at);
}

#[test]
fn timestamp_format_writes_both_styles() {
    let time = at(TIMESTAMP) + Duration::from_millis(1);
    assert_eq!(TimestampFormat::default(), TimestampFormat::Iso8601);
    assert_eq!(TimestampFormat::Iso8601.format(time), "2023-11-14T22:13:20.001Z");
    assert_eq!(TimestampFormat::UnixSeconds.format(time), TIMESTAMP_TEXT);
    // Times no header can name are clamped, not panicked on.
    assert_eq!(TimestampFormat::UnixSeconds.format(UNIX_EPOCH - Duration::from_secs(1)), "0");
    assert!(TimestampFormat::Iso8601.format(UNIX_EPOCH + Duration::from_secs(1 << 40)).starts_with("9999-12-"));
    assert_eq!(TimestampFormat::Iso8601.format(UNIX_EPOCH - Duration::from_secs(1 << 40)), "0001-01-01T00:00:00.000Z");
}

// ---------------------------------------------------------------------------------------------
// Verification against the known vector and its tamperings

#[test]
fn the_known_vector_verifies() {
    assert_eq!(verify_at_signing_time(&valid_headers(), BODY), Ok(()));
}

#[test]
fn uppercase_hex_digits_are_accepted() {
    let upper = format!("sha256={}", BODY_SIGNATURE["sha256=".len()..].to_uppercase());
    assert_eq!(verify_at_signing_time(&headers("1700000000", &upper), BODY), Ok(()));
}

#[test]
fn a_tampered_body_is_a_mismatch() {
    let tampered = String::from_utf8(BODY.to_vec()).unwrap().replace("job_1", "job_2");
    assert_eq!(verify_at_signing_time(&valid_headers(), tampered.as_bytes()), Err(WebhookError::SignatureMismatch));
}

#[test]
fn a_trailing_newline_on_the_body_is_a_mismatch() {
    let mut body = BODY.to_vec();
    body.push(b'\n');
    assert_eq!(verify_at_signing_time(&valid_headers(), &body), Err(WebhookError::SignatureMismatch));
}

#[test]
fn re_serialized_json_is_a_mismatch() {
    // Same JSON value, different bytes: this is why the raw body must be verified.
    let value: serde_json::Value = serde_json::from_slice(BODY).unwrap();
    let compact = serde_json::to_vec(&value).unwrap(); // keys re-ordered alphabetically
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert_ne!(compact, BODY);
    for body in [compact, pretty] {
        assert_eq!(verify_at_signing_time(&valid_headers(), &body), Err(WebhookError::SignatureMismatch));
    }
}

#[test]
fn a_tampered_timestamp_is_a_mismatch() {
    // One second later is within the tolerance, so only the MAC can catch it.
    let headers = headers("1700000001", BODY_SIGNATURE);
    assert_eq!(verifier().verify_at(&headers, BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
    // Leading zeros are digits, but not the text that was signed.
    let headers = self::headers("01700000000", BODY_SIGNATURE);
    assert_eq!(verifier().verify_at(&headers, BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
}

#[test]
fn a_tampered_signature_is_a_mismatch() {
    let mut tampered = BODY_SIGNATURE.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(verify_at_signing_time(&headers("1700000000", &tampered), BODY), Err(WebhookError::SignatureMismatch));
}

#[test]
fn the_wrong_secret_is_a_mismatch() {
    let other = Verifier::new("whsec_other").unwrap();
    assert_eq!(other.verify_at(&valid_headers(), BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
}

// ---------------------------------------------------------------------------------------------
// Strict parsing of the signature and timestamp headers

fn assert_signature_format_error(signature: &str) {
    let result = verify_at_signing_time(&headers("1700000000", signature), BODY);
    assert!(matches!(result, Err(WebhookError::InvalidSignatureFormat { .. })), "{signature:?} gave {result:?}");
}

#[test]
fn malformed_signatures_are_format_errors_not_mismatches() {
    let hex = &BODY_SIGNATURE["sha256=".len()..];
    assert_signature_format_error(hex); // no prefix
    assert_signature_format_error(&format!("sha1={hex}"));
    assert_signature_format_error(&format!("SHA256={hex}"));
    assert_signature_format_error(&format!("sha256:{hex}"));
    assert_signature_format_error("sha256=");
    assert_signature_format_error("");
    assert_signature_format_error(&format!("sha256={}", &hex[..63])); // truncated
    assert_signature_format_error(&format!("sha256={}", &hex[..32])); // half
    assert_signature_format_error(&format!("sha256={hex}0")); // 65 digits
    assert_signature_format_error(&format!("sha256={}g", &hex[..63])); // non-hex
    assert_signature_format_error(&format!("sha256={}", "z".repeat(64)));
    assert_signature_format_error(&format!(" sha256={hex}"));
    assert_signature_format_error(&format!("sha256={hex} "));
    assert_signature_format_error(&format!("sha256= {}", &hex[..63]));
    assert_signature_format_error(&format!("sha256={hex}\n"));
    assert_signature_format_error(&format!("sha256={hex},sha256={hex}"));
    // 64 characters, but one of them is a two-byte character.
    assert_signature_format_error(&format!("sha256={}é", &hex[..62]));
}

fn assert_timestamp_error(timestamp: &str) {
    let result = verify_at_signing_time(&headers(timestamp, BODY_SIGNATURE), BODY);
    assert!(matches!(result, Err(WebhookError::InvalidTimestamp { .. })), "{timestamp:?} gave {result:?}");
}

#[test]
fn malformed_timestamps_are_timestamp_errors() {
    for timestamp in [
        "",
        " ",
        "+1700000000",
        "-1700000000",
        " 1700000000",
        "1700000000 ",
        "1700000000\n",
        "1700000000.0",
        "1.7e9",
        "0x6553f100",
        "abc",
        "１７００００００００", // full-width digits are not ASCII digits
        "18446744073709551616", // u64::MAX + 1
        "99999999999999999999999999",
    ] {
        assert_timestamp_error(timestamp);
    }
}

#[test]
fn extreme_signed_timestamps_are_refused_not_panicked_on() {
    // Signed correctly, so only the time itself can be refused.
    for (timestamp, in_future) in [
        ("9999-12-30T00:00:00.999999999Z", true),
        ("-009999-01-03T00:00:00Z", false),
        ("0001-01-01T00:00:00Z", false),
        ("100000000000", true), // year 5138, still a SystemTime
    ] {
        let signature = webhook::sign(SECRET, timestamp, BODY).unwrap();
        let result = verifier().verify_at(&headers(timestamp, &signature), BODY, at(TIMESTAMP));
        if in_future {
            assert!(matches!(result, Err(WebhookError::InFuture { .. })), "{timestamp}: {result:?}");
        } else {
            assert!(matches!(result, Err(WebhookError::TooOld { .. })), "{timestamp}: {result:?}");
        }
        let event = verifier().construct_event_ignoring_age(&headers(timestamp, &signature), BODY).unwrap();
        assert_eq!(event.timestamp_header, timestamp);
        let _ = event.signed_at();
    }
    // More seconds than a `SystemTime` holds, or the very ends of years 9999 and -9999 (past what
    // the date-time library represents once any offset is allowed): a timestamp error.
    for timestamp in
        [u64::MAX.to_string(), "9999-12-31T23:59:59.999999999Z".to_owned(), "-009999-01-01T00:00:00Z".to_owned()]
    {
        let signature = webhook::sign(SECRET, &timestamp, BODY).unwrap();
        let result = verifier().verify_at(&headers(&timestamp, &signature), BODY, at(TIMESTAMP));
        assert!(matches!(result, Err(WebhookError::InvalidTimestamp { .. })), "{timestamp}: {result:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Replay tolerance

fn signed_at(timestamp: u64) -> Vec<(&'static str, String)> {
    webhook::signed_headers(SECRET, "job.completed", "dlv_1", at(timestamp), BODY).unwrap()
}

#[test]
fn default_tolerance_is_300_seconds_inclusive_in_both_directions() {
    let verifier = verifier();
    assert_eq!(verifier.tolerance(), Duration::from_secs(300));
    assert_eq!(Verifier::DEFAULT_TOLERANCE, Duration::from_secs(300));
    let headers = signed_at(TIMESTAMP);

    assert_eq!(verifier.verify_at(&headers, BODY, at(TIMESTAMP + 300)), Ok(()));
    assert_eq!(verifier.verify_at(&headers, BODY, at(TIMESTAMP - 300)), Ok(()));
    assert_eq!(
        verifier.verify_at(&headers, BODY, at(TIMESTAMP + 301)),
        Err(WebhookError::TooOld { age_secs: 301, tolerance_secs: 300 })
    );
    assert_eq!(
        verifier.verify_at(&headers, BODY, at(TIMESTAMP - 301)),
        Err(WebhookError::InFuture { ahead_secs: 301, tolerance_secs: 300 })
    );
}

#[test]
fn a_fraction_of_a_second_past_the_edge_still_counts_as_the_edge() {
    // Ages are compared in whole seconds.
    let now = at(TIMESTAMP + 300) + Duration::from_millis(999);
    assert_eq!(verifier().verify_at(&signed_at(TIMESTAMP), BODY, now), Ok(()));
}

#[test]
fn a_custom_tolerance_moves_both_edges() {
    let verifier = verifier().with_tolerance(Duration::from_secs(60));
    assert_eq!(verifier.tolerance(), Duration::from_secs(60));
    let headers = signed_at(TIMESTAMP);
    assert_eq!(verifier.verify_at(&headers, BODY, at(TIMESTAMP + 60)), Ok(()));
    assert_eq!(verifier.verify_at(&headers, BODY, at(TIMESTAMP - 60)), Ok(()));
    assert_eq!(
        verifier.verify_at(&headers, BODY, at(TIMESTAMP + 61)),
        Err(WebhookError::TooOld { age_secs: 61, tolerance_secs: 60 })
    );
    assert_eq!(
        verifier.verify_at(&headers, BODY, at(TIMESTAMP - 61)),
        Err(WebhookError::InFuture { ahead_secs: 61, tolerance_secs: 60 })
    );
}

#[test]
fn a_zero_tolerance_demands_the_same_second_and_does_not_disable_the_check() {
    let verifier = verifier().with_tolerance(Duration::ZERO);
    let headers = signed_at(TIMESTAMP);
    assert_eq!(verifier.verify_at(&headers, BODY, at(TIMESTAMP)), Ok(()));
    assert_eq!(
        verifier.verify_at(&headers, BODY, at(TIMESTAMP + 1)),
        Err(WebhookError::TooOld { age_secs: 1, tolerance_secs: 0 })
    );
}

#[test]
fn verify_uses_the_real_clock() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(verifier().verify(&signed_at(now), BODY), Ok(()));
    assert!(matches!(verifier().verify(&signed_at(now - 3600), BODY), Err(WebhookError::TooOld { .. })));
}

#[test]
fn verify_ignoring_age_accepts_old_deliveries_but_still_checks_the_signature() {
    let verifier = verifier();
    // Signed in 2023; the real clock is far past the tolerance.
    assert_eq!(verifier.verify_ignoring_age(&valid_headers(), BODY), Ok(()));
    assert_eq!(verifier.verify_ignoring_age(&signed_at(0), BODY), Ok(()));
    assert_eq!(verifier.verify_ignoring_age(&valid_headers(), b"{}"), Err(WebhookError::SignatureMismatch));
    let event = verifier.construct_event_ignoring_age(&valid_headers(), BODY).unwrap();
    assert_eq!(event.job_id.as_deref(), Some("job_1"));
}

#[test]
fn the_signature_is_checked_before_the_age() {
    // A forged delivery is reported as forged, not as merely old.
    let headers = headers("1000", BODY_SIGNATURE);
    assert_eq!(verifier().verify_at(&headers, BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
}

#[test]
fn a_clock_before_1970_refuses_rather_than_panics() {
    let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
    let result = verifier().verify_at(&valid_headers(), BODY, before_epoch);
    assert!(matches!(result, Err(WebhookError::InFuture { .. })), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// Secrets and rotation

#[test]
fn rotation_accepts_a_signature_from_any_listed_secret() {
    let verifier = Verifier::with_secrets(["whsec_new_secret", SECRET]).unwrap();
    assert_eq!(verifier.secret_count(), 2);
    assert_eq!(verifier.verify_at(&valid_headers(), BODY, at(TIMESTAMP)), Ok(()));
    let new = headers("1700000000", BODY_SIGNATURE_NEW_SECRET);
    assert_eq!(verifier.verify_at(&new, BODY, at(TIMESTAMP)), Ok(()));

    let only_new = Verifier::with_secrets(vec!["whsec_new_secret".to_owned()]).unwrap();
    assert_eq!(only_new.verify_at(&new, BODY, at(TIMESTAMP)), Ok(()));
    assert_eq!(only_new.verify_at(&valid_headers(), BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
}

#[test]
fn empty_or_missing_secrets_are_refused() {
    assert_eq!(Verifier::new("").unwrap_err(), WebhookError::EmptySecret);
    assert_eq!(Verifier::with_secrets(Vec::<String>::new()).unwrap_err(), WebhookError::EmptySecret);
    assert_eq!(Verifier::with_secrets([SECRET, ""]).unwrap_err(), WebhookError::EmptySecret);
    assert_eq!(webhook::construct_event("", &valid_headers(), BODY).unwrap_err(), WebhookError::EmptySecret);
}

#[test]
fn the_secret_is_used_exactly_as_given() {
    // A secret read from a file often ends with a newline; it is not trimmed behind your back.
    let with_newline = Verifier::new("whsec_test_secret\n").unwrap();
    assert_eq!(with_newline.verify_at(&valid_headers(), BODY, at(TIMESTAMP)), Err(WebhookError::SignatureMismatch));
}

#[test]
fn debug_of_the_verifier_hides_the_secrets() {
    let verifier = Verifier::with_secrets([SECRET, "whsec_new_secret"]).unwrap();
    for text in [format!("{verifier:?}"), format!("{verifier:#?}")] {
        assert!(!text.contains("whsec"), "{text}");
        assert!(text.contains("secret_count: 2"), "{text}");
        assert!(text.contains("300s"), "{text}");
    }
}

#[test]
fn no_error_message_contains_the_secret() {
    let verifier = verifier();
    let hex = &BODY_SIGNATURE["sha256=".len()..];
    let errors = [
        verifier.verify_at(&valid_headers(), b"tampered", at(TIMESTAMP)),
        verifier.verify_at(&valid_headers(), BODY, at(TIMESTAMP + 1000)),
        verifier.verify_at(&valid_headers(), BODY, at(TIMESTAMP - 1000)),
        verifier.verify_at(&headers("x", BODY_SIGNATURE), BODY, at(TIMESTAMP)),
        verifier.verify_at(&headers("1700000000", hex), BODY, at(TIMESTAMP)),
        verifier.verify_at(&Vec::<(String, String)>::new(), BODY, at(TIMESTAMP)),
        webhook::sign("", TIMESTAMP_TEXT, BODY).map(|_| ()),
        verifier.construct_event_at(&signed_at_with_body(b"not json"), b"not json", at(TIMESTAMP)).map(|_| ()),
    ];
    for error in errors {
        let error = error.unwrap_err();
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("whsec"), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header lookup

#[test]
fn each_missing_header_is_named() {
    for missing in [HEADER_TIMESTAMP, HEADER_SIGNATURE] {
        let headers: Vec<_> = valid_headers().into_iter().filter(|(name, _)| *name != missing).collect();
        assert_eq!(verify_at_signing_time(&headers, BODY), Err(WebhookError::MissingHeader { name: missing }));
        assert!(
            WebhookError::MissingHeader { name: missing }.to_string().contains(missing),
            "the message names the header"
        );
    }
}

#[test]
fn a_missing_event_header_falls_back_to_the_body() {
    let headers: Vec<_> = valid_headers().into_iter().filter(|(name, _)| *name != HEADER_EVENT).collect();
    let event = verifier().construct_event_at(&headers, BODY, at(TIMESTAMP)).unwrap();
    assert_eq!(event.kind, EventKind::JobCompleted);
}

#[test]
fn no_event_kind_anywhere_is_its_own_error() {
    let body = br#"{"job_id":"job_1","status":"completed"}"#;
    let mut headers = signed_at_with_body(body);
    headers.retain(|(name, _)| *name != HEADER_EVENT);
    assert_eq!(verifier().construct_event_at(&headers, body, at(TIMESTAMP)), Err(WebhookError::MissingEventKind));
}

#[test]
fn a_missing_delivery_id_header_leaves_the_delivery_id_empty() {
    let headers: Vec<_> = valid_headers().into_iter().filter(|(name, _)| *name != HEADER_DELIVERY_ID).collect();
    let event = verifier().construct_event_at(&headers, BODY, at(TIMESTAMP)).unwrap();
    assert_eq!(event.delivery_id, None);
}

#[test]
fn header_map_lookup_ignores_case() {
    let mut map = http::HeaderMap::new();
    map.insert("x-webhook-timestamp", "1700000000".parse().unwrap());
    map.insert("X-WEBHOOK-SIGNATURE", BODY_SIGNATURE.parse().unwrap());
    map.insert("x-Webhook-Event", "job.completed".parse().unwrap());
    map.insert("x-webhook-delivery-id", "dlv_1".parse().unwrap());
    assert_eq!(map.get_header("X-Webhook-Timestamp").as_deref(), Some("1700000000"));
    assert_eq!(map.get_header("x-webhook-signature").as_deref(), Some(BODY_SIGNATURE));
    assert_eq!(map.get_header("X-Missing"), None);
    let event = verifier().construct_event_at(&map, BODY, at(TIMESTAMP)).unwrap();
    assert_eq!(event.delivery_id.as_deref(), Some("dlv_1"));
}

#[test]
fn a_non_utf8_header_value_is_malformed_not_missing() {
    let mut map = http::HeaderMap::new();
    map.insert(HEADER_TIMESTAMP, http::HeaderValue::from_bytes(b"17\xff").unwrap());
    map.insert(HEADER_SIGNATURE, BODY_SIGNATURE.parse().unwrap());
    assert!(matches!(verifier().verify_at(&map, BODY, at(TIMESTAMP)), Err(WebhookError::InvalidTimestamp { .. })));
}

#[test]
fn pair_collections_lookup_ignores_case() {
    let lower: Vec<(String, String)> =
        valid_headers().into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    let upper: Vec<(String, String)> =
        valid_headers().into_iter().map(|(name, value)| (name.to_ascii_uppercase(), value)).collect();
    let borrowed: Vec<(&str, &str)> = lower.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let hash_map: HashMap<String, String> = upper.iter().cloned().collect();
    let btree_map: BTreeMap<&str, &str> = borrowed.iter().copied().collect();
    let array = [("x-webhook-timestamp", "1700000000"), ("X-Webhook-Signature", BODY_SIGNATURE)];

    let verifier = verifier();
    let now = at(TIMESTAMP);
    assert_eq!(verifier.verify_at(&lower, BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(&upper, BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(borrowed.as_slice(), BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(&hash_map, BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(&btree_map, BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(&array, BODY, now), Ok(()));
    assert_eq!(verifier.verify_at(&&array, BODY, now), Ok(()));
    assert_eq!(array.get_header("X-WEBHOOK-TIMESTAMP").as_deref(), Some("1700000000"));
}

#[test]
fn the_first_of_repeated_headers_is_used() {
    let mut headers = valid_headers();
    headers.push((HEADER_SIGNATURE, "sha256=".to_owned() + &"0".repeat(64)));
    assert_eq!(verify_at_signing_time(&headers, BODY), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Typed events

fn signed_at_with_body(body: &[u8]) -> Vec<(&'static str, String)> {
    webhook::signed_headers(SECRET, "job.completed", "dlv_1", at(TIMESTAMP), body).unwrap()
}

fn event_for(kind: &str, body: &str) -> Result<webhook::WebhookEvent, WebhookError> {
    let headers = webhook::signed_headers(SECRET, kind, "dlv_7", at(TIMESTAMP), body.as_bytes()).unwrap();
    verifier().construct_event_at(&headers, body.as_bytes(), at(TIMESTAMP))
}

#[test]
fn construct_event_reads_the_simulators_flat_body() {
    let event = verifier().construct_event_at(&valid_headers(), BODY, at(TIMESTAMP)).unwrap();
    assert_eq!(event.kind, EventKind::JobCompleted);
    assert_eq!(event.delivery_id.as_deref(), Some("dlv_1"));
    assert_eq!(event.timestamp_header, TIMESTAMP_TEXT);
    assert_eq!(event.signed_at(), at(TIMESTAMP));
    assert_eq!(event.job_id.as_deref(), Some("job_1"));
    assert_eq!(event.status, Some(JobStatus::Completed));
    assert_eq!(event.progress, Some(100.0));
    assert_eq!(event.output_url.as_deref(), Some("http://127.0.0.1:1234/outputs/job_1.webm"));
    assert_eq!(event.error, None);
    assert_eq!(event.payload, serde_json::from_slice::<serde_json::Value>(BODY).unwrap());
}

#[test]
fn construct_event_for_started_and_failed() {
    let started =
        event_for("job.started", r#"{"event":"job.started","job_id":"job_2","status":"processing","progress":0}"#)
            .unwrap();
    assert_eq!(started.kind, EventKind::JobStarted);
    assert_eq!(started.status, Some(JobStatus::Processing));
    assert_eq!(started.progress, Some(0.0));
    assert_eq!(started.output_url, None);

    let failed = event_for(
        "job.failed",
        r#"{"event":"job.failed","job_id":"job_3","status":"failed","progress":40,"output_url":null,"error":"decoder crashed"}"#,
    )
    .unwrap();
    assert_eq!(failed.kind, EventKind::JobFailed);
    assert_eq!(failed.job_id.as_deref(), Some("job_3"));
    assert_eq!(failed.status, Some(JobStatus::Failed));
    assert_eq!(failed.error.as_deref(), Some("decoder crashed"));
    assert_eq!(failed.delivery_id.as_deref(), Some("dlv_7"));
}

#[test]
fn an_unknown_kind_and_status_are_kept_as_other() {
    let event =
        event_for("job.archived", r#"{"event":"job.archived","id":"job_4","status":"archived","retention_days":30}"#)
            .unwrap();
    assert_eq!(event.kind, EventKind::Other("job.archived".to_owned()));
    assert_eq!(event.kind.as_str(), "job.archived");
    assert_eq!(event.status, Some(JobStatus::Other("archived".to_owned())));
    assert_eq!(event.job_id.as_deref(), Some("job_4"));
    assert_eq!(event.payload["retention_days"], 30, "unknown fields stay in the payload");
}

#[test]
fn job_fields_are_read_from_a_nested_data_or_job_object() {
    let from_data = event_for(
        "job.completed",
        r#"{"id":"evt_1","type":"job.completed","data":{"id":"job_5","status":"completed","progress":"99.5","output_url":"https://cdn.example/o.webm"}}"#,
    )
    .unwrap();
    assert_eq!(from_data.job_id.as_deref(), Some("job_5"), "the nested id is the job's");
    assert_eq!(from_data.progress, Some(99.5));
    assert_eq!(from_data.output_url.as_deref(), Some("https://cdn.example/o.webm"));

    let from_job = event_for(
        "job.failed",
        r#"{"event":"job.failed","job":{"job_id":6,"status":"failed","error":{"code":"oom","message":"out of memory"}}}"#,
    )
    .unwrap();
    assert_eq!(from_job.job_id.as_deref(), Some("6"));
    assert_eq!(from_job.status, Some(JobStatus::Failed));
    assert_eq!(from_job.error.as_deref(), Some("out of memory"));
}

#[test]
fn fields_of_unexpected_types_are_left_empty_rather_than_failing() {
    let event = event_for(
        "job.completed",
        r#"{"event":"job.completed","job_id":["x"],"status":7,"progress":"lots","output_url":false,"error":3}"#,
    )
    .unwrap();
    assert_eq!(event.job_id, None);
    assert_eq!(event.status, None);
    assert_eq!(event.progress, None);
    assert_eq!(event.output_url, None);
    assert_eq!(event.error, None);
}

#[test]
fn the_kind_falls_back_to_the_type_field() {
    let body = br#"{"type":"job.started","job_id":"job_8"}"#;
    let mut headers = signed_at_with_body(body);
    headers.retain(|(name, _)| *name != HEADER_EVENT);
    let event = verifier().construct_event_at(&headers, body, at(TIMESTAMP)).unwrap();
    assert_eq!(event.kind, EventKind::JobStarted);
}

#[test]
fn an_event_header_contradicting_the_signed_body_is_refused() {
    // The header is not signed; the body is. A replayed body under a different header is caught.
    let mut headers = valid_headers();
    headers[0].1 = "job.failed".to_owned();
    assert_eq!(
        verifier().construct_event_at(&headers, BODY, at(TIMESTAMP)),
        Err(WebhookError::EventKindMismatch { header: "job.failed".to_owned(), body: "job.completed".to_owned() })
    );
}

#[test]
fn invalid_json_after_a_valid_signature_is_an_invalid_payload() {
    for body in [&b"not json"[..], b"", b"[1,2,3]", b"\"job.completed\"", b"{\"event\":"] {
        let headers = signed_at_with_body(body);
        assert_eq!(verifier().verify_at(&headers, body, at(TIMESTAMP)), Ok(()), "signature is fine");
        let result = verifier().construct_event_at(&headers, body, at(TIMESTAMP));
        assert!(matches!(result, Err(WebhookError::InvalidPayload { .. })), "{result:?}");
    }
}

#[test]
fn construct_event_verifies_first() {
    assert_eq!(
        verifier().construct_event_at(&valid_headers(), b"{}", at(TIMESTAMP)),
        Err(WebhookError::SignatureMismatch)
    );
    assert!(matches!(
        verifier().construct_event_at(&valid_headers(), BODY, at(TIMESTAMP + 301)),
        Err(WebhookError::TooOld { .. })
    ));
}

#[test]
fn the_free_construct_event_uses_the_real_clock() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let event = webhook::construct_event(SECRET, &signed_at(now), BODY).unwrap();
    assert_eq!(event.signed_at(), at(now));
    assert!(matches!(webhook::construct_event(SECRET, &valid_headers(), BODY), Err(WebhookError::TooOld { .. })));
}

#[test]
fn event_kind_round_trips_through_strings_and_serde() {
    for (kind, text) in [
        (EventKind::JobStarted, "job.started"),
        (EventKind::JobCompleted, "job.completed"),
        (EventKind::JobFailed, "job.failed"),
    ] {
        assert_eq!(kind.to_string(), text);
        assert_eq!(EventKind::from(text), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{text}\""));
    }
}
