//! [`SimulatorBuilder`]: the simulator's settings.

use std::sync::Arc;
use std::time::Duration;

use super::faults::FaultRule;
use crate::clock::Clock;

/// How long a job takes to process, on the simulator's clock (see [`SimulatorBuilder::processing_time`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ProcessingTime {
    /// Every job takes this long.
    Fixed(Duration),
    /// A job takes this many seconds per second of video processed (its `duration_seconds`, or
    /// its preview when shorter): `PerVideoSecond(0.5)` processes a 10 s video in 5 s.
    PerVideoSecond(f64),
}

impl ProcessingTime {
    /// The processing time of a video of `seconds` (negative, NaN or huge values are clamped).
    pub(crate) fn for_video(self, seconds: f64) -> Duration {
        match self {
            ProcessingTime::Fixed(d) => d,
            ProcessingTime::PerVideoSecond(factor) => {
                let secs = factor * seconds;
                Duration::try_from_secs_f64(if secs.is_finite() { secs.max(0.0) } else { 0.0 })
                    .unwrap_or(Duration::from_secs(100 * 365 * 24 * 3600))
            }
        }
    }
}

/// The longest idle or body timeout kept: the server's timers count from now, and a deadline
/// past what the clock can hold would be a panic, not a wait.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The simulator's bounds on what it keeps and serves: each has a builder setting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// How long a connection may wait for (and take to send) the head of its next request.
    pub(crate) idle_timeout: Duration,
    /// The longest pause between two pieces of a request body.
    pub(crate) body_timeout: Duration,
    /// Connections open at once; past it a connection is answered 503 and closed.
    pub(crate) max_connections: usize,
    /// Requests kept in the request log (the oldest are dropped first).
    pub(crate) request_log: usize,
    /// Attempts kept in the delivery log (the oldest are dropped first).
    pub(crate) delivery_log: usize,
    /// Bytes of uploaded files kept (the oldest files are dropped first).
    pub(crate) upload_budget: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 256,
            request_log: 10_000,
            delivery_log: 10_000,
            upload_budget: 256 * 1024 * 1024,
        }
    }
}

/// Settings of a [`Simulator`](super::Simulator); get one from [`Simulator::builder`](super::Simulator::builder).
#[derive(Clone)]
#[must_use]
pub struct SimulatorBuilder {
    pub(crate) api_key: String,
    pub(crate) admin_token: String,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) polls_to_complete: Option<u32>,
    pub(crate) processing_time: ProcessingTime,
    pub(crate) concurrency: usize,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) port: u16,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) webhook_retries: u32,
    pub(crate) output_size: Option<usize>,
    pub(crate) worker_threads: usize,
    pub(crate) credits: f64,
    pub(crate) job_duration: Duration,
    pub(crate) max_upload_size: Option<u64>,
    pub(crate) bounds: Bounds,
    pub(crate) webhook_max_age: Duration,
}

/// Credentials are left out, as everywhere in the crate.
impl std::fmt::Debug for SimulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorBuilder")
            .field("polls_to_complete", &self.polls_to_complete)
            .field("processing_time", &self.processing_time)
            .field("concurrency", &self.concurrency)
            .field("clock", &self.clock)
            .field("port", &self.port)
            .field("faults", &self.faults)
            .field("webhook_retries", &self.webhook_retries)
            .field("output_size", &self.output_size)
            .field("credits", &self.credits)
            .field("job_duration", &self.job_duration)
            .field("max_upload_size", &self.max_upload_size)
            .field("bounds", &self.bounds)
            .field("webhook_max_age", &self.webhook_max_age)
            .finish_non_exhaustive()
    }
}

/// Webhook retries by default: with the backoff capped at 30 s, about three minutes of tries.
const DEFAULT_WEBHOOK_RETRIES: u32 = 10;

