//! The simulated service's state: jobs, tenants (one per key), credits, usage events, logs and
//! the webhook outbox, behind one mutex; and the clock-driven lifecycle of jobs.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::builder::ProcessingTime;
use super::delivery::{Outgoing, PendingDelivery, WebhookDelivery};
use super::faults::FaultRule;
use super::random::random_hex;
use super::record::LoggedRequest;
use super::uploads::Uploads;
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

/// A job's fields as its JSON answer has them; the options a job was not given are left out.
#[derive(serde::Serialize)]
pub(crate) struct JobView<'a> {
    id: &'a str,
    job_id: &'a str,
    status: &'static str,
    progress: u32,
    output_url: Option<&'a str>,
    error: Option<&'a str>,
    model: &'a str,
    bg_type: &'a str,
    output_format: &'a str,
    video_url: &'a str,
    created_at: &'a str,
    duration_seconds: f64,
    billing_status: &'static str,
    webhook_url: Option<&'a str>,
    webhook_events: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_color: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    background: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    composition: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview_duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_prompt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Value>,
}

/// A job's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobStatus {
    /// A draft (`auto_start: false`), waiting for `POST /v1/jobs/{id}/start`.
    Created,
    /// Accepted and charged, waiting for a processing slot.
    Pending,
    Processing,
    Completed,
    Failed,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Created => "created",
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }
}

/// How jobs move: the settings of [`State::advance`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    /// How long processing takes.
    pub(crate) processing_time: ProcessingTime,
    /// When set, the `n`th `GET` of a processing job also finishes it (0: at once).
    pub(crate) polls_to_complete: Option<u32>,
    /// Jobs processing at once; the others wait `pending`.
    pub(crate) concurrency: usize,
}

/// One job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    /// The fingerprint of the key that created it: only that key sees it.
    pub(crate) owner: String,
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
    /// When it was created, as its answers write it (ISO 8601 UTC).
    pub(crate) created_at: String,
    /// The simulated length of the video.
    pub(crate) duration: Duration,
    pub(crate) billing_status: &'static str,
    /// Credits taken when the job started (given back if it fails).
    pub(crate) charged: f64,
    pub(crate) output_url: Option<String>,
    pub(crate) error: Option<String>,
    /// On the simulator's clock: when the job was accepted (started by the client).
    pub(crate) queued_at: Option<Instant>,
    /// On the simulator's clock: when processing began.
    pub(crate) started_at: Option<Instant>,
    /// How long processing takes, fixed when it begins.
    pub(crate) processing: Duration,
}

