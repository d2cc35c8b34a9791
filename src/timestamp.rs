//! Reading and writing the API's timestamps: ISO 8601 / RFC 3339 text (webhook signatures,
//! `created_at`) and unix seconds (earlier webhook deliveries). Parsing is jiff's; this module
//! only decides which shapes the API's producers write and maps them to [`SystemTime`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Longer than any timestamp a producer writes; refusing longer text up front bounds the work.
const MAX_TEXT_LEN: usize = 64;

/// Why a timestamp was refused, in words for an error message.
pub(crate) type Refusal = &'static str;

/// Parses an ISO 8601 / RFC 3339 time: `Z` or a numeric offset, optional fractional seconds
/// (up to nanoseconds), or no zone at all, which is read as UTC (what Python's
/// `datetime.utcnow().isoformat()` writes).
pub(crate) fn parse_iso8601(text: &str) -> Result<SystemTime, Refusal> {
    if text.is_empty() {
        return Err("the value is empty");
    }
    if text.len() > MAX_TEXT_LEN || !text.is_ascii() {
        return Err("expected an ISO 8601 time such as 2026-04-20T10:00:00Z");
    }
    let instant = match text.parse::<Timestamp>() {
        Ok(instant) => instant,
        // Only a time with no offset at all is read as UTC; a malformed offset stays an error.
        // A date alone is not a time of day.
        Err(_) => Some(text)
            .filter(|text| text.contains(['T', 't', ' ']))
            .and_then(|text| text.parse::<DateTime>().ok())
            .and_then(|civil| TimeZone::UTC.to_timestamp(civil).ok())
            .ok_or("expected an ISO 8601 time such as 2026-04-20T10:00:00Z")?,
    };
    to_system_time(instant)
}

/// Parses unix seconds: ASCII digits only (no sign, no fraction, no whitespace).
pub(crate) fn parse_unix_seconds(text: &str) -> Result<SystemTime, Refusal> {
    if text.is_empty() {
        return Err("the value is empty");
    }
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("expected unix seconds made of ASCII digits only");
    }
    let seconds = text.parse::<u64>().map_err(|_| "the number of seconds is too large")?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds)).ok_or("the number of seconds is too large")
}

/// Parses either shape: digits only are unix seconds, anything else must be ISO 8601.
pub(crate) fn parse_any(text: &str) -> Result<SystemTime, Refusal> {
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        parse_unix_seconds(text)
    } else {
        parse_iso8601(text)
    }
}

/// Writes `time` as RFC 3339 in UTC with millisecond precision (`2026-04-20T10:00:00.123Z`),
/// the shape JavaScript's `toISOString` writes. Times outside years 0001..=9999 are clamped to
/// that range, so this never fails.
pub(crate) fn format_iso8601(time: SystemTime) -> String {
    let earliest = Timestamp::from_second(EARLIEST_FOUR_DIGIT_YEAR).unwrap_or(Timestamp::MIN);
    let instant = Timestamp::try_from(time).unwrap_or(if time < UNIX_EPOCH { earliest } else { Timestamp::MAX });
    let millis = instant.max(earliest).as_millisecond();
    let rounded = Timestamp::from_millisecond(millis).unwrap_or(instant);
    format!("{}", rounded.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

/// 0001-01-01T00:00:00Z in unix seconds (`date -u -d 0001-01-01 +%s`): earlier years have no
/// four-digit ISO 8601 form that parsers read back.
const EARLIEST_FOUR_DIGIT_YEAR: i64 = -62_135_596_800;

/// Writes `time` as unix seconds (0 for a time before 1970).
pub(crate) fn format_unix_seconds(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0).to_string()
}

fn to_system_time(instant: Timestamp) -> Result<SystemTime, Refusal> {
    SystemTime::try_from(instant).map_err(|_| "the time is outside what this system can represent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(seconds, nanos)
    }

    // 2026-04-20T10:00:00Z is 1776679200 seconds after the epoch (computed with `date -u -d`).
    const APRIL_20: u64 = 1_776_679_200;

    #[test]
    fn reads_every_documented_shape() {
        for (text, expected) in [
            ("2026-04-20T10:00:00Z", at(APRIL_20, 0)),
            ("2026-04-20T10:00:00+00:00", at(APRIL_20, 0)),
            ("2026-04-20T12:00:00+02:00", at(APRIL_20, 0)),
            ("2026-04-20T10:00:00.123Z", at(APRIL_20, 123_000_000)),
            ("2026-04-20T10:00:00.123456+00:00", at(APRIL_20, 123_456_000)),
            ("2026-04-20T10:00:00", at(APRIL_20, 0)),
            ("2026-04-20T10:00:00.5", at(APRIL_20, 500_000_000)),
        ] {
            assert_eq!(parse_iso8601(text), Ok(expected), "{text}");
            assert_eq!(parse_any(text), Ok(expected), "{text}");
        }
        assert_eq!(parse_any("1776679200"), Ok(at(APRIL_20, 0)));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in [
            "",
            "yesterday",
            "2026-04-20",
            "2026-13-01T00:00:00Z",
            "+1776679200",
            " 1776679200",
            "1776679200.5",
            "２０２６",
        ] {
            assert!(parse_any(text).is_err(), "{text:?} was accepted");
        }
        assert!(parse_any(&"9".repeat(30)).is_err());
        assert!(parse_any(&u64::MAX.to_string()).is_err());
        assert!(parse_iso8601(&"2".repeat(100)).is_err());
    }

    #[test]
    fn writes_what_it_reads() {
        let time = at(APRIL_20, 123_456_789);
        assert_eq!(format_iso8601(time), "2026-04-20T10:00:00.123Z");
        assert_eq!(format_unix_seconds(time), "1776679200");
        assert_eq!(parse_iso8601(&format_iso8601(time)), Ok(at(APRIL_20, 123_000_000)));
    }

    #[test]
    fn extreme_times_are_clamped_not_panicked_on() {
        assert!(format_iso8601(UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1000)).starts_with("9999-12-"));
        assert_eq!(format_unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), "0");
        let long_ago = UNIX_EPOCH - Duration::from_secs(70_000_000_000);
        assert_eq!(format_iso8601(long_ago), "0001-01-01T00:00:00.000Z");
        assert!(parse_iso8601(&format_iso8601(long_ago)).is_ok());
    }
}
