//! Where ffmpeg reads an input or writes an output, spelled so that ffmpeg never reads a name as
//! something else: a local file as `file:` and its absolute path (so `take:1.webm` or
//! `concat:a|b` is a file of that name, never a protocol), an `http`/`https` URL as it is, each
//! with the protocols it may use.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::error::{invalid, io, ComposeError};

/// The protocols ffmpeg may use for a local file.
pub(crate) const FILE_PROTOCOLS: &str = "file";
/// The protocols ffmpeg may use for an `http`/`https` URL (TLS runs over TCP).
pub(crate) const URL_PROTOCOLS: &str = "http,https,tcp,tls";

/// An input or output of ffmpeg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local file or folder, its path absolute.
    File(PathBuf),
    /// An `http` or `https` URL.
    Url(String),
}

impl Location {
    /// `path` as a URL when it starts with `http://` or `https://`, else as a local file.
    pub(crate) fn of(path: &Path, field: &'static str) -> Result<Self, ComposeError> {
        match path.to_str() {
            Some(text) if is_web_url(text) => Ok(Self::Url(check_url(text, field)?.to_owned())),
            _ => Ok(Self::File(std::path::absolute(path).map_err(io("find the absolute path of", path))?)),
        }
    }

    /// The argument ffmpeg gets: `file:/abs/path` or the URL.
    pub(crate) fn arg(&self) -> OsString {
        match self {
            Self::File(path) => file_arg(path),
            Self::Url(url) => url.into(),
        }
    }

    /// `-protocol_whitelist LIST` for this location, to put before its `-i`.
    pub(crate) fn whitelist(&self) -> [OsString; 2] {
        let list = match self {
            Self::File(_) => FILE_PROTOCOLS,
            Self::Url(_) => URL_PROTOCOLS,
        };
        ["-protocol_whitelist".into(), list.into()]
    }
}

/// `file:` and `path` (absolute).
pub(crate) fn file_arg(path: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

/// `%` doubled, for a name ffmpeg reads as a pattern (`image2`'s `%05d`).
pub(crate) fn escape_percent(path: &OsStr) -> OsString {
    match path.to_str() {
        Some(text) => text.replace('%', "%%").into(),
        // A name that is not UTF-8: its bytes, each `%` doubled.
        None => {
            let bytes = path.as_encoded_bytes();
            let mut doubled = Vec::with_capacity(bytes.len());
            for &byte in bytes {
                doubled.push(byte);
                if byte == b'%' {
                    doubled.push(b'%');
                }
            }
            // SAFETY: the bytes come from `as_encoded_bytes`, split only right after an ASCII `%`
            // and joined with `%`, valid UTF-8: what `from_encoded_bytes_unchecked` allows.
            unsafe { OsString::from_encoded_bytes_unchecked(doubled) }
        }
    }
}

/// Whether `text` starts with `http://` or `https://` (any case).
pub(crate) fn is_web_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// An `http(s)://host…` URL with a host, and no space or control character.
pub(crate) fn check_url<'a>(url: &'a str, field: &'static str) -> Result<&'a str, ComposeError> {
    if !is_web_url(url) {
        return Err(invalid(field, format!("only http and https URLs are taken, got {:?}", shown(url))));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(field, "a URL must not hold spaces or control characters"));
    }
    let rest = &url[url.find("://").map_or(0, |at| at + 3)..];
    if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
        return Err(invalid(field, format!("{:?} names no host", shown(url))));
    }
    Ok(url)
}

/// A URL as an error may show it: its query (which may carry a signature) cut off.
fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{check_url, escape_percent, Location};

    #[test]
    fn names_that_look_like_protocols_stay_files_and_only_web_urls_pass() {
        let take = Location::of(Path::new("take:1.webm"), "foreground").unwrap();
        let Location::File(path) = &take else { panic!("{take:?}") };
        assert!(path.is_absolute() && path.ends_with("take:1.webm"));
        assert!(take.arg().to_str().unwrap().starts_with("file:/"));
        assert_eq!(take.whitelist()[1], "file");
        let url = Location::of(Path::new("HTTPS://cdn.example.com/bg.png?sig=secret"), "background").unwrap();
        assert_eq!(url.whitelist()[1], "http,https,tcp,tls");
        for bad in ["file:/etc/passwd", "concat:a.png|b.png", "https://", "https:///x", "http://a b/c.png", "ftp://x/y"]
        {
            assert!(check_url(bad, "background").is_err(), "{bad:?}");
        }
        let refused = check_url("gopher://h/x?sig=secret", "background").unwrap_err().to_string();
        assert!(!refused.contains("secret"), "{refused}");
        assert_eq!(escape_percent("a%d/%05d".as_ref()), "a%%d/%%05d");
    }
}
