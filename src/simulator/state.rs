//! The simulated service's state: jobs, keys, credits, usage events, logs, behind one mutex.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::faults::FaultRule;
use super::record::RecordedRequest;
use super::webhooks::{PendingDelivery, WebhookDelivery};
use crate::timestamp::format_iso8601;

/// The marker that makes a job fail: a `video_url` containing it ends `failed`.
pub(crate) const FAILURE_MARKER: &str = "simulate-failure";
/// The `error` of a job failed through [`FAILURE_MARKER`].
pub(crate) const FAILURE_MESSAGE: &str = "simulated failure";

/// `billing_status` of a draft: nothing charged yet.
pub(crate) const NOT_CHARGED: &str = "not_charged";
/// `billing_status` of a started job: its credits were taken.
pub(crate) const CHARGED: &str = "charged";
/// `billing_status` of a failed job: its credits were given back.
pub(crate) const REFUNDED: &str = "refunded";

/// Unix time in seconds.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A job's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobStatus {
    /// A draft (`auto_start: false`), waiting for `POST /v1/jobs/{id}/start`.
    Created,
    Processing,
    Completed,
    Failed,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Created => "created",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }
}

/// One job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) status: JobStatus,
    pub(crate) progress: u32,
    pub(crate) polls: u32,
    pub(crate) video_url: String,
    pub(crate) model: String,
    pub(crate) bg_type: String,
    pub(crate) output_format: String,
    pub(crate) bg_color: Option<Value>,
    pub(crate) bg_image_url: Option<String>,
    pub(crate) background: Option<Value>,
    pub(crate) composition: Option<Value>,
    pub(crate) preview_duration: Option<f64>,
    pub(crate) text_prompt: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) webhook_events: Map<String, Value>,
    pub(crate) metadata: Option<Value>,
    pub(crate) created_at: SystemTime,
    /// The simulated length of the video.
    pub(crate) duration: Duration,
    pub(crate) billing_status: &'static str,
    /// Credits taken when the job started (given back if it fails).
    pub(crate) charged: f64,
    pub(crate) output_url: Option<String>,
    pub(crate) error: Option<String>,
}

impl Job {
    /// The job as `GET /v1/jobs/{id}` answers it.
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "job_id": self.id,
            "status": self.status.as_str(),
            "progress": self.progress,
            "output_url": self.output_url,
            "error": self.error,
            "model": self.model,
            "bg_type": self.bg_type,
            "output_format": self.output_format,
            "video_url": self.video_url,
            "created_at": format_iso8601(self.created_at),
            "duration_seconds": self.duration.as_secs_f64(),
            "billing_status": self.billing_status,
            "webhook_url": self.webhook_url,
            "webhook_events": self.webhook_events,
        });
        if let Some(obj) = v.as_object_mut() {
            let optional = [
                ("bg_color", self.bg_color.clone()),
                ("bg_image_url", self.bg_image_url.clone().map(Value::from)),
                ("background", self.background.clone()),
                ("composition", self.composition.clone()),
                ("preview_duration", self.preview_duration.map(Value::from)),
                ("text_prompt", self.text_prompt.clone().map(Value::from)),
                ("metadata", self.metadata.clone()),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    obj.insert(name.into(), value);
                }
            }
        }
        v
    }

    /// The file extension of this job's output.
    pub(crate) fn output_ext(&self) -> &str {
        output_ext(&self.output_format)
    }

    /// What starting this job costs: the model's credits per minute × the minutes processed
    /// (the whole video, or the preview when shorter).
    pub(crate) fn cost(&self) -> f64 {
        let minutes = self.duration.as_secs_f64() / 60.0;
        let minutes = self.preview_duration.map_or(minutes, |preview| minutes.min(preview / 60.0));
        credits_per_minute(&self.model) * minutes
    }
}

/// The file extension for an output format (`png_sequence` is a zip of frames).
pub(crate) fn output_ext(format: &str) -> &str {
    if format == "png_sequence" {
        "zip"
    } else {
        format
    }
}

