//! Routing: which handler answers a path, method checks, authentication, and the small
//! parsing helpers the handlers share.
//!
//! One file per group of routes; they use the simulator's state, replies and webhooks only.

mod admin;
mod jobs;
mod misc;
mod uploads;

use serde_json::{Map, Value};

use subtle::ConstantTimeEq;

use super::lock::lock;
use super::reply::Reply;
use super::shared::Shared;
use super::state::fingerprint;
use super::uploads::{FilePart, UploadError};

pub(crate) use super::accepted::{BG_TYPES, MODELS, OUTPUT_FORMATS};
/// What the message of a refusal stricter than the documented API ends with.
pub(crate) const STRICTER: &str = "the simulator's own check, stricter than the documented API";
/// Largest JSON body accepted.
pub(crate) const MAX_JSON_BODY: usize = 1024 * 1024;

/// A known route, with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    Pricing,
    Download(String),
    Output(String),
    /// `/uploads/{id}/{token}/{name}`: an upload's `video_url`.
    UploadedFile(String, String),
    Uploads,
    /// `POST /api/upload`: the legacy upload, needing no key.
    LegacyUpload,
    /// `POST /api/process`: the legacy create-and-start, needing no key.
    LegacyProcess,
    Jobs,
    Job(String),
    JobStart(String),
    UsageSummary,
    UsageEvents,
    AdminConfig,
    AdminKeys,
    AdminKeysDisable,
    AdminKeysEnable,
}

/// Which credential a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    None,
    ApiKey,
    Admin,
}

impl Route {
    fn auth(&self) -> Auth {
        match self {
            // The legacy `/api/*` routes need no key (`getting-started/authentication`); output
            // and upload URLs stand for storage links, which carry none.
            Route::Health
            | Route::Pricing
            | Route::Download(_)
            | Route::LegacyUpload
            | Route::LegacyProcess
            | Route::Output(_)
            | Route::UploadedFile(..) => Auth::None,
            Route::AdminConfig | Route::AdminKeys | Route::AdminKeysDisable | Route::AdminKeysEnable => Auth::Admin,
            _ => Auth::ApiKey,
        }
    }
}

/// The route for a path and the methods it accepts.
pub(crate) fn resolve(path: &str) -> Option<(Route, &'static [&'static str])> {
    const GET: &[&str] = &["GET"];
    const POST: &[&str] = &["POST"];
    const BOTH: &[&str] = &["GET", "POST"];
    let segs: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let id = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Some(match segs.as_slice() {
        ["health"] => (Route::Health, GET),
        ["api", "pricing"] => (Route::Pricing, GET),
        ["api", "download", j] => (Route::Download(id(j)?), GET),
        ["api", "upload"] => (Route::LegacyUpload, POST),
        ["api", "process"] => (Route::LegacyProcess, POST),
        ["outputs", f] => (Route::Output(id(f)?), GET),
        ["uploads", n, token, _] => (Route::UploadedFile(id(n)?, id(token)?), GET),
        ["v1", "uploads"] => (Route::Uploads, POST),
        ["v1", "jobs"] => (Route::Jobs, BOTH),
        ["v1", "jobs", j] => (Route::Job(id(j)?), GET),
        ["v1", "jobs", j, "start"] => (Route::JobStart(id(j)?), POST),
        ["v1", "usage", "summary"] => (Route::UsageSummary, GET),
        ["v1", "usage", "events"] => (Route::UsageEvents, GET),
        ["v1", "admin", "config"] => (Route::AdminConfig, GET),
        ["v1", "admin", "keys"] => (Route::AdminKeys, BOTH),
        ["v1", "admin", "keys", "disable"] => (Route::AdminKeysDisable, POST),
        ["v1", "admin", "keys", "enable"] => (Route::AdminKeysEnable, POST),
        _ => return None,
    })
}

/// The request as handlers see it.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) request_id: &'a str,
    pub(crate) method: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a http::HeaderMap,
    /// The request's tenant, looked up once.
    tenant: std::cell::OnceCell<Option<String>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        request_id: &'a str,
        method: &'a str,
        query: Option<&'a str>,
        headers: &'a http::HeaderMap,
    ) -> Ctx<'a> {
        Ctx { shared, request_id, method, query, headers, tenant: std::cell::OnceCell::new() }
    }

    /// The first value of header `name`, trimmed; a value that is not UTF-8 reads as empty
    /// (present, and matching no credential).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| std::str::from_utf8(v.as_bytes()).map_or("", str::trim))
    }

    pub(crate) fn error(&self, status: u16, code: &str, message: &str) -> Reply {
        Reply::error(status, code, message, self.request_id)
    }

    pub(crate) fn bad_request(&self, message: &str) -> Reply {
        self.error(400, "invalid_request", message)
    }

    /// A 400 for a check the simulator makes where the documented API says nothing: the
    /// message says so, so that a user does not take it for the service's rule.
    pub(crate) fn stricter(&self, message: &str) -> Reply {
        self.bad_request(&format!("{message} [{STRICTER}]"))
    }

    pub(crate) fn not_found(&self, message: &str) -> Reply {
        self.error(404, "not_found", message)
    }

    pub(crate) fn param(&self, name: &str) -> Option<String> {
        super::query::param(self.query, name)
    }

    /// The tenant (key fingerprint) of the request's enabled API key, if any.
    pub(crate) fn tenant(&self) -> Option<String> {
        self.tenant.get_or_init(|| self.header("X-Api-Key").and_then(|k| lock(&self.shared.state).tenant(k))).clone()
    }

    /// The tenant of a request that passed authentication (an unknown one sees nothing).
    pub(crate) fn owner(&self) -> String {
        self.tenant().unwrap_or_default()
    }

    /// The tenant a legacy `/api/*` request acts for: its key's when it sends a valid one,
    /// else the account of the key the simulator was started with.
    pub(crate) fn legacy_owner(&self) -> String {
        self.tenant().unwrap_or_else(|| fingerprint(&self.shared.config.api_key))
    }

    /// Whether the request carries the credential `route` needs (compared in constant time).
    pub(crate) fn authorized(&self, route: &Route) -> bool {
        let cfg = &self.shared.config;
        match route.auth() {
            Auth::None => true,
            Auth::Admin => self
                .header("X-Admin-Token")
                .is_some_and(|token| bool::from(token.as_bytes().ct_eq(cfg.admin_token.as_bytes()))),
            Auth::ApiKey => self.tenant().is_some(),
        }
    }
}

