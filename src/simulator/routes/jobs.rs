//! `/v1/jobs`: create, start, get, list.

use std::time::SystemTime;

use serde_json::{json, Map, Value};

use super::{int_param, json_object, opt_choice, opt_string, Ctx, BG_TYPES, MODELS, OUTPUT_FORMATS};
use crate::models::{Background, Composition};
use crate::simulator::reply::Reply;
use crate::simulator::state::{Job, JobStatus, Shortfall, NOT_CHARGED};

/// The fields `create` and `start` both accept, validated.
#[derive(Default)]
struct Settings {
    model: Option<String>,
    bg_type: Option<String>,
    output_format: Option<String>,
    text_prompt: Option<String>,
    webhook_url: Option<String>,
    bg_color: Option<Value>,
    bg_image_url: Option<String>,
    background: Option<Value>,
    composition: Option<Value>,
    preview_duration: Option<f64>,
}

fn settings(ctx: &Ctx, obj: &Map<String, Value>) -> Result<Settings, Reply> {
    let present = |name: &str| obj.get(name).is_some_and(|value| !value.is_null());
    if present("background")
        && let Some(flat) = ["bg_type", "bg_color", "bg_image_url"].into_iter().find(|name| present(name))
    {
        return Err(ctx.stricter(&format!(
            "send either the background object or bg_type/bg_color/bg_image_url, not both (got background and {flat})"
        )));
    }
    Ok(Settings {
        model: opt_choice(ctx, obj, "model", MODELS)?,
        bg_type: opt_choice(ctx, obj, "bg_type", BG_TYPES)?,
        output_format: opt_choice(ctx, obj, "output_format", OUTPUT_FORMATS)?,
        text_prompt: opt_string(ctx, obj, "text_prompt")?,
        webhook_url: opt_string(ctx, obj, "webhook_url")?,
        bg_color: bg_color(ctx, obj.get("bg_color"))?,
        bg_image_url: opt_string(ctx, obj, "bg_image_url")?,
        background: checked::<Background>(ctx, obj, "background", |b| b.check().map_err(|e| e.to_string()))?,
        composition: checked::<Composition>(ctx, obj, "composition", |c| c.check().map_err(|e| e.to_string()))?,
        preview_duration: preview_duration(ctx, obj.get("preview_duration"))?,
    })
}

fn bg_color(ctx: &Ctx, value: Option<&Value>) -> Result<Option<Value>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.len() == 3 && a.iter().all(Value::is_number) => {
            if a.iter().filter_map(Value::as_f64).all(|c| (0.0..=1.0).contains(&c)) {
                Ok(Some(Value::Array(a.clone())))
            } else {
                Err(ctx.stricter("bg_color components are normalized 0..=1 (divide 0..=255 values by 255)"))
            }
        }
        Some(_) => Err(ctx.bad_request("bg_color must be an array of 3 numbers")),
    }
}

/// An optional object field that must decode as `T` and pass `check`; kept as sent.
fn checked<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    obj: &Map<String, Value>,
    field: &str,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Option<Value>, Reply> {
    let Some(value) = obj.get(field).filter(|value| !value.is_null()) else {
        return Ok(None);
    };
    let typed =
        serde_json::from_value::<T>(value.clone()).map_err(|e| ctx.bad_request(&format!("invalid {field}: {e}")))?;
    check(&typed).map_err(|message| ctx.stricter(&message))?;
    Ok(Some(value.clone()))
}

fn preview_duration(ctx: &Ctx, value: Option<&Value>) -> Result<Option<f64>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => Ok(Some(seconds)),
            _ => Err(ctx.stricter("preview_duration must be a number of seconds above 0")),
        },
    }
}

fn accepted(id: &str, status: JobStatus, message: &str) -> Reply {
    Reply::ok(&json!({
        "success": true,
        "id": id,
        "status": status.as_str(),
        "message": message,
    }))
}

/// `POST /api/process`: the legacy create-and-start, needing no key (the job belongs to the
/// key sent, else to the simulator's configured key). The answer names the job `job_id` too.
pub(super) fn legacy_process(ctx: &Ctx, body: &[u8]) -> Reply {
    match create_for(ctx, body, ctx.legacy_owner()) {
        Ok((id, status, message)) => Reply::ok(&json!({
            "success": true,
            "id": id,
            "job_id": id,
            "status": status.as_str(),
            "message": message,
        })),
        Err(refused) => refused,
    }
}

fn out_of_credits(ctx: &Ctx, shortfall: Shortfall) -> Reply {
    ctx.error(402, "insufficient_credits", &shortfall.message())
}

/// `POST /v1/jobs`.
pub(super) fn create(ctx: &Ctx, body: &[u8]) -> Reply {
    match create_for(ctx, body, ctx.owner()) {
        Ok((id, status, message)) => accepted(&id, status, message),
        Err(refused) => refused,
    }
}

