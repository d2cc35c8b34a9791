//! The simulated service's state: jobs, keys, usage events, logs, behind one mutex.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::faults::FaultRule;
use super::record::RecordedRequest;
use super::webhooks::{PendingDelivery, WebhookDelivery};

/// The marker that makes a job fail: a `video_url` containing it ends `failed`.
pub(crate) const FAILURE_MARKER: &str = "simulate-failure";
/// The `error` of a job failed through [`FAILURE_MARKER`].
pub(crate) const FAILURE_MESSAGE: &str = "simulated failure";

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
    Pending,
    Processing,
    Completed,
    Failed,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
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
    pub(crate) text_prompt: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) metadata: Option<Value>,
    pub(crate) created_at: u64,
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
            "created_at": self.created_at,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(c) = &self.bg_color {
                obj.insert("bg_color".into(), c.clone());
            }
            if let Some(t) = &self.text_prompt {
                obj.insert("text_prompt".into(), Value::from(t.as_str()));
            }
            if let Some(w) = &self.webhook_url {
                obj.insert("webhook_url".into(), Value::from(w.as_str()));
            }
            if let Some(m) = &self.metadata {
                obj.insert("metadata".into(), m.clone());
            }
        }
        v
    }

    /// The file extension of this job's output.
    pub(crate) fn output_ext(&self) -> &str {
        output_ext(&self.output_format)
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
    pub(crate) created_at: u64,
}

impl UsageEvent {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "job_id": self.job_id,
            "model": self.model,
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
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) deliveries: Vec<WebhookDelivery>,
    pub(crate) next_delivery: u64,
}

impl State {
    pub(crate) fn job_index(&self, id: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.id == id)
    }

    pub(crate) fn key_enabled(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.enabled && k.key == key)
    }

    fn event(&mut self, kind: &'static str, idx: usize) {
        let job = &self.jobs[idx];
        let ev = UsageEvent {
            id: format!("evt_{}", self.events.len() + 1),
            kind,
            job_id: job.id.clone(),
            model: job.model.clone(),
            created_at: now_secs(),
        };
        self.events.push(ev);
    }

    /// Adds a job (already validated) and records `job.created`.
    pub(crate) fn add_job(&mut self, mut job: Job) -> usize {
        job.id = format!("job_{}", self.jobs.len() + 1);
        self.jobs.push(job);
        let idx = self.jobs.len() - 1;
        self.event("job.created", idx);
        idx
    }

    /// pending → processing; completes at once when `polls_to_complete` is 0.
    pub(crate) fn start_job(&mut self, idx: usize, polls_to_complete: u32, base_url: &str) -> Vec<PendingDelivery> {
        let mut out = Vec::new();
        {
            let job = &mut self.jobs[idx];
            job.status = JobStatus::Processing;
            job.progress = 0;
            job.polls = 0;
        }
        self.event("job.started", idx);
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
        let event = if job.video_url.contains(FAILURE_MARKER) {
            job.status = JobStatus::Failed;
            job.error = Some(FAILURE_MESSAGE.to_owned());
            "job.failed"
        } else {
            job.status = JobStatus::Completed;
            job.progress = 100;
            job.output_url = Some(format!("{base_url}/outputs/{}.{}", job.id, job.output_ext()));
            "job.completed"
        };
        self.event(event, idx);
        self.webhook(idx, event, out);
    }

    fn webhook(&mut self, idx: usize, event: &'static str, out: &mut Vec<PendingDelivery>) {
        let job = &self.jobs[idx];
        let Some(url) = job.webhook_url.clone() else {
            return;
        };
        let body = json!({
            "event": event,
            "job_id": job.id,
            "status": job.status.as_str(),
            "progress": job.progress,
            "output_url": job.output_url,
            "error": job.error,
        });
        self.next_delivery += 1;
        out.push(PendingDelivery {
            url,
            event,
            delivery_id: format!("whd_{}_{:08x}", self.next_delivery, fastrand::u32(..)),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        });
    }

    /// The usage summary over the last `days` days.
    pub(crate) fn usage_summary(&self, days: u64) -> Value {
        let since = now_secs().saturating_sub(days.saturating_mul(86_400));
        let recent = || self.events.iter().filter(move |e| e.created_at >= since);
        let count = |kind: &str| recent().filter(|e| e.kind == kind).count();
        let credits: u64 = recent().filter(|e| e.kind == "job.completed").map(|e| credits_per_minute(&e.model)).sum();
        json!({
            "days": days,
            "jobs_created": count("job.created"),
            "jobs_started": count("job.started"),
            "jobs_completed": count("job.completed"),
            "jobs_failed": count("job.failed"),
            "credits_used": credits,
        })
    }
}

/// The simulated price of one minute of output per model.
pub(crate) fn credits_per_minute(model: &str) -> u64 {
    match model {
        "light" => 5,
        "human" => 8,
        "pro" => 20,
        _ => 10,
    }
}

/// The pricing object of `GET /api/pricing`.
pub(crate) fn pricing() -> Value {
    let mut models = Map::new();
    for m in super::routes::MODELS {
        models.insert(
            (*m).to_owned(),
            json!({ "credits_per_minute": credits_per_minute(m), "text_prompt": *m == "pro" }),
        );
    }
    json!({ "currency": "credits", "unit": "minute", "models": models })
}
