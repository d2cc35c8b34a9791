//! Properties of `removebgvideo::webhook` over arbitrary input: nothing panics (no timestamp text,
//! body, tolerance or clock reading), and whatever body is signed correctly verifies while any
//! other body does not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use removebgvideo::webhook::{self, TimestampFormat, Verifier, WebhookError, HEADER_SIGNATURE, HEADER_TIMESTAMP};

const SECRET: &str = "whsec_prop_secret";

fn verifier() -> Verifier {
    Verifier::new(SECRET).unwrap()
}

/// Any time a `SystemTime` can hold on this platform, from far before 1970 to far after.
fn any_system_time() -> impl Strategy<Value = SystemTime> {
    (any::<bool>(), any::<u64>(), 0_u32..1_000_000_000).prop_map(|(before_epoch, secs, nanos)| {
        let distance = Duration::new(secs, nanos);
        let time = if before_epoch { UNIX_EPOCH.checked_sub(distance) } else { UNIX_EPOCH.checked_add(distance) };
        time.unwrap_or(UNIX_EPOCH)
    })
}

/// Timestamp text of every kind: arbitrary strings, ISO 8601 look-alikes with any year, fraction
/// and offset (in range or not), long digit runs, and what the signer writes for any time.
fn any_timestamp_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r"[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}[T t][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{0,12})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?",
        "[0-9]{1,40}",
        (any_system_time(), any::<bool>()).prop_map(|(time, iso)| {
            if iso { TimestampFormat::Iso8601 } else { TimestampFormat::UnixSeconds }.format(time)
        }),
    ]
}

/// Tolerances from zero to `Duration::MAX`.
fn any_tolerance() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        (any::<u64>(), 0_u32..1_000_000_000).prop_map(|(secs, nanos)| Duration::new(secs, nanos)),
        (0_u64..=3600).prop_map(Duration::from_secs),
    ]
}

