//! [`SimulatorBuilder`]: the simulator's settings.

use std::time::Duration;

use super::Simulator;

/// Settings of a [`Simulator`]; get one from [`Simulator::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SimulatorBuilder {
    pub(crate) api_key: String,
    pub(crate) admin_token: String,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) polls_to_complete: u32,
    pub(crate) output_size: usize,
    pub(crate) worker_threads: usize,
    pub(crate) credits: f64,
    pub(crate) job_duration: Duration,
    pub(crate) max_upload_size: Option<u64>,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            api_key: "sim_test_key".to_owned(),
            admin_token: "sim_admin_token".to_owned(),
            webhook_secret: Some("sim_webhook_secret".to_owned()),
            polls_to_complete: 3,
            output_size: 64 * 1024,
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

    /// How many `GET /v1/jobs/{id}` of a processing job it takes to finish it (default 3:
    /// progress 0 → 33 → 66 → completed). 0 finishes a job as soon as it starts.
    pub fn polls_to_complete(mut self, polls: u32) -> Self {
        self.polls_to_complete = polls;
        self
    }

    /// Size in bytes of every generated output file (default 64 KiB).
    pub fn output_size(mut self, bytes: usize) -> Self {
        self.output_size = bytes;
        self
    }

    /// How many threads answer requests (default 4, at least 1, at most 64).
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads.clamp(1, 64);
        self
    }

    /// The account's credit balance (default unlimited). Each job takes its cost when it starts;
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

    /// Binds `127.0.0.1:0` and starts answering.
    ///
    /// # Errors
    /// When the socket cannot be bound or a thread cannot be spawned.
    pub fn start(self) -> std::io::Result<Simulator> {
        Simulator::from_builder(self)
    }
}