impl Job {
    /// The job as `GET /v1/jobs/{id}` answers it, serialized straight from its fields.
    pub(crate) fn view(&self) -> JobView<'_> {
        JobView {
            id: &self.id,
            job_id: &self.id,
            status: self.status.as_str(),
            progress: self.progress,
            output_url: self.output_url.as_deref(),
            error: self.error.as_deref(),
            model: &self.model,
            bg_type: &self.bg_type,
            output_format: &self.output_format,
            video_url: &self.video_url,
            created_at: &self.created_at,
            duration_seconds: self.duration.as_secs_f64(),
            billing_status: self.billing_status,
            webhook_url: self.webhook_url.as_deref(),
            webhook_events: &self.webhook_events,
            bg_color: self.bg_color.as_ref(),
            bg_image_url: self.bg_image_url.as_deref(),
            background: self.background.as_ref(),
            composition: self.composition.as_ref(),
            preview_duration: self.preview_duration,
            text_prompt: self.text_prompt.as_deref(),
            metadata: self.metadata.as_ref(),
        }
    }

    /// The job as `GET /v1/jobs/{id}` answers it, as a JSON value.
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// The file extension of this job's output.
    pub(crate) fn output_ext(&self) -> &str {
        output_ext(&self.output_format)
    }

    /// The seconds of video processed: the whole video, or the preview when shorter.
    fn processed_seconds(&self) -> f64 {
        let seconds = self.duration.as_secs_f64();
        self.preview_duration.map_or(seconds, |preview| seconds.min(preview))
    }

    /// What starting this job costs: the model's credits per minute × the minutes processed.
    pub(crate) fn cost(&self) -> f64 {
        credits_per_minute(&self.model) * self.processed_seconds() / 60.0
    }

    /// When a processing job is due to finish by time.
    fn finish_at(&self) -> Option<Instant> {
        self.started_at.map(|at| crate::clock::deadline(at, self.processing))
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

/// An API key: created through the admin API, or the configured one. Each key is a tenant with
/// its own jobs, uploads, usage and credits.
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub(crate) key: String,
    pub(crate) client_id: String,
    pub(crate) fingerprint: String,
    pub(crate) note: Option<String>,
    pub(crate) enabled: bool,
    pub(crate) created_at: u64,
    /// This tenant's balance.
    pub(crate) credits: f64,
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
    pub(crate) owner: String,
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
    /// Every job, in the order they were created.
    pub(crate) jobs: Vec<Job>,
    /// Each job's index in `jobs`, by id: ids are random, so that no tenant can infer another's.
    pub(crate) job_ids: std::collections::HashMap<String, usize>,
    /// Indexes of the jobs that are `pending` or `processing`, oldest first: the only ones time
    /// moves, so advancing costs nothing for finished jobs.
    pub(crate) active: Vec<usize>,
    pub(crate) keys: Vec<ApiKey>,
    pub(crate) events: Vec<UsageEvent>,
    pub(crate) uploads: Uploads,
    /// The request log, oldest first, within its bounds.
    pub(crate) requests: VecDeque<LoggedRequest>,
    /// The body bytes the request log holds.
    pub(crate) request_bytes: usize,
    /// Every request received since start, the ones the log has dropped included.
    pub(crate) received: u64,
    pub(crate) faults: Vec<FaultRule>,
    /// The delivery log, oldest first, within its bound.
    pub(crate) deliveries: VecDeque<WebhookDelivery>,
    pub(crate) next_delivery: u64,
    /// Deliveries waiting to be made (first attempts and retries), in the order their events
    /// happened: a retry keeps its place, ahead of the same receiver's later events.
    pub(crate) outbox: VecDeque<Outgoing>,
    /// Receivers with a delivery in flight: each gets one at a time, in order.
    pub(crate) busy: std::collections::HashSet<String>,
    /// Deliveries taken from the outbox and not yet recorded.
    pub(crate) in_flight: usize,
}

