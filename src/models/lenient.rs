//! Deserializers that accept the shapes a real server sends, so a harmless variation (a numeric
//! id, progress as a string, an error as an object) never fails a call.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A JSON object: the fields of an answer that its struct does not name.
pub type Extra = serde_json::Map<String, Value>;

/// An id sent as a string or a number.
pub(crate) fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

/// A number sent as a number or a numeric string; anything else reads as absent.
pub(crate) fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<Value>::deserialize(deserializer)?.as_ref().and_then(number_of))
}

/// [`number`] on a value already parsed.
pub(crate) fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok().filter(|number: &f64| number.is_finite()),
        _ => None,
    }
}

/// A message sent as a string, or as an object with a `message`; any other value keeps its
/// JSON text so nothing the server said is lost.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(Value::Object(object)) => match object.get("message") {
            Some(Value::String(message)) => Some(message.clone()),
            _ => Some(Value::Object(object).to_string()),
        },
        Some(other) => Some(other.to_string()),
    })
}

/// Picks the job id from `id`, falling back to `job_id`. When both are present, `job_id` stays
/// in `extra` so that nothing the server sent is dropped.
pub(crate) fn pick_id(id: Option<String>, job_id: Option<String>, extra: &mut Extra) -> Option<String> {
    match (id, job_id) {
        (Some(id), Some(job_id)) => {
            extra.insert("job_id".to_owned(), Value::String(job_id));
            Some(id)
        }
        (id, job_id) => id.or(job_id),
    }
}

/// A count sent as a whole number, a float with no fraction, or a numeric string; anything
/// else (negative, fractional, not a number) reads as absent.
pub(crate) fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Value>::deserialize(deserializer)?.as_ref().and_then(count_of))
}

/// [`count`] on a value already parsed.
pub(crate) fn count_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().or_else(|| number.as_f64().and_then(whole)),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<u64>().ok().or_else(|| text.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

/// A timestamp kept as the text the server sent: a string as is, a number (unix seconds) as its
/// digits. Parsing it is left to the reader, so an odd value never fails an answer.
pub(crate) fn timestamp_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

/// A string, or nothing for `null` and any other type.
pub(crate) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        _ => None,
    })
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(value: f64) -> Option<u64> {
    // 2^64 itself is not representable as u64; everything below it with no fraction is.
    (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 18_446_744_073_709_551_616.0)
        .then_some(value as u64)
}

/// A server-owned enum sent as a string; any other value (a number, an object) reads as absent
/// rather than failing the answer.
pub(crate) fn enum_text<'de, D: Deserializer<'de>, T: From<String>>(deserializer: D) -> Result<Option<T>, D::Error> {
    Ok(string(deserializer)?.map(T::from))
}