/// Creates (and, unless `auto_start` is false, starts) a job for tenant `owner`: its id, its
/// status and the answer's message.
fn create_for(ctx: &Ctx, body: &[u8], owner: String) -> Result<(String, JobStatus, &'static str), Reply> {
    let obj = json_object(ctx, body, false)?;
    let video_url = match obj.get("video_url") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(ctx.bad_request("video_url is required and must be a non-empty string")),
    };
    let s = settings(ctx, &obj)?;
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) => Some(m.clone()),
        Some(_) => return Err(ctx.bad_request("metadata must be a JSON object")),
    };
    let auto_start = match obj.get("auto_start") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ctx.bad_request("auto_start must be a boolean")),
    };
    let shared = ctx.shared;
    // An upload to this simulator is charged for its own length; any other URL for the
    // configured one.
    let duration = super::uploads::uploaded_length(ctx, &video_url).unwrap_or(shared.config.job_duration);
    let job = Job {
        id: String::new(),
        owner,
        queued_at: None,
        started_at: None,
        processing: std::time::Duration::ZERO,
        status: JobStatus::Created,
        progress: 0,
        polls: 0,
        video_url,
        model: s.model.unwrap_or_else(|| "original".into()),
        // The server's own default, per the docs.
        bg_type: s.bg_type.unwrap_or_else(|| "transparent".into()),
        output_format: s.output_format.unwrap_or_else(|| "webm".into()),
        bg_color: s.bg_color,
        bg_image_url: s.bg_image_url,
        background: s.background,
        composition: s.composition,
        preview_duration: s.preview_duration,
        text_prompt: s.text_prompt,
        webhook_url: s.webhook_url,
        webhook_events: Map::new(),
        metadata,
        created_at: crate::timestamp::format_iso8601(SystemTime::now()),
        duration,
        billing_status: NOT_CHARGED,
        charged: 0.0,
        output_url: None,
        error: None,
    };
    let (id, status) = {
        let (mut st, now) = shared.now_state();
        if auto_start && let Err(shortfall) = st.afford(&job) {
            return Err(out_of_credits(ctx, shortfall));
        }
        let idx = st.add_job(job);
        if auto_start {
            st.start_job(idx, now, &shared.config.pacing, &shared.base_url);
        }
        let answer = (st.jobs[idx].id.clone(), st.jobs[idx].status);
        shared.release(st);
        answer
    };
    let message = if auto_start {
        "job created and started"
    } else {
        "job created as a draft; start it with POST /v1/jobs/{id}/start"
    };
    Ok((id, status, message))
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
    let owner = ctx.owner();
    let status = {
        let (mut st, now) = shared.now_state();
        let Some(idx) = st.owned_job(id, &owner) else {
            return ctx.not_found(&format!("Job not found: {id}"));
        };
        let current = &st.jobs[idx];
        if current.status != JobStatus::Created {
            return ctx.bad_request(&format!(
                "Job {id} is {}; only created (draft) jobs can be started",
                current.status.as_str()
            ));
        }
        let mut job = current.clone();
        // The background object replaces the flat fields, and the other way round.
        if s.background.is_some() {
            job.bg_color = None;
            job.bg_image_url = None;
        }
        if s.bg_type.is_some() || s.bg_color.is_some() {
            job.background = None;
        }
        let overrides =
            [(&mut job.model, s.model), (&mut job.bg_type, s.bg_type), (&mut job.output_format, s.output_format)];
        for (field, value) in overrides {
            if let Some(value) = value {
                *field = value;
            }
        }
        job.text_prompt = s.text_prompt.or(job.text_prompt);
        job.webhook_url = s.webhook_url.or(job.webhook_url);
        job.bg_color = s.bg_color.or(job.bg_color);
        job.bg_image_url = s.bg_image_url.or(job.bg_image_url);
        job.background = s.background.or(job.background);
        job.composition = s.composition.or(job.composition);
        job.preview_duration = s.preview_duration.or(job.preview_duration);
        if let Err(shortfall) = st.afford(&job) {
            return out_of_credits(ctx, shortfall);
        }
        st.jobs[idx] = job;
        st.start_job(idx, now, &shared.config.pacing, &shared.base_url);
        let status = st.jobs[idx].status;
        shared.release(st);
        status
    };
    accepted(id, status, "job started")
}

/// `GET /v1/jobs/{id}`: the job as the clock has moved it (with poll pacing, each call also
/// moves a processing job on by one step).
pub(super) fn get(ctx: &Ctx, id: &str) -> Reply {
    let shared = ctx.shared;
    let owner = ctx.owner();
    let job = {
        let (mut st, now) = shared.now_state();
        let Some(idx) = st.owned_job(id, &owner) else {
            return ctx.not_found(&format!("Job not found: {id}"));
        };
        st.poll_job(idx, now, &shared.config.pacing, &shared.base_url);
        let job = serde_json::to_vec(&st.jobs[idx].view());
        shared.release(st);
        job
    };
    Reply::bytes(200, "application/json", job.unwrap_or_default())
}

/// `GET /v1/jobs?limit=&offset=&status=`: newest first; does not advance jobs.
pub(super) fn list(ctx: &Ctx) -> Reply {
    // No maximum, as documented; the work stays bounded by the jobs there are.
    let limit = match int_param(ctx, "limit", 20, 1..=u64::MAX) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let offset = match int_param(ctx, "offset", 0, 0..=u64::from(u32::MAX)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let status = ctx.param("status").filter(|s| !s.is_empty());
    let owner = ctx.owner();
    let (st, _) = ctx.shared.now_state();
    let matching = || {
        st.jobs.iter().rev().filter(|j| j.owner == owner && status.as_deref().is_none_or(|s| j.status.as_str() == s))
    };
    let items: Vec<Value> = matching()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(Job::to_json)
        .collect();
    let answer = json!({
        "items": items,
        "total": matching().count(),
        "limit": limit,
        "offset": offset,
    });
    ctx.shared.release(st);
    Reply::ok(&answer)
}
