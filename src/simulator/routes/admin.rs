//! `/v1/admin/*`: config and API keys.

use serde_json::{json, Value};

use super::{json_object, opt_string, Ctx, BG_TYPES, MAX_JSON_BODY, MODELS, OUTPUT_FORMATS};
use crate::simulator::lock::lock;
use crate::simulator::reply::Reply;
use crate::simulator::state::{fingerprint, now_secs, ApiKey};

/// `GET /v1/admin/config`.
pub(super) fn config(ctx: &Ctx) -> Reply {
    let cfg = &ctx.shared.config;
    Reply::ok(&json!({
        "environment": "simulator",
        "webhook_signing_enabled": cfg.webhook_secret.is_some(),
        "polls_to_complete": cfg.pacing.polls_to_complete,
        "max_json_body_bytes": MAX_JSON_BODY,
        "models": MODELS,
        "bg_types": BG_TYPES,
        "output_formats": OUTPUT_FORMATS,
    }))
}

/// `GET /v1/admin/keys`.
pub(super) fn list_keys(ctx: &Ctx) -> Reply {
    let st = lock(&ctx.shared.state);
    let items: Vec<Value> = st.keys.iter().map(ApiKey::to_json).collect();
    Reply::ok(&json!({ "items": items }))
}

/// `POST /v1/admin/keys` `{client_id, note?}`.
pub(super) fn create_key(ctx: &Ctx, body: &[u8]) -> Reply {
    let obj = match json_object(ctx, body, false) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let client_id = match obj.get("client_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return ctx.bad_request("client_id is required and must be a non-empty string"),
    };
    let note = match opt_string(ctx, &obj, "note") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let key = format!("rbv_live_{}", crate::simulator::random::random_hex(16));
    // A new tenant: its own jobs, uploads, usage, and the starting balance.
    let record = ApiKey {
        fingerprint: fingerprint(&key),
        key,
        client_id,
        note,
        enabled: true,
        created_at: now_secs(),
        credits: ctx.shared.config.credits,
    };
    let answer = json!({
        "api_key": record.key,
        "key_fingerprint": record.fingerprint,
        "client_id": record.client_id,
        "note": record.note,
        "enabled": true,
        "created_at": record.created_at,
    });
    lock(&ctx.shared.state).keys.push(record);
    Reply::ok(&answer)
}

/// `POST /v1/admin/keys/disable|enable` `{key_fingerprint}`.
pub(super) fn set_enabled(ctx: &Ctx, body: &[u8], enabled: bool) -> Reply {
    let obj = match json_object(ctx, body, false) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let fp = match obj.get("key_fingerprint") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return ctx.bad_request("key_fingerprint is required and must be a string"),
    };
    let mut st = lock(&ctx.shared.state);
    let Some(key) = st.keys.iter_mut().find(|k| k.fingerprint == fp) else {
        return ctx.not_found(&format!("no key with fingerprint {fp}"));
    };
    key.enabled = enabled;
    Reply::ok(&json!({ "success": true, "key_fingerprint": fp, "enabled": enabled }))
}
