//! Properties of `removebgvideo::webhook` over arbitrary input: nothing panics, and whatever body
//! is signed correctly verifies while any other body does not.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use removebgvideo::webhook::{self, Verifier, WebhookError, HEADER_SIGNATURE, HEADER_TIMESTAMP};

const SECRET: &str = "whsec_prop_secret";

fn verifier() -> Verifier {
    Verifier::new(SECRET).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

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
        let headers = webhook::signed_headers(SECRET, "job.completed", "dlv", timestamp, &body).unwrap();
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
        let headers = webhook::signed_headers(SECRET, "job.completed", "dlv", 1_700_000_000, &body).unwrap();
        match verifier().construct_event_ignoring_age(&headers, &body) {
            Ok(event) => prop_assert!(event.payload.is_object()),
            Err(error) => prop_assert!(
                matches!(error, WebhookError::InvalidPayload { .. } | WebhookError::EventKindMismatch { .. }),
                "{:?}", error
            ),
        }
    }
}
