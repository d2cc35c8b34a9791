//! `POST /v1/uploads` (and the legacy `POST /api/upload`): answers from the streaming scan the
//! server already made, applying the documented limits (size, and the four accepted video
//! types); and the uploads' `video_url`s.

use serde_json::json;

use super::Ctx;
use crate::simulator::lock::lock;
use crate::simulator::random::random_hex;
use crate::simulator::reply::{Reply, ReplyBody};
use crate::simulator::uploads::{video_length, FilePart, Upload, UploadError};

/// Answers an upload (`POST /v1/uploads`, or the legacy `POST /api/upload`) from its scan.
pub(super) fn upload(ctx: &Ctx, scanned: Result<FilePart, UploadError>) -> Reply {
    let part = match scanned {
        Ok(p) => p,
        Err(e) => return ctx.bad_request(&e.message()),
    };
    let filename = part.filename.as_deref().map(base_name).filter(|n| !n.is_empty()).unwrap_or("upload.bin").to_owned();
    if let Some(limit) = ctx.shared.config.max_upload_size.filter(|limit| part.size > *limit) {
        return ctx.bad_request(&format!("File too large: {} bytes; the limit is {limit} bytes", part.size));
    }
    if !accepted_type(part.content_type.as_deref(), &filename) {
        return ctx.bad_request(&format!(
            "Invalid file type: {} ({filename}); send video/mp4, video/quicktime, video/webm or video/x-msvideo",
            part.content_type.as_deref().unwrap_or("no content type")
        ));
    }
    let content_type = part
        .content_type
        .clone()
        .filter(|t| t != "application/octet-stream")
        .or_else(|| type_by_name(&filename).map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let duration = part.bytes.as_deref().and_then(video_length);
    // Ids and tokens are random: no upload's address can be derived from another's.
    let id = format!("vid_{}", random_hex(8));
    let token = random_hex(16);
    let video_url = format!("{}/uploads/{id}/{token}/{}", ctx.shared.base_url, encode_segment(&filename));
    let upload = Upload { token, bytes: part.bytes.map(std::sync::Arc::new), content_type, duration };
    lock(&ctx.shared.state).uploads.add(id.clone(), upload, ctx.shared.config.bounds.upload_budget);
    Reply::ok(&json!({
        "success": true,
        "video_id": id,
        "video_url": video_url,
        "filename": filename,
        "size": part.size,
    }))
}

/// `GET /uploads/{id}/{token}/{name}`: the uploaded bytes, as a storage link serves them: no
/// key, but the upload's own token.
pub(super) fn serve(ctx: &Ctx, id: &str, token: &str) -> Reply {
    let found = lock(&ctx.shared.state).uploads.get(id, token).map(|u| (u.bytes.clone(), u.content_type.clone()));
    match found {
        Some((Some(bytes), content_type)) => Reply {
            status: 200,
            headers: vec![("Content-Type".to_owned(), content_type)],
            body: ReplyBody::Shared(bytes),
        },
        Some((None, _)) => ctx.not_found(&format!(
            "upload {id} is no longer kept: uploads beyond the simulator's budget of {} bytes are dropped, oldest first [{}]",
            ctx.shared.config.bounds.upload_budget,
            super::STRICTER
        )),
        None => ctx.not_found("no such upload"),
    }
}

/// The length of the uploaded video a `video_url` of this simulator names, when it was read.
pub(super) fn uploaded_length(ctx: &Ctx, video_url: &str) -> Option<std::time::Duration> {
    let rest = video_url.strip_prefix(&ctx.shared.base_url)?.strip_prefix("/uploads/")?;
    let mut segments = rest.split('/');
    let (id, token) = (segments.next()?, segments.next()?);
    lock(&ctx.shared.state).uploads.get(id, token)?.duration
}

/// The media type a file name's extension stands for, among the accepted ones.
fn type_by_name(filename: &str) -> Option<&'static str> {
    let (_, ext) = filename.rsplit_once('.')?;
    VIDEO_TYPES.iter().find(|(_, e)| ext.eq_ignore_ascii_case(e)).map(|(t, _)| *t)
}

/// The accepted media types, and the file extensions that stand for them.
const VIDEO_TYPES: [(&str, &str); 4] =
    [("video/mp4", "mp4"), ("video/quicktime", "mov"), ("video/webm", "webm"), ("video/x-msvideo", "avi")];

/// One of the four video types by content type; or, when the client sent no specific type
/// (none, or `application/octet-stream`), by the file name's extension.
fn accepted_type(content_type: Option<&str>, filename: &str) -> bool {
    match content_type {
        Some(media_type) if media_type != "application/octet-stream" => {
            VIDEO_TYPES.iter().any(|(accepted, _)| *accepted == media_type)
        }
        _ => filename
            .rsplit_once('.')
            .is_some_and(|(_, ext)| VIDEO_TYPES.iter().any(|(_, accepted)| ext.eq_ignore_ascii_case(accepted))),
    }
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