proptest! {
    #![proptest_config(crate::support::props(512, "proptest-regressions/it/webhook_props.txt"))]

    /// Arbitrary header text and body bytes are refused with an error, never a panic, and never
    /// accepted (a random string is not a valid MAC).
    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        timestamp in any::<String>(),
        signature in any::<String>(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let headers = [(HEADER_TIMESTAMP, timestamp.as_str()), (HEADER_SIGNATURE, signature.as_str())];
        let verifier = verifier();
        prop_assert!(verifier.verify(&headers, &body).is_err());
        prop_assert!(verifier.verify_ignoring_age(&headers, &body).is_err());
        prop_assert!(verifier.construct_event_ignoring_age(&headers, &body).is_err());
    }

    /// Header values shaped like the real ones (digits; `sha256=` and hex) reach the MAC check
    /// and fail there, or fail format checks when the length is off, without panicking.
    #[test]
    fn near_miss_headers_are_refused(
        timestamp in "[0-9]{1,25}",
        hex_digits in "[0-9a-fA-F]{0,70}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let signature = format!("sha256={hex_digits}");
        let headers = [(HEADER_TIMESTAMP, timestamp.as_str()), (HEADER_SIGNATURE, signature.as_str())];
        let result = verifier().verify_ignoring_age(&headers, &body);
        prop_assert!(matches!(
            result,
            Err(WebhookError::SignatureMismatch
                | WebhookError::InvalidSignatureFormat { .. }
                | WebhookError::InvalidTimestamp { .. })
        ), "{:?}", result);
    }

    /// Any body with a correct signature verifies at any signing time within the tolerance, and
    /// changing one byte of it breaks the signature.
    #[test]
    fn a_correctly_signed_random_body_always_verifies(
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        timestamp in 0_u64..=4_000_000_000,
        skew in -300_i64..=300,
        flip_index in any::<prop::sample::Index>(),
        flip_bits in 1_u8..=255,
    ) {
        let signed_at = UNIX_EPOCH + Duration::from_secs(timestamp);
        let headers = webhook::signed_headers(SECRET, "job.completed", "dlv", signed_at, &body).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(timestamp.saturating_add_signed(skew));
        prop_assert_eq!(verifier().verify_at(&headers, &body, now), Ok(()));

        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip_index.index(body.len())] ^= flip_bits;
            prop_assert_eq!(
                verifier().verify_at(&headers, &tampered, now),
                Err(WebhookError::SignatureMismatch)
            );
        }
    }

    /// Arbitrary bytes behind a valid signature either parse into an event or give a payload or
    /// event-kind error; they never panic.
    #[test]
    fn signed_arbitrary_bodies_parse_or_fail_cleanly(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            // Mostly-JSON objects, so the field readers see odd types and nesting too.
            r#"\{("(event|type|job_id|id|status|progress|error|output_url|data|job)":(null|true|[0-9.e-]{1,6}|"[a-z._]{0,8}"|\{"(id|status|progress|message)":("x"|1|\[\])\}),){0,6}"k":0\}"#
                .prop_map(String::into_bytes),
        ],
    ) {
        let headers =
            webhook::signed_headers_with(SECRET, "job.completed", "dlv", "2026-04-20T10:00:00.123Z", &body).unwrap();
        match verifier().construct_event_ignoring_age(&headers, &body) {
            Ok(event) => prop_assert!(event.payload.is_object()),
            Err(error) => prop_assert!(
                matches!(error, WebhookError::InvalidPayload { .. } | WebhookError::EventKindMismatch { .. }),
                "{:?}", error
            ),
        }
    }

    /// Correctly signed deliveries with any timestamp text, checked at any time with any
    /// tolerance, are accepted or refused with a timestamp or age error; nothing panics, and an
    /// accepted event's `signed_at` is the time the text names.
    #[test]
    fn no_timestamp_tolerance_or_clock_panics(
        timestamp in any_timestamp_text(),
        now in any_system_time(),
        tolerance in any_tolerance(),
        body in prop_oneof![
            Just(br#"{"event":"job.completed","data":{"id":"job_1"}}"#.to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ],
    ) {
        let headers = webhook::signed_headers_with(SECRET, "job.completed", "dlv", &timestamp, &body).unwrap();
        let verifier = verifier().with_tolerance(tolerance);
        match verifier.verify_at(&headers, &body, now) {
            Ok(()) | Err(WebhookError::InvalidTimestamp { .. } | WebhookError::TooOld { .. } | WebhookError::InFuture { .. }) => {}
            Err(other) => prop_assert!(false, "{:?} for {:?}", other, timestamp),
        }
        let _ = verifier.construct_event_at(&headers, &body, now);
        if let Ok(event) = verifier.construct_event_ignoring_age(&headers, &body) {
            prop_assert_eq!(&event.timestamp_header, &timestamp);
            let signed_at = event.signed_at();
            prop_assert_eq!(verifier.verify_at(&headers, &body, signed_at), Ok(()));
        }
    }

    /// What `TimestampFormat` writes for any representable time is read back by the verifier.
    #[test]
    fn whatever_the_signer_writes_the_verifier_reads(time in any_system_time(), iso in any::<bool>()) {
        let format = if iso { TimestampFormat::Iso8601 } else { TimestampFormat::UnixSeconds };
        let text = format.format(time);
        let headers = webhook::signed_headers_with(SECRET, "job.started", "dlv", &text, b"{}").unwrap();
        let result = verifier().with_tolerance(Duration::MAX).verify_at(&headers, b"{}", time);
        prop_assert_eq!(result, Ok(()), "{}", text);
    }
}

/// The soak run (`cargo test -- --ignored`): the properties above again, each round with
/// fresh random cases.
#[test]
#[ignore = "soak run: cargo test -- --ignored"]
fn soak() {
    for _ in 0..crate::support::SOAK_ROUNDS {
        arbitrary_headers_and_bodies_never_panic();
        near_miss_headers_are_refused();
        a_correctly_signed_random_body_always_verifies();
        signed_arbitrary_bodies_parse_or_fail_cleanly();
        no_timestamp_tolerance_or_clock_panics();
        whatever_the_signer_writes_the_verifier_reads();
    }
}
