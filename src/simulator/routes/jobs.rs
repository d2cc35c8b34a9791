//! `/v1/jobs`: create, start, get, list.

use serde_json::{json, Map, Value};

use super::{int_param, json_object, opt_choice, opt_string, Ctx, BG_TYPES, MODELS, OUTPUT_FORMATS};
use crate::simulator::reply::Reply;
use crate::simulator::state::{lock, now_secs, Job, JobStatus};
use crate::simulator::webhooks::deliver_all;

/// The fields `create` and `start` both accept, validated.
#[derive(Default)]
struct Settings {
    model: Option<String>,
    bg_type: Option<String>,
    output_format: Option<String>,
    text_prompt: Option<String>,
    webhook_url: Option<String>,
    bg_color: Option<Value>,
}

fn settings(ctx: &Ctx, obj: &Map<String, Value>) -> Result<Settings, Reply> {
    let bg_color = match obj.get("bg_color") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() == 3 && a.iter().all(Value::is_number) => Some(Value::Array(a.clone())),
        Some(_) => return Err(ctx.bad_request("bg_color must be an array of 3 numbers")),
    };
    Ok(Settings {
        model: opt_choice(ctx, obj, "model", MODELS)?,
        bg_type: opt_choice(ctx, obj, "bg_type", BG_TYPES)?,
        output_format: opt_choice(ctx, obj, "output_format", OUTPUT_FORMATS)?,
        text_prompt: opt_string(ctx, obj, "text_prompt")?,
        webhook_url: opt_string(ctx, obj, "webhook_url")?,
        bg_color,
    })
}

fn accepted(id: &str, status: JobStatus, message: &str) -> Reply {
    Reply::ok(&json!({
        "success": true,
        "id": id,
        "status": status.as_str(),
        "message": message,
    }))
}

/// `POST /v1/jobs`.
pub(super) fn create(ctx: &Ctx, body: &[u8]) -> Reply {
    let obj = match json_object(ctx, body, false) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let video_url = match obj.get("video_url") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return ctx.bad_request("video_url is required and must be a non-empty string"),
    };
    let s = match settings(ctx, &obj) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) => Some(m.clone()),
        Some(_) => return ctx.bad_request("metadata must be a JSON object"),
    };
    let auto_start = match obj.get("auto_start") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return ctx.bad_request("auto_start must be a boolean"),
    };
    let job = Job {
        id: String::new(),
        status: JobStatus::Pending,
        progress: 0,
        polls: 0,
        video_url,
        model: s.model.unwrap_or_else(|| "original".into()),
        bg_type: s.bg_type.unwrap_or_else(|| "transparent".into()),
        output_format: s.output_format.unwrap_or_else(|| "webm".into()),
        bg_color: s.bg_color,
        text_prompt: s.text_prompt,
        webhook_url: s.webhook_url,
        metadata,
        created_at: now_secs(),
        output_url: None,
        error: None,
    };
    let shared = ctx.shared;
    let (id, status, pending) = {
        let mut st = lock(&shared.state);
        let idx = st.add_job(job);
        let pending =
            if auto_start { st.start_job(idx, shared.config.polls_to_complete, &shared.base_url) } else { Vec::new() };
        (st.jobs[idx].id.clone(), st.jobs[idx].status, pending)
    };
    deliver_all(shared, pending);
    let message = if auto_start {
        "job created and started"
    } else {
        "job created as a draft; start it with POST /v1/jobs/{id}/start"
    };
    accepted(&id, status, message)
}

/// `POST /v1/jobs/{id}/start`.
pub(super) fn start(ctx: &Ctx, id: &str, body: &[u8]) -> Reply {
    let obj = match json_object(ctx, body, true) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let s = match settings(ctx, &obj) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let shared = ctx.shared;
    let (status, pending) = {
        let mut st = lock(&shared.state);
        let Some(idx) = st.job_index(id) else {
            return ctx.not_found(&format!("job {id} not found"));
        };
        let job = &mut st.jobs[idx];
        if job.status != JobStatus::Pending {
            return ctx.error(
                409,
                "invalid_state",
                &format!("job {id} is {}; only pending jobs can be started", job.status.as_str()),
            );
        }
        if let Some(v) = s.model {
            job.model = v;
        }
        if let Some(v) = s.bg_type {
            job.bg_type = v;
        }
        if let Some(v) = s.output_format {
            job.output_format = v;
        }
        if s.text_prompt.is_some() {
            job.text_prompt = s.text_prompt;
        }
        if s.webhook_url.is_some() {
            job.webhook_url = s.webhook_url;
        }
        if s.bg_color.is_some() {
            job.bg_color = s.bg_color;
        }
        let pending = st.start_job(idx, shared.config.polls_to_complete, &shared.base_url);
        (st.jobs[idx].status, pending)
    };
    deliver_all(shared, pending);
    accepted(id, status, "job started")
}

/// `GET /v1/jobs/{id}`: each call moves a processing job on by one step.
pub(super) fn get(ctx: &Ctx, id: &str) -> Reply {
    let shared = ctx.shared;
    let (job, pending) = {
        let mut st = lock(&shared.state);
        let Some(idx) = st.job_index(id) else {
            return ctx.not_found(&format!("job {id} not found"));
        };
        let pending = st.poll_job(idx, shared.config.polls_to_complete, &shared.base_url);
        (st.jobs[idx].to_json(), pending)
    };
    deliver_all(shared, pending);
    Reply::ok(&job)
}

/// `GET /v1/jobs?limit=&offset=&status=`: newest first; does not advance jobs.
pub(super) fn list(ctx: &Ctx) -> Reply {
    let limit = match int_param(ctx, "limit", 20, 1..=100) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let offset = match int_param(ctx, "offset", 0, 0..=u64::from(u32::MAX)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let status = ctx.param("status").filter(|s| !s.is_empty());
    let st = lock(&ctx.shared.state);
    let matching: Vec<&Job> =
        st.jobs.iter().rev().filter(|j| status.as_deref().is_none_or(|s| j.status.as_str() == s)).collect();
    let items: Vec<Value> = matching
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(|j| j.to_json())
        .collect();
    Reply::ok(&json!({
        "items": items,
        "total": matching.len(),
        "limit": limit,
        "offset": offset,
    }))
}