/// An API key created through the admin API (or the configured one).
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub(crate) key: String,
    pub(crate) client_id: String,
    pub(crate) fingerprint: String,
    pub(crate) note: Option<String>,
    pub(crate) enabled: bool,
    pub(crate) created_at: u64,
}

impl ApiKey {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "client_id": self.client_id,
            "key_fingerprint": self.fingerprint,
            "note": self.note,
            "enabled": self.enabled,
            "created_at": self.created_at,
        })
    }
}

/// A usage event (`job.created`, `job.started`, `job.completed`, `job.failed`).
#[derive(Debug, Clone)]
pub(crate) struct UsageEvent {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) job_id: String,
    pub(crate) model: String,
    /// Credits this event moved: taken at `job.started`, given back (negative) at `job.failed`.
    pub(crate) credits: f64,
    pub(crate) created_at: u64,
}

impl UsageEvent {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "job_id": self.job_id,
            "model": self.model,
            "credits": self.credits,
            "created_at": self.created_at,
        })
    }
}

/// `sha`-free deterministic fingerprint: `fp_` + 16 hex digits of FNV-1a 64.
pub(crate) fn fingerprint(key: &str) -> String {
    format!("fp_{:016x}", fnv1a(key.as_bytes()))
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Everything mutable.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) jobs: Vec<Job>,
    pub(crate) keys: Vec<ApiKey>,
    pub(crate) events: Vec<UsageEvent>,
    pub(crate) uploads: u64,
    pub(crate) credits: f64,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) deliveries: Vec<WebhookDelivery>,
    pub(crate) next_delivery: u64,
}

/// A job the balance does not cover: what it costs and what is left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shortfall {
    pub(crate) cost: f64,
    pub(crate) balance: f64,
}

impl Shortfall {
    pub(crate) fn message(self) -> String {
        format!(
            "Insufficient credits: this job needs {:.2} credits and {:.2} remain; top up credits to continue",
            self.cost, self.balance
        )
    }
}

