//! [`SimulatorBuilder`]: the simulator's settings.

use std::sync::Arc;
use std::time::Duration;

use super::faults::FaultRule;
use super::Simulator;
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

/// Settings of a [`Simulator`]; get one from [`Simulator::builder`].
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
            .finish_non_exhaustive()
    }
}

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
            webhook_retries: 3,
            output_size: None,
            worker_threads: 4,
            credits: f64::INFINITY,
            job_duration: Duration::from_secs(10),
            // The same reading of the documented 500 MB as the client's check.
            max_upload_size: Some(crate::client::transport::MAX_UPLOAD_BYTES),
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
    /// before it returns; [`Simulator::settle`] then waits for the webhooks that queued.
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

    /// A fault rule in place from the start, as [`Simulator::inject`] would queue it.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// How many times a webhook delivery that got no 2xx answer is tried again (default 3),
    /// after 1 s, 2 s, 4 s, ... on the simulator's clock, under the same delivery id.
    pub fn webhook_retries(mut self, retries: u32) -> Self {
        self.webhook_retries = retries.min(16);
        self
    }

    /// Serve outputs as `bytes` bytes of generated data (see [`expected_output`](super::expected_output))
    /// instead of the real, tiny file of the job's format: for download tests that need size.
    pub fn output_size(mut self, bytes: usize) -> Self {
        self.output_size = Some(bytes);
        self
    }

    /// Kept from 0.2: every connection now has a thread of its own (kept alive between
    /// requests), so this setting no longer changes anything.
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

    /// The simulated length of every video (default 10 s): it is each job's `duration_seconds`
    /// and what the job is charged for (credits per minute × minutes).
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

    /// Binds `127.0.0.1` on [`port`](Self::port) and starts answering.
    ///
    /// # Errors
    /// When the socket cannot be bound or a thread cannot be spawned.
    pub fn start(self) -> std::io::Result<Simulator> {
        Simulator::from_builder(self)
    }
}
