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
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    })
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