/// How long a delivery may be tried again by default.
const DEFAULT_WEBHOOK_MAX_AGE: Duration = Duration::from_secs(600);

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            api_key: "sim_test_key".to_owned(),
            admin_token: "sim_admin_token".to_owned(),
            webhook_secret: Some("sim_webhook_secret".to_owned()),
            polls_to_complete: Some(3),
            processing_time: ProcessingTime::Fixed(Duration::from_secs(5)),
            concurrency: usize::MAX,
            clock: None,
            port: 0,
            faults: Vec::new(),
            webhook_retries: DEFAULT_WEBHOOK_RETRIES,
            output_size: None,
            worker_threads: 2,
            credits: f64::INFINITY,
            job_duration: Duration::from_secs(10),
            // The same reading of the documented 500 MB as the client's check.
            max_upload_size: Some(crate::client::transport::MAX_UPLOAD_BYTES),
            bounds: Bounds::default(),
            webhook_max_age: DEFAULT_WEBHOOK_MAX_AGE,
        }
    }
}

impl SimulatorBuilder {
    /// The API key `/v1/*` accepts in `X-Api-Key` (default `sim_test_key`). Keys created through
    /// `POST /v1/admin/keys` are accepted too while enabled.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// The token `/v1/admin/*` accepts in `X-Admin-Token` (default `sim_admin_token`).
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = token.into();
        self
    }

    /// The secret webhook deliveries are signed with (default `sim_webhook_secret`);
    /// `None` (or an empty secret) sends them without `X-Webhook-Signature`.
    pub fn webhook_secret(mut self, secret: Option<&str>) -> Self {
        self.webhook_secret = secret.filter(|s| !s.is_empty()).map(str::to_owned);
        self
    }

    /// Poll pacing (the default, with 3): the `polls`th `GET /v1/jobs/{id}` of a processing job
    /// finishes it, if its processing time has not already (progress 0 → 33 → 66 → completed).
    /// 0 finishes a job as soon as it starts processing. Setting a processing time
    /// ([`job_seconds`](Self::job_seconds), [`processing_time`](Self::processing_time)) turns
    /// poll pacing off: only time moves jobs then.
    pub fn polls_to_complete(mut self, polls: u32) -> Self {
        self.polls_to_complete = Some(polls);
        self
    }

    /// How long processing takes on the simulator's clock (default 5 s, fixed), whether or not
    /// anyone polls; turns poll pacing off.
    pub fn processing_time(mut self, time: ProcessingTime) -> Self {
        self.processing_time = time;
        self.polls_to_complete = None;
        self
    }

    /// Every job processes for `seconds` (negative or NaN is 0): shorthand for
    /// [`processing_time`](Self::processing_time)`(ProcessingTime::Fixed(..))`.
    pub fn job_seconds(self, seconds: f64) -> Self {
        let d = ProcessingTime::PerVideoSecond(1.0).for_video(if seconds.is_nan() { 0.0 } else { seconds });
        self.processing_time(ProcessingTime::Fixed(d))
    }

    /// How many jobs process at once (default unlimited; 0 counts as 1). The others stay
    /// `pending`, in the order they were accepted, until a slot frees.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// The clock that moves jobs and schedules webhook retries (default the real one). With a
    /// [`ManualClock`](crate::clock::ManualClock), `clock.advance(d)` moves every job by `d`
    /// before it returns; [`Simulator::settle`](super::Simulator::settle) then waits for the webhooks that queued.
    /// (`ManualClock` is a handle: pass a clone and keep one to move time.)
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The port to listen on, on 127.0.0.1 (default 0: a free port the OS picks).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A fault rule in place from the start, as [`Simulator::inject`](super::Simulator::inject) would queue it.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// How many times a webhook delivery that got no 2xx answer is tried again (default 10, at
    /// most 64), after 1 s, 2 s, 4 s, ... doubling up to 30 s between tries, on the simulator's
    /// clock, under the same delivery id, while the delivery is younger than
    /// [`webhook_max_age`](Self::webhook_max_age). The default tries for about three minutes:
    /// a receiver restarted within a minute gets every event.
    pub fn webhook_retries(mut self, retries: u32) -> Self {
        self.webhook_retries = retries.min(64);
        self
    }

    /// How long after its first attempt a webhook delivery may still be tried again (default
    /// 10 minutes); past it, the delivery is given up and recorded `failed`.
    pub fn webhook_max_age(mut self, age: Duration) -> Self {
        self.webhook_max_age = age;
        self
    }

    /// How long a connection may wait for the head of its next request, and take to send it
    /// (default 30 s): an idle keep-alive connection is closed after it. Kept between 1 ms and
    /// a year.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.bounds.idle_timeout = timeout.clamp(Duration::from_millis(1), LONGEST_TIMEOUT);
        self
    }

    /// The longest pause allowed between two pieces of a request body (default 30 s), like a
    /// web server's client body timeout: a body that stalls longer is given up, answered 408
    /// (code `timeout`) without taking effect, and its connection closed. A slow body that keeps
    /// coming is not cut off. Kept between 1 ms and a year.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.bounds.body_timeout = timeout.clamp(Duration::from_millis(1), LONGEST_TIMEOUT);
        self
    }

    /// How many connections may be open at once (default 256; 0 counts as 1). A connection past
    /// the cap is answered 503 (code `internal_error`, `Retry-After: 1`) and closed. The cap
    /// kept is at most half the process's limit on open files (`ulimit -n`; 256 by default on
    /// macOS), so that the descriptors never run out first; [`Simulator::max_connections`]
    /// says which is in force.
    ///
    /// [`Simulator::max_connections`]: super::Simulator::max_connections
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.bounds.max_connections = connections.max(1);
        self
    }

    /// How many requests [`Simulator::requests`](super::Simulator::requests) keeps (default 10,000; the oldest are dropped
    /// first). The bodies kept (64 KiB of each at most) also stay within 64 MiB in all.
    pub fn request_log(mut self, entries: usize) -> Self {
        self.bounds.request_log = entries;
        self
    }

    /// How many delivery attempts [`Simulator::webhook_deliveries`](super::Simulator::webhook_deliveries) keeps (default 10,000; the
    /// oldest are dropped first).
    pub fn delivery_log(mut self, entries: usize) -> Self {
        self.bounds.delivery_log = entries;
        self
    }

    /// How many bytes of uploaded files are kept so that their `video_url` serves them
    /// (default 256 MiB). Past it the oldest files are dropped first, and their `video_url`
    /// answers 404; a single file larger than the budget is counted but never kept.
    pub fn upload_budget(mut self, bytes: u64) -> Self {
        self.bounds.upload_budget = bytes;
        self
    }

    /// Serve outputs as `bytes` bytes of generated data (see [`expected_output`](super::expected_output))
    /// instead of the real, tiny file of the job's format: for download tests that need size.
    pub fn output_size(mut self, bytes: usize) -> Self {
        self.output_size = Some(bytes);
        self
    }

    /// The threads serving requests and making webhook deliveries (default 2, at most 64).
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads.clamp(1, 64);
        self
    }

    /// Every tenant's starting credit balance (default unlimited): the configured key's, and each
    /// key the admin routes create. Each job takes its cost when it starts;
    /// once the balance does not cover a job, creating (or starting) it answers 402
    /// `insufficient_credits`. NaN and negative values mean 0.
    pub fn credits(mut self, credits: f64) -> Self {
        self.credits = if credits.is_nan() { 0.0 } else { credits.max(0.0) };
        self
    }

    /// The simulated length of a video whose own length the simulator cannot read (default
    /// 10 s): a `video_url` on another host, or an upload that is not mp4/mov. It is the job's
    /// `duration_seconds` and what the job is charged for (credits per minute × minutes). An
    /// upload to this simulator in an mp4/mov container is charged for its own length.
    pub fn job_duration(mut self, duration: Duration) -> Self {
        self.job_duration = duration;
        self
    }

    /// The largest upload accepted, in bytes (default 500 MiB, the documented limit); `None`
    /// accepts any size. A larger file answers 400 "File too large".
    pub fn max_upload_size(mut self, bytes: Option<u64>) -> Self {
        self.max_upload_size = bytes;
        self
    }
}
