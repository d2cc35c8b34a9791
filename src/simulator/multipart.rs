//! A streaming `multipart/form-data` scanner: finds the part named `file`, reads its name and
//! counts its bytes exactly, holding no more than a small buffer whatever the body's size.

use std::io::{self, Read};

/// Size of the rolling buffer.
const BUF_SIZE: usize = 64 * 1024;
/// Longest part-header block accepted.
const MAX_HEADERS: usize = 16 * 1024;

/// What the scanner found of the part named `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePart {
    /// The `filename` parameter (`filename*` wins when both are given), if any.
    pub(crate) filename: Option<String>,
    /// Exact byte count of the part's content.
    pub(crate) size: u64,
    /// The part's `Content-Type`, lowercased and without parameters, if any.
    pub(crate) content_type: Option<String>,
    /// The content, when it was no longer than the scan was asked to keep.
    pub(crate) bytes: Option<Vec<u8>>,
}

/// Why a body is not a usable upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MultipartError {
    /// The content type is not multipart/form-data with a boundary.
    NotMultipart,
    /// No part named `file`.
    MissingFile,
    /// The body breaks the multipart syntax (message says where).
    Malformed(&'static str),
    /// Reading the body failed.
    Io(String),
}

impl MultipartError {
    pub(crate) fn message(&self) -> String {
        match self {
            MultipartError::NotMultipart => "the body must be multipart/form-data with a boundary".to_owned(),
            MultipartError::MissingFile => "a multipart part named `file` is required".to_owned(),
            MultipartError::Malformed(why) => format!("malformed multipart body: {why}"),
            MultipartError::Io(e) => format!("could not read the body: {e}"),
        }
    }
}

impl From<io::Error> for MultipartError {
    fn from(e: io::Error) -> Self {
        MultipartError::Io(e.to_string())
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        (!v.is_empty() && v.len() <= 200).then(|| v.to_owned())
    })
}

/// Scans a whole multipart body, draining it, and returns the part named `file`, with its
/// content when it is at most `keep` bytes.
pub(crate) fn scan_upload<R: Read>(reader: R, boundary: &str, keep: u64) -> Result<FilePart, MultipartError> {
    let mut s = Scanner::new(reader);
    let dash = [b"--", boundary.as_bytes()].concat();
    let delim = [b"\r\n--", boundary.as_bytes()].concat();
    let mut found: Option<FilePart> = None;
    let mut ignored = 0u64;

    // Preamble, then the first boundary (which may open the body without a leading CRLF).
    if !s.skip_until(&dash, &mut ignored, None)? {
        return Err(MultipartError::Malformed("no boundary found"));
    }
    loop {
        // After a boundary: `--` closes the body, else the rest of the line is padding.
        if s.peek(2)? == b"--" {
            break;
        }
        if s.take_until(b"\r\n", 1024)?.is_none() {
            return Err(MultipartError::Malformed("boundary line not terminated"));
        }
        let headers = if s.peek(2)? == b"\r\n" {
            s.consume(2);
            Vec::new()
        } else {
            match s.take_until(b"\r\n\r\n", MAX_HEADERS)? {
                Some(h) => h,
                None => return Err(MultipartError::Malformed("part headers not terminated")),
            }
        };
        let header_text = String::from_utf8_lossy(&headers);
        let (name, filename) = disposition(&header_text);
        let mut size = 0u64;
        let wanted = found.is_none() && name.as_deref() == Some("file");
        let mut kept = wanted.then(|| Kept { bytes: Vec::new(), limit: keep, over: false });
        if !s.skip_until(&delim, &mut size, kept.as_mut())? {
            return Err(MultipartError::Malformed("closing boundary missing"));
        }
        if wanted {
            let bytes = kept.filter(|k| !k.over).map(|k| k.bytes);
            found = Some(FilePart { filename, size, content_type: part_content_type(&header_text), bytes });
        }
    }
    // Epilogue.
    s.drain()?;
    found.ok_or(MultipartError::MissingFile)
}

/// The content of the file part, kept up to a limit.
struct Kept {
    bytes: Vec<u8>,
    limit: u64,
    over: bool,
}

impl Kept {
    fn push(&mut self, data: &[u8]) {
        if self.over {
            return;
        }
        if (self.bytes.len() + data.len()) as u64 > self.limit {
            self.over = true;
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(data);
        }
    }
}

/// The media type of a part's `Content-Type` header, lowercased, parameters dropped.
fn part_content_type(headers: &str) -> Option<String> {
    headers
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        })
        .filter(|media_type| !media_type.is_empty())
}

/// The `name` and `filename` of a part's `Content-Disposition` header.
fn disposition(headers: &str) -> (Option<String>, Option<String>) {
    let Some(value) = headers.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case("content-disposition").then_some(v)
    }) else {
        return (None, None);
    };
    let params = parse_params(value);
    let get = |key: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone());
    let filename = get("filename*").and_then(|v| decode_ext_value(&v)).or_else(|| get("filename"));
    (get("name"), filename)
}

/// `form-data; name="a"; filename="b;c.mp4"` → `[("name","a"), ("filename","b;c.mp4")]`.
fn parse_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    // Skip the disposition type.
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            chars.next();
            if c == '=' || c == ';' {
                if c == ';' {
                    key.clear();
                    continue;
                }
                break;
            }
            key.push(c);
        }
        let key = key.trim().to_owned();
        if key.is_empty() {
            break;
        }
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => break,
                    c => val.push(c),
                }
            }
            for c in chars.by_ref() {
                if c == ';' {
                    break;
                }
            }
        } else {
            for c in chars.by_ref() {
                if c == ';' {
                    break;
                }
                val.push(c);
            }
            val = val.trim().to_owned();
        }
        out.push((key, val));
    }
    out
}

