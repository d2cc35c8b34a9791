//! Checking that a delivery comes from the API and is fresh.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hmac::Mac;

use super::event::{event_from_verified_body, SignedTime, WebhookEvent};
use super::parse::{parse_signature, parse_timestamp};
use super::sign::{key_from, mac_of};
use super::{WebhookError, WebhookHeaders, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::secret::Secret;

/// Verifies webhook deliveries against one or more secrets, with replay protection.
///
/// A delivery passes when its `X-Webhook-Signature` is the HMAC-SHA256 of
/// `X-Webhook-Timestamp + "." + raw body` under any of the secrets, and the time the timestamp
/// names (ISO 8601 or unix seconds) is within the [tolerance](Self::with_tolerance) of the
/// current time (300 s by default, either way).
///
/// Build it once and share it: it is `Send` and `Sync`, and cheap to clone (clones share the
/// secrets), so it can sit directly in a web framework's state. Its `Debug` output shows how many
/// secrets it holds and the tolerance, never the secrets.
#[derive(Clone)]
pub struct Verifier {
    /// Never empty: the constructors refuse to build a verifier without a secret.
    secrets: Arc<[Secret]>,
    tolerance: Duration,
}

/// Whether to compare the signed timestamp with a clock, and which.
#[derive(Clone, Copy)]
enum AgeCheck {
    Against(SystemTime),
    Skipped,
}

impl Verifier {
    /// The default tolerance: five minutes either side of the current time.
    pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

    /// A verifier for one secret with the [default tolerance](Self::DEFAULT_TOLERANCE).
    ///
    /// The secret is used exactly as given (no trimming), as the server uses it.
    ///
    /// # Errors
    /// [`WebhookError::EmptySecret`] when `secret` is empty.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        Self::with_secrets([secret])
    }

    /// A verifier that accepts a signature made with any of `secrets`, for rotating a secret
    /// without dropping deliveries: list the new and the old secret until the server signs with
    /// the new one only.
    ///
    /// # Errors
    /// [`WebhookError::EmptySecret`] when `secrets` is empty or any of them is empty.
    pub fn with_secrets<I>(secrets: I) -> Result<Self, WebhookError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let secrets = secrets.into_iter().map(|secret| key_from(secret.as_ref())).collect::<Result<Arc<[_]>, _>>()?;
        if secrets.is_empty() {
            return Err(WebhookError::EmptySecret);
        }
        Ok(Self { secrets, tolerance: Self::DEFAULT_TOLERANCE })
    }

    /// Sets how far the signed time may lie from the current time, in either direction; both
    /// edges pass. Whole seconds count: the age's fraction of a second is dropped, since a
    /// unix-seconds timestamp cannot say more, so with the default 300 s a delivery 300.9 s old
    /// passes and one 301 s old does not. A zero tolerance demands the very same second; any
    /// value up to [`Duration::MAX`] is fine (no overflow). To skip the check, call the
    /// `*_ignoring_age` methods instead.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The tolerance in force.
    #[must_use]
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// How many secrets a signature is checked against.
    #[must_use]
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Verifies a delivery against the current time.
    ///
    /// `body` must be the raw request body, byte for byte: JSON parsed and serialized again
    /// almost never has the same bytes, and then the signature does not match.
    ///
    /// # Errors
    /// [`WebhookError::MissingHeader`], [`WebhookError::InvalidTimestamp`] or
    /// [`WebhookError::InvalidSignatureFormat`] for absent or malformed headers,
    /// [`WebhookError::SignatureMismatch`] when no secret produces the signature, and
    /// [`WebhookError::TooOld`] or [`WebhookError::InFuture`] when the timestamp is outside the
    /// tolerance.
    pub fn verify<H: WebhookHeaders + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<(), WebhookError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// Like [`verify`](Self::verify), with `now` as the current time: for tests, and for
    /// deliveries that were queued and are checked against the time they were received.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_at<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        self.check(headers, body, AgeCheck::Against(now)).map(|_| ())
    }

    /// Verifies the signature only, accepting a timestamp of any age. This gives up replay
    /// protection: use it only for deliveries whose freshness you have established otherwise.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), except for [`WebhookError::TooOld`] and
    /// [`WebhookError::InFuture`].
    pub fn verify_ignoring_age<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        self.check(headers, body, AgeCheck::Skipped).map(|_| ())
    }

    /// Verifies a delivery against the current time, then parses it into a [`WebhookEvent`].
    ///
    /// # Errors
    /// As [`verify`](Self::verify); then [`WebhookError::InvalidPayload`] when the body is not a
    /// JSON object, [`WebhookError::MissingEventKind`] when nothing names the event, and
    /// [`WebhookError::EventKindMismatch`] when the `X-Webhook-Event` header contradicts the
    /// signed body.
    pub fn construct_event<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        self.construct_event_at(headers, body, SystemTime::now())
    }

    /// Like [`construct_event`](Self::construct_event), with `now` as the current time.
    ///
    /// # Errors
    /// As [`construct_event`](Self::construct_event).
    pub fn construct_event_at<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
        now: SystemTime,
    ) -> Result<WebhookEvent, WebhookError> {
        let signed = self.check(headers, body, AgeCheck::Against(now))?;
        event_from_verified_body(headers, body, signed)
    }

    /// Like [`construct_event`](Self::construct_event), accepting a timestamp of any age (see
    /// [`verify_ignoring_age`](Self::verify_ignoring_age)).
    ///
    /// # Errors
    /// As [`construct_event`](Self::construct_event), except for [`WebhookError::TooOld`] and
    /// [`WebhookError::InFuture`].
    pub fn construct_event_ignoring_age<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let signed = self.check(headers, body, AgeCheck::Skipped)?;
        event_from_verified_body(headers, body, signed)
    }

    /// Parses the headers, checks the MAC, then the age; returns the signed time and its text.
    ///
    /// The MAC comes before the age so that "too old" or "in the future" is only ever said about
    /// a delivery that really was signed with one of our secrets.
    fn check<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
        age_check: AgeCheck,
    ) -> Result<SignedTime, WebhookError> {
        let timestamp_text =
            headers.get_header(HEADER_TIMESTAMP).ok_or(WebhookError::MissingHeader { name: HEADER_TIMESTAMP })?;
        let signature_text =
            headers.get_header(HEADER_SIGNATURE).ok_or(WebhookError::MissingHeader { name: HEADER_SIGNATURE })?;
        let signed_at = parse_timestamp(&timestamp_text)?;
        let expected_mac = parse_signature(&signature_text)?;

        // The MAC covers the timestamp text exactly as sent, never a re-formatted time: the API
        // may write `Z` or `+00:00`, three or six fraction digits. A fraction's "." could move
        // the split between timestamp and body (`…:00` + `.123Z.{…}`), but such a body starts
        // with digits, not `{`, so it never parses into an event. `verify_slice` compares in
        // constant time.
        let signed_by_any_secret =
            self.secrets.iter().any(|secret| mac_of(secret, &timestamp_text, body).verify_slice(&expected_mac).is_ok());
        if !signed_by_any_secret {
            return Err(WebhookError::SignatureMismatch);
        }

        if let AgeCheck::Against(now) = age_check {
            self.check_age(signed_at, now)?;
        }
        Ok(SignedTime { at: signed_at, text: timestamp_text.into_owned() })
    }

    /// Refuses a signed time more than the tolerance before or after `now`; both edges pass.
    ///
    /// `duration_since` gives the distance either way as a `Duration`, with no arithmetic that
    /// could overflow, whatever the two times (year -9999, year 9999, a clock at 1970).
    fn check_age(&self, signed_at: SystemTime, now: SystemTime) -> Result<(), WebhookError> {
        let tolerance_secs = self.tolerance.as_secs();
        match now.duration_since(signed_at) {
            Ok(age) if age.as_secs() > tolerance_secs => {
                Err(WebhookError::TooOld { age_secs: age.as_secs(), tolerance_secs })
            }
            Err(ahead) if ahead.duration().as_secs() > tolerance_secs => {
                Err(WebhookError::InFuture { ahead_secs: ahead.duration().as_secs(), tolerance_secs })
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secret_count", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// Verifies a delivery with one secret and the default tolerance, then parses it: a shortcut for
/// `Verifier::new(secret)?.construct_event(headers, body)`.
///
/// # Errors
/// [`WebhookError::EmptySecret`] for an empty secret, otherwise as
/// [`Verifier::construct_event`].
pub fn construct_event<H: WebhookHeaders + ?Sized>(
    secret: &str,
    headers: &H,
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    Verifier::new(secret)?.construct_event(headers, body)
}