/// The most body bytes the request log holds, whatever its entry bound.
const REQUEST_LOG_BYTES: usize = 64 * 1024 * 1024;

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
    /// Adds a request to the log, dropping the oldest past `entries` or the byte bound.
    pub(crate) fn log_request(&mut self, request: LoggedRequest, entries: usize) {
        self.received += 1;
        self.request_bytes += request.body.len();
        self.requests.push_back(request);
        while self.requests.len() > entries || (self.request_bytes > REQUEST_LOG_BYTES && self.requests.len() > 1) {
            let Some(old) = self.requests.pop_front() else { break };
            self.request_bytes -= old.body.len();
        }
    }

    /// Empties the request log, and with it the bytes counted against its bound.
    pub(crate) fn clear_requests(&mut self) {
        self.requests.clear();
        self.request_bytes = 0;
    }

    /// Adds a delivery attempt to the log, dropping the oldest past `entries`.
    pub(crate) fn log_delivery(&mut self, delivery: WebhookDelivery, entries: usize) {
        self.deliveries.push_back(delivery);
        while self.deliveries.len() > entries {
            self.deliveries.pop_front();
        }
    }

    /// Takes the deliveries that can go now: due, first in their receiver's queue, and to a
    /// receiver with nothing in flight. Their receivers are marked busy.
    pub(crate) fn take_ready(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut blocked = self.busy.clone();
        let mut ready = Vec::new();
        let mut kept = VecDeque::with_capacity(self.outbox.len());
        while let Some(o) = self.outbox.pop_front() {
            if !blocked.contains(&o.delivery.url) && o.is_due(now) {
                blocked.insert(o.delivery.url.clone());
                self.busy.insert(o.delivery.url.clone());
                ready.push(o);
            } else {
                blocked.insert(o.delivery.url.clone());
                kept.push_back(o);
            }
        }
        self.outbox = kept;
        ready
    }

    /// Whether some delivery can go now (see [`State::take_ready`]).
    pub(crate) fn has_ready(&self, now: Instant) -> bool {
        let mut blocked = self.busy.clone();
        for o in &self.outbox {
            if !blocked.contains(&o.delivery.url) && o.is_due(now) {
                return true;
            }
            blocked.insert(o.delivery.url.clone());
        }
        false
    }

    /// Puts a retry back in its place (by sequence number) in the outbox.
    pub(crate) fn requeue(&mut self, o: Outgoing) {
        let at = self.outbox.iter().position(|later| later.seq > o.seq).unwrap_or(self.outbox.len());
        self.outbox.insert(at, o);
    }

    /// The job `id` if it exists.
    pub(crate) fn job_index(&self, id: &str) -> Option<usize> {
        self.job_ids.get(id).copied()
    }

    /// The job `id` if it exists and belongs to `owner`: another tenant's job is not found.
    pub(crate) fn owned_job(&self, id: &str, owner: &str) -> Option<usize> {
        self.job_index(id).filter(|&idx| self.jobs[idx].owner == owner)
    }

    /// The fingerprint of an enabled key.
    pub(crate) fn tenant(&self, key: &str) -> Option<String> {
        use subtle::ConstantTimeEq;
        // Every key is compared, each in constant time: the answer's timing tells nothing.
        let mut found = None;
        for k in &self.keys {
            if bool::from(k.key.as_bytes().ct_eq(key.as_bytes())) && k.enabled {
                found = Some(k.fingerprint.clone());
            }
        }
        found
    }

    fn key_mut(&mut self, owner: &str) -> Option<&mut ApiKey> {
        self.keys.iter_mut().find(|k| k.fingerprint == owner)
    }

    /// The balance of tenant `owner` (0 for an unknown one).
    pub(crate) fn balance(&self, owner: &str) -> f64 {
        self.keys.iter().find(|k| k.fingerprint == owner).map_or(0.0, |k| k.credits)
    }

    fn event(&mut self, kind: &'static str, idx: usize, credits: f64) {
        let job = &self.jobs[idx];
        let ev = UsageEvent {
            id: format!("evt_{}", random_hex(8)),
            owner: job.owner.clone(),
            kind,
            job_id: job.id.clone(),
            model: job.model.clone(),
            credits,
            created_at: now_secs(),
        };
        self.events.push(ev);
    }

    /// Whether the owner's balance covers `job`, before it is added or started.
    pub(crate) fn afford(&self, job: &Job) -> Result<(), Shortfall> {
        let cost = job.cost();
        let balance = self.balance(&job.owner);
        if cost <= balance {
            Ok(())
        } else {
            Err(Shortfall { cost, balance })
        }
    }

    /// Adds a job (already validated) under a new random id and records `job.created`.
    pub(crate) fn add_job(&mut self, mut job: Job) -> usize {
        let idx = self.jobs.len();
        job.id = loop {
            let id = format!("job_{}", random_hex(8));
            if !self.job_ids.contains_key(&id) {
                break id;
            }
        };
        self.job_ids.insert(job.id.clone(), idx);
        self.jobs.push(job);
        self.event("job.created", idx, 0.0);
        idx
    }

    /// Accepts a job for processing at `now`, taking its credits (checked with
    /// [`State::afford`]): it is `pending` until a slot is free, which may be at once.
    pub(crate) fn start_job(&mut self, idx: usize, now: Instant, pacing: &Pacing, base_url: &str) {
        let cost = self.jobs[idx].cost();
        let owner = self.jobs[idx].owner.clone();
        if let Some(key) = self.key_mut(&owner) {
            key.credits -= cost;
        }
        {
            let job = &mut self.jobs[idx];
            job.status = JobStatus::Pending;
            job.progress = 0;
            job.polls = 0;
            job.charged = cost;
            job.billing_status = CHARGED;
            job.queued_at = Some(now);
        }
        self.event("job.started", idx, cost);
        self.active.push(idx);
        self.advance(now, pacing, base_url);
    }

    /// Moves every active job to where it stands at `now`: pending jobs take free slots (at the
    /// instant a slot freed, so a manual clock that jumps far runs the whole queue), processing
    /// jobs whose time has come finish, and each transition queues its webhook.
    pub(crate) fn advance(&mut self, now: Instant, pacing: &Pacing, base_url: &str) {
        if self.active.is_empty() {
            return;
        }
        self.fill_slots(None, pacing);
        loop {
            let next = self
                .active
                .iter()
                .filter_map(|&i| self.jobs[i].finish_at().map(|at| (at, i)))
                .filter(|(at, _)| *at <= now)
                .min();
            let Some((at, idx)) = next else { break };
            self.finish(idx, base_url);
            self.fill_slots(Some(at), pacing);
        }
        for &i in &self.active {
            let job = &mut self.jobs[i];
            if let (JobStatus::Processing, Some(started)) = (job.status, job.started_at) {
                let total = job.processing.as_secs_f64();
                let done = now.saturating_duration_since(started).as_secs_f64();
                let by_time = if total > 0.0 { (done / total * 100.0) as u32 } else { 0 };
                let by_polls = match pacing.polls_to_complete {
                    Some(n) if n > 0 => job.polls * 100 / n,
                    _ => 0,
                };
                job.progress = by_time.max(by_polls).min(99);
            }
        }
    }

    /// Starts pending jobs, oldest first, while fewer than `concurrency` are processing. A job
    /// starts when it was accepted, or at `freed` (when the slot it takes freed up) if later.
    fn fill_slots(&mut self, freed: Option<Instant>, pacing: &Pacing) {
        let mut processing = self.active.iter().filter(|&&i| self.jobs[i].status == JobStatus::Processing).count();
        let mut started = Vec::new();
        for &i in &self.active {
            if processing >= pacing.concurrency.max(1) {
                break;
            }
            let job = &mut self.jobs[i];
            if job.status != JobStatus::Pending {
                continue;
            }
            let queued = job.queued_at.unwrap_or_else(Instant::now);
            let at = freed.map_or(queued, |freed| freed.max(queued));
            job.status = JobStatus::Processing;
            job.started_at = Some(at);
            job.processing = match pacing.polls_to_complete {
                Some(0) => Duration::ZERO,
                _ => pacing.processing_time.for_video(job.processed_seconds()),
            };
            processing += 1;
            started.push(i);
        }
        for i in started {
            self.webhook(i, "job.started");
        }
    }

    /// One `GET` of a job: with poll pacing, a processing job moves on by one step.
    pub(crate) fn poll_job(&mut self, idx: usize, now: Instant, pacing: &Pacing, base_url: &str) {
        let Some(n) = pacing.polls_to_complete else { return };
        let job = &mut self.jobs[idx];
        if job.status != JobStatus::Processing {
            return;
        }
        job.polls = job.polls.saturating_add(1);
        if job.polls >= n {
            self.finish(idx, base_url);
            self.fill_slots(Some(now), pacing);
        } else {
            job.progress = job.progress.max(job.polls * 100 / n.max(1));
        }
    }

    fn finish(&mut self, idx: usize, base_url: &str) {
        self.active.retain(|&i| i != idx);
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
        let owner = job.owner.clone();
        if let Some(key) = self.key_mut(&owner) {
            key.credits += refund;
        }
        self.event(event, idx, -refund);
        self.webhook(idx, event);
    }

    /// Queues the delivery of `event` for job `idx`, if it has a webhook URL.
    fn webhook(&mut self, idx: usize, event: &'static str) {
        let job = &self.jobs[idx];
        let Some(url) = job.webhook_url.clone() else {
            return;
        };
        // The envelope the vendor's own receiver reads: the job's fields under `data`.
        let body = json!({ "event": event, "data": job.to_json() });
        self.next_delivery += 1;
        let delivery = PendingDelivery {
            url,
            event,
            job_id: job.id.clone(),
            delivery_id: format!("whd_{}", random_hex(8)),
            body: std::sync::Arc::new(serde_json::to_vec(&body).unwrap_or_default()),
        };
        let seq = self.next_delivery;
        self.outbox.push_back(Outgoing { delivery, due: None, attempt: 1, seq, first_at: None });
    }

    /// Records how a delivery went in its job's `webhook_events`.
    pub(crate) fn record_delivery(&mut self, job_id: &str, event: &str, delivered: bool) {
        if let Some(idx) = self.job_index(job_id) {
            let outcome = if delivered { "sent" } else { "failed" };
            self.jobs[idx].webhook_events.insert(event.to_owned(), Value::from(outcome));
        }
    }

    /// When the next job is due to finish by time, if any is processing.
    pub(crate) fn next_finish(&self) -> Option<Instant> {
        self.active.iter().filter_map(|&i| self.jobs[i].finish_at()).min()
    }

    /// The usage summary of tenant `owner` over the last `days` days, in the docs' shape,
    /// with a `daily` breakdown (one row per UTC day, oldest first, today last).
    pub(crate) fn usage_summary(&self, owner: &str, days: u64) -> Value {
        let now = now_secs();
        let today = now / 86_400;
        let first_day = (today + 1).saturating_sub(days);
        let since = first_day * 86_400;
        let slots = usize::try_from(today + 1 - first_day).unwrap_or(0);
        // Per day: jobs created, completed, failed, credits used.
        let mut daily = vec![(0u64, 0u64, 0u64, 0.0f64); slots];
        for e in self.events.iter().filter(|e| e.owner == owner && e.created_at >= since) {
            let Some(row) = usize::try_from(e.created_at / 86_400 - first_day).ok().and_then(|i| daily.get_mut(i))
            else {
                continue;
            };
            match e.kind {
                "job.created" => row.0 += 1,
                "job.completed" => row.1 += 1,
                "job.failed" => row.2 += 1,
                _ => {}
            }
            row.3 += e.credits;
        }
        let total = |pick: fn(&(u64, u64, u64, f64)) -> u64| daily.iter().map(pick).sum::<u64>();
        let rows: Vec<Value> = daily
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let day = UNIX_EPOCH + Duration::from_secs((first_day + i as u64) * 86_400);
                json!({
                    "date": format_iso8601(day).get(..10).unwrap_or_default(),
                    "total_jobs": row.0,
                    "completed_jobs": row.1,
                    "failed_jobs": row.2,
                    "credits_used": row.3,
                })
            })
            .collect();
        json!({
            "days": days,
            "total_jobs": total(|r| r.0),
            "completed_jobs": total(|r| r.1),
            "failed_jobs": total(|r| r.2),
            "credits_used": daily.iter().map(|r| r.3).sum::<f64>(),
            "daily": rows,
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
    for m in super::accepted::MODELS {
        models.insert((*m).to_owned(), Value::from(credits_per_minute(m)));
    }
    json!({
        "model_pricing_credits_per_minute": models,
        "price_per_second_cents": 1.0,
        "packages": [
            {"id": "starter", "name": "Starter", "credits": 1000, "price_cents": 1000},
            {"id": "pro", "name": "Pro", "credits": 6000, "price_cents": 5000},
            {"id": "business", "name": "Business", "credits": 30000, "price_cents": 20000},
        ],
    })
}