/// RFC 5987 `UTF-8''name%20here` → `name here`.
fn decode_ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let (_lang, encoded) = rest.split_once('\'')?;
    String::from_utf8(super::routes::percent_decode(encoded, false)).ok()
}

/// A reader with a rolling buffer and delimiter search.
struct Scanner<R> {
    inner: R,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    eof: bool,
}

impl<R: Read> Scanner<R> {
    fn new(inner: R) -> Self {
        Scanner { inner, buf: vec![0; BUF_SIZE], lo: 0, hi: 0, eof: false }
    }

    /// Reads more; returns false once the input is exhausted.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        if self.hi == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.hi..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.hi += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Up to `n` buffered bytes (fewer only at the end of the input).
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.hi - self.lo < n {
            if !self.fill()? {
                break;
            }
        }
        let end = self.hi.min(self.lo + n);
        Ok(&self.buf[self.lo..end])
    }

    fn consume(&mut self, n: usize) {
        self.lo = (self.lo + n).min(self.hi);
    }

    /// Skips past the next `delim`, adding the bytes before it to `count`.
    /// Returns false (having consumed everything) when the input ends first.
    fn skip_until(&mut self, delim: &[u8], count: &mut u64, mut kept: Option<&mut Kept>) -> io::Result<bool> {
        loop {
            let data = &self.buf[self.lo..self.hi];
            if let Some(p) = find(data, delim) {
                *count += p as u64;
                if let Some(k) = kept.as_deref_mut() {
                    k.push(&data[..p]);
                }
                self.lo += p + delim.len();
                return Ok(true);
            }
            // Keep a tail that may be the start of a delimiter split across reads.
            let keep = data.len().min(delim.len() - 1);
            let used = data.len() - keep;
            *count += used as u64;
            if let Some(k) = kept.as_deref_mut() {
                k.push(&data[..used]);
            }
            self.lo += used;
            if !self.fill()? {
                *count += (self.hi - self.lo) as u64;
                self.lo = self.hi;
                return Ok(false);
            }
        }
    }

    /// The bytes before the next `delim` (which is consumed), `None` if longer than `limit`
    /// or if the input ends first.
    fn take_until(&mut self, delim: &[u8], limit: usize) -> io::Result<Option<Vec<u8>>> {
        let mut searched: usize = 0;
        loop {
            let data = &self.buf[self.lo..self.hi];
            let from = searched.saturating_sub(delim.len() - 1);
            if let Some(p) = find(&data[from..], delim) {
                let p = from + p;
                let out = data[..p].to_vec();
                self.lo += p + delim.len();
                return Ok(Some(out));
            }
            searched = data.len();
            if searched > limit + delim.len() || !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn drain(&mut self) -> io::Result<()> {
        self.lo = self.hi;
        while self.fill()? {
            self.lo = self.hi;
        }
        Ok(())
    }
}

/// Position of `needle` in `hay` (needle non-empty).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut start = 0;
    while start + needle.len() <= hay.len() {
        let off = hay[start..=hay.len() - needle.len()].iter().position(|&b| b == first)?;
        let at = start + off;
        if &hay[at..at + needle.len()] == needle {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out at most `chunk` bytes per read, to split delimiters.
    struct Chunky<'a>(&'a [u8], usize);
    impl Read for Chunky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn body(b: &str, content: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n").as_bytes(),
        );
        v.extend_from_slice(format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").as_bytes());
        v.extend_from_slice(content);
        v.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        v
    }

    #[test]
    fn counts_exactly_across_chunk_sizes() {
        let b = "XyZ123";
        let mut content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        // Near-miss delimiters inside the content.
        content.extend_from_slice(b"\r\n--XyZ12\r\n-\r\n--");
        let whole = body(b, &content);
        for chunk in [1, 2, 3, 7, 64, 4096, 1 << 20] {
            let part = scan_upload(Chunky(&whole, chunk), b, 1 << 20).expect("scan");
            assert_eq!(part.size, content.len() as u64, "chunk {chunk}");
            assert_eq!(part.bytes.as_deref(), Some(&content[..]), "chunk {chunk}");
            let part = scan_upload(Chunky(&whole, chunk), b, 1000).expect("scan");
            assert_eq!((part.size, part.bytes), (content.len() as u64, None), "not kept: over the limit");
            assert_eq!(part.filename.as_deref(), Some("a;b.mp4"));
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            scan_upload(&b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--"[..], "b", 0),
            Err(MultipartError::MissingFile)
        );
        assert!(matches!(
            scan_upload(&b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n123"[..], "b", 0),
            Err(MultipartError::Malformed(_))
        ));
        assert!(matches!(scan_upload(&b""[..], "b", 0), Err(MultipartError::Malformed(_))));
    }

    #[test]
    fn boundary_param() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("multipart/form-data; boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/json"), None);
    }

    #[test]
    fn ext_filename() {
        let (n, f) = disposition("Content-Disposition: form-data; name=file; filename*=UTF-8''%C3%A9t%C3%A9.mp4");
        assert_eq!(n.as_deref(), Some("file"));
        assert_eq!(f.as_deref(), Some("été.mp4"));
    }
}
