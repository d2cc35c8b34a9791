//! `POST /v1/uploads`: answers from the streaming scan the server already made.

use serde_json::json;

use super::Ctx;
use crate::simulator::multipart::{FilePart, MultipartError};
use crate::simulator::reply::Reply;
use crate::simulator::state::lock;

/// Answers an upload from its scan result.
pub(super) fn upload(ctx: &Ctx, scanned: Result<FilePart, MultipartError>) -> Reply {
    let part = match scanned {
        Ok(p) => p,
        Err(e) => return ctx.bad_request(&e.message()),
    };
    let filename = part.filename.as_deref().map(base_name).filter(|n| !n.is_empty()).unwrap_or("upload.bin").to_owned();
    let n = {
        let mut st = lock(&ctx.shared.state);
        st.uploads += 1;
        st.uploads
    };
    let video_url = format!("{}/uploads/{n}/{}", ctx.shared.base_url, encode_segment(&filename));
    Reply::ok(&json!({
        "video_url": video_url,
        "filename": filename,
        "size": part.size,
    }))
}

/// The last component of a path a client may have sent as a file name.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