/// The request body, as far as the server read it before dispatch.
pub(crate) enum Body {
    /// The whole body (at most [`MAX_JSON_BODY`] bytes).
    Bytes(Vec<u8>),
    /// The body was longer than [`MAX_JSON_BODY`].
    TooLarge,
    /// The body broke off, or broke HTTP (a bad chunk size).
    Unreadable,
    /// The upload route's scan result.
    Upload(Result<FilePart, UploadError>),
}

/// Answers a request: 404 / 405 / 401 / 413 checks, then the route's handler.
pub(crate) fn dispatch(ctx: &Ctx, resolved: Option<&(Route, &'static [&'static str])>, body: Body) -> Reply {
    let Some((route, methods)) = resolved else {
        return ctx.not_found("no such route");
    };
    if !methods.contains(&ctx.method) {
        return ctx
            .error(405, "invalid_request", &format!("Method {} not allowed here", ctx.method))
            .with_header("Allow", &methods.join(", "));
    }
    if !ctx.authorized(route) {
        return match (route.auth(), ctx.header("X-Api-Key"), ctx.header("X-Admin-Token")) {
            (Auth::Admin, _, None) => {
                ctx.error(401, "missing_api_key", "Missing admin token: send it in X-Admin-Token")
            }
            (Auth::Admin, _, Some(_)) => ctx.error(401, "invalid_api_key", "Invalid admin token"),
            (_, None, _) => ctx.error(401, "missing_api_key", "Missing API key: send it in X-Api-Key"),
            (_, Some(_), _) => ctx.error(401, "invalid_api_key", "Invalid API key: it is wrong or disabled"),
        };
    }
    let bytes = match body {
        Body::TooLarge => {
            return ctx.bad_request(&format!("Request body too large: a JSON body is at most {MAX_JSON_BODY} bytes"))
        }
        Body::Unreadable => return ctx.bad_request(crate::simulator::uploads::UNREADABLE),
        Body::Upload(result) => return uploads::upload(ctx, result),
        Body::Bytes(b) => b,
    };
    let post = ctx.method == "POST";
    match route {
        Route::Health => misc::health(),
        Route::Pricing => misc::pricing(),
        Route::Download(id) => misc::download(ctx, id),
        Route::Output(file) => misc::output(ctx, file),
        Route::UploadedFile(id, token) => uploads::serve(ctx, id, token),
        Route::Uploads | Route::LegacyUpload => uploads::upload(ctx, Err(UploadError::NotMultipart)),
        Route::LegacyProcess => jobs::legacy_process(ctx, &bytes),
        Route::Jobs if post => jobs::create(ctx, &bytes),
        Route::Jobs => jobs::list(ctx),
        Route::Job(id) => jobs::get(ctx, id),
        Route::JobStart(id) => jobs::start(ctx, id, &bytes),
        Route::UsageSummary => misc::usage_summary(ctx),
        Route::UsageEvents => misc::usage_events(ctx),
        Route::AdminConfig => admin::config(ctx),
        Route::AdminKeys if post => admin::create_key(ctx, &bytes),
        Route::AdminKeys => admin::list_keys(ctx),
        Route::AdminKeysDisable => admin::set_enabled(ctx, &bytes, false),
        Route::AdminKeysEnable => admin::set_enabled(ctx, &bytes, true),
    }
}

/// Parses a JSON object body; `empty_ok` turns an empty body into `{}`.
pub(crate) fn json_object(ctx: &Ctx, bytes: &[u8], empty_ok: bool) -> Result<Map<String, Value>, Reply> {
    if empty_ok && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ctx.bad_request("the body must be a JSON object")),
        Err(e) => Err(ctx.bad_request(&format!("malformed JSON body: {e}"))),
    }
}

/// An optional string field (`null` counts as absent).
pub(crate) fn opt_string(ctx: &Ctx, obj: &Map<String, Value>, field: &str) -> Result<Option<String>, Reply> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ctx.bad_request(&format!("{field} must be a string"))),
    }
}

/// An optional string field restricted to `allowed`.
pub(crate) fn opt_choice(
    ctx: &Ctx,
    obj: &Map<String, Value>,
    field: &str,
    allowed: &[&str],
) -> Result<Option<String>, Reply> {
    let v = opt_string(ctx, obj, field)?;
    match v {
        Some(s) if !allowed.contains(&s.as_str()) => {
            Err(ctx.bad_request(&format!("invalid {field} {s:?}: expected one of {}", allowed.join(", "))))
        }
        v => Ok(v),
    }
}

/// A numeric query parameter within `range`, `default` when absent.
pub(crate) fn int_param(
    ctx: &Ctx,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, Reply> {
    match ctx.param(name) {
        None => Ok(default),
        Some(s) => match s.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ctx.bad_request(&format!(
                "{name} must be an integer between {} and {}",
                range.start(),
                range.end()
            ))),
        },
    }
}
