//! Building request paths from ids that come from users and answers.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::client::error::{invalid, Error};

/// Everything but RFC 3986's unreserved characters is encoded, so an id can never add a path
/// segment (`/`), a query (`?`) or a fragment (`#`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The longest id sent (bytes). The API's ids are a few dozen characters; a longer one is a
/// mistake, and refusing it here says so rather than letting a server answer 414 or drop the
/// connection.
pub(crate) const MAX_ID_BYTES: usize = 1024;

/// One id as one percent-encoded path segment.
///
/// # Errors
/// [`Error::InvalidInput`] naming `field` for an empty id, an id over [`MAX_ID_BYTES`], or
/// `.` and `..`, which a URL parser would resolve into another route even when encoded.
pub(crate) fn segment(field: &'static str, id: &str) -> Result<String, Error> {
    if id.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(invalid(field, format!("is {} bytes long; ids are at most {MAX_ID_BYTES} bytes", id.len())));
    }
    if id == "." || id == ".." {
        return Err(invalid(field, "must not be `.` or `..`"));
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}
