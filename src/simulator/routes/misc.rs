//! `/health`, `/api/pricing`, `/api/download/{id}`, `/outputs/{file}`, `/v1/usage/*`.

use serde_json::{json, Value};

use super::{int_param, Ctx};
use crate::simulator::lock::lock;
use crate::simulator::output;
use crate::simulator::reply::{Reply, ReplyBody};
use crate::simulator::state::{self, JobStatus};

/// `GET /health`, in the docs' shape.
pub(super) fn health() -> Reply {
    Reply::ok(&json!({
        "status": "healthy",
        "checks": { "api": "ok", "runpod_configured": true, "r2_configured": true },
    }))
}

/// `GET /api/pricing`.
pub(super) fn pricing() -> Reply {
    Reply::ok(&state::pricing())
}

/// `GET /api/download/{id}`: the output URL of a completed job, in the docs' shape. A legacy
/// route: it needs no key, so the job id alone finds the job, whoever made it.
pub(super) fn download(ctx: &Ctx, id: &str) -> Reply {
    let (st, _) = ctx.shared.now_state();
    let Some(job) = st.job_index(id).map(|i| &st.jobs[i]) else {
        return ctx.not_found(&format!("Job not found: {id}"));
    };
    if job.status != JobStatus::Completed {
        return ctx.bad_request(&format!("Job not completed: job {id} is {}", job.status.as_str()));
    }
    Reply::ok(&json!({
        "success": true,
        "download_url": job.output_url,
        "output_format": job.output_format,
    }))
}

/// `GET /outputs/{id}.{ext}`: the generated output, streamed; needs no credential.
pub(super) fn output(ctx: &Ctx, file: &str) -> Reply {
    let found = file.rsplit_once('.').and_then(|(id, ext)| {
        let st = lock(&ctx.shared.state);
        let job = st.job_index(id).map(|i| &st.jobs[i])?;
        (job.status == JobStatus::Completed && job.output_ext() == ext)
            .then(|| (job.id.clone(), job.output_format.clone(), content_type(ext)))
    });
    let Some((job_id, format, content_type)) = found else {
        return ctx.not_found(&format!("no output {file}"));
    };
    let body = match ctx.shared.config.output_size {
        Some(len) => ReplyBody::Output { job_id, len },
        None => ReplyBody::Static(output::output_asset(&format).unwrap_or_default()),
    };
    Reply { status: 200, headers: vec![("Content-Type".to_owned(), content_type.to_owned())], body }
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp4" => "video/mp4",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `GET /v1/usage/summary?days=N` (1..=90, default 7).
pub(super) fn usage_summary(ctx: &Ctx) -> Reply {
    match int_param(ctx, "days", 7, 1..=90) {
        Ok(days) => {
            let owner = ctx.owner();
            Reply::ok(&lock(&ctx.shared.state).usage_summary(&owner, days))
        }
        Err(r) => r,
    }
}

/// `GET /v1/usage/events?limit=N` (1..=100, default 20), newest first.
pub(super) fn usage_events(ctx: &Ctx) -> Reply {
    let limit = match int_param(ctx, "limit", 20, 1..=100) {
        Ok(n) => usize::try_from(n).unwrap_or(100),
        Err(r) => return r,
    };
    let owner = ctx.owner();
    let st = lock(&ctx.shared.state);
    let items: Vec<Value> =
        st.events.iter().rev().filter(|e| e.owner == owner).take(limit).map(|e| e.to_json()).collect();
    Reply::ok(&json!({ "items": items, "limit": limit }))
}