impl State {
    pub(crate) fn job_index(&self, id: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.id == id)
    }

    pub(crate) fn key_enabled(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.enabled && k.key == key)
    }

    fn event(&mut self, kind: &'static str, idx: usize, credits: f64) {
        let job = &self.jobs[idx];
        let ev = UsageEvent {
            id: format!("evt_{}", self.events.len() + 1),
            kind,
            job_id: job.id.clone(),
            model: job.model.clone(),
            credits,
            created_at: now_secs(),
        };
        self.events.push(ev);
    }

    /// Whether the balance covers `job`, before it is added or started.
    pub(crate) fn afford(&self, job: &Job) -> Result<(), Shortfall> {
        let cost = job.cost();
        if cost <= self.credits {
            Ok(())
        } else {
            Err(Shortfall { cost, balance: self.credits })
        }
    }

    /// Adds a job (already validated) and records `job.created`.
    pub(crate) fn add_job(&mut self, mut job: Job) -> usize {
        job.id = format!("job_{}", self.jobs.len() + 1);
        self.jobs.push(job);
        let idx = self.jobs.len() - 1;
        self.event("job.created", idx, 0.0);
        idx
    }

    /// created → processing, taking the job's credits (checked with [`State::afford`]);
    /// completes at once when `polls_to_complete` is 0.
    pub(crate) fn start_job(&mut self, idx: usize, polls_to_complete: u32, base_url: &str) -> Vec<PendingDelivery> {
        let mut out = Vec::new();
        let cost = self.jobs[idx].cost();
        self.credits -= cost;
        {
            let job = &mut self.jobs[idx];
            job.status = JobStatus::Processing;
            job.progress = 0;
            job.polls = 0;
            job.charged = cost;
            job.billing_status = CHARGED;
        }
        self.event("job.started", idx, cost);
        self.webhook(idx, "job.started", &mut out);
        if polls_to_complete == 0 {
            self.finish(idx, base_url, &mut out);
        }
        out
    }

    /// One `GET` of a job: a processing job moves on by one step.
    pub(crate) fn poll_job(&mut self, idx: usize, polls_to_complete: u32, base_url: &str) -> Vec<PendingDelivery> {
        let mut out = Vec::new();
        let job = &mut self.jobs[idx];
        if job.status != JobStatus::Processing {
            return out;
        }
        job.polls = job.polls.saturating_add(1);
        if job.polls >= polls_to_complete {
            self.finish(idx, base_url, &mut out);
        } else {
            job.progress = job.polls * 100 / polls_to_complete.max(1);
        }
        out
    }

    fn finish(&mut self, idx: usize, base_url: &str, out: &mut Vec<PendingDelivery>) {
        let job = &mut self.jobs[idx];
        let (event, refund) = if job.video_url.contains(FAILURE_MARKER) {
            job.status = JobStatus::Failed;
            job.error = Some(FAILURE_MESSAGE.to_owned());
            job.billing_status = REFUNDED;
            ("job.failed", std::mem::take(&mut job.charged))
        } else {
            job.status = JobStatus::Completed;
            job.progress = 100;
            job.output_url = Some(format!("{base_url}/outputs/{}.{}", job.id, job.output_ext()));
            ("job.completed", 0.0)
        };
        self.credits += refund;
        self.event(event, idx, -refund);
        self.webhook(idx, event, out);
    }

    fn webhook(&mut self, idx: usize, event: &'static str, out: &mut Vec<PendingDelivery>) {
        let job = &self.jobs[idx];
        let Some(url) = job.webhook_url.clone() else {
            return;
        };
        // The envelope the vendor's own receiver reads: the job's fields under `data`.
        let body = json!({ "event": event, "data": job.to_json() });
        self.next_delivery += 1;
        out.push(PendingDelivery {
            url,
            event,
            job_id: job.id.clone(),
            delivery_id: format!("whd_{}_{:08x}", self.next_delivery, fastrand::u32(..)),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        });
    }

    /// Records how a delivery went in its job's `webhook_events`.
    pub(crate) fn record_delivery(&mut self, job_id: &str, event: &str, delivered: bool) {
        if let Some(idx) = self.job_index(job_id) {
            let outcome = if delivered { "sent" } else { "failed" };
            self.jobs[idx].webhook_events.insert(event.to_owned(), Value::from(outcome));
        }
    }

    /// The usage summary over the last `days` days, in the docs' shape.
    pub(crate) fn usage_summary(&self, days: u64) -> Value {
        let since = now_secs().saturating_sub(days.saturating_mul(86_400));
        let recent = || self.events.iter().filter(move |e| e.created_at >= since);
        let count = |kind: &str| recent().filter(|e| e.kind == kind).count();
        let credits: f64 = recent().map(|e| e.credits).sum();
        json!({
            "days": days,
            "total_jobs": count("job.created"),
            "completed_jobs": count("job.completed"),
            "failed_jobs": count("job.failed"),
            "credits_used": credits,
        })
    }
}

/// The credits one minute of video costs per model (`getting-started/credits`).
pub(crate) fn credits_per_minute(model: &str) -> f64 {
    match model {
        "light" | "human" => 45.0,
        "pro" => 180.0,
        _ => 60.0,
    }
}

/// The answer of `GET /api/pricing`, in the docs' shape.
pub(crate) fn pricing() -> Value {
    let mut models = Map::new();
    for m in super::routes::MODELS {
        models.insert((*m).to_owned(), Value::from(credits_per_minute(m)));
    }
    json!({
        "model_pricing_credits_per_minute": models,
        "price_per_second_cents": 1.0,
        "packages": [
            {"id": "starter", "credits": 1000, "price_cents": 1000},
            {"id": "pro", "credits": 6000, "price_cents": 5000},
        ],
    })
}
