//! A faithful, offline stand-in for the RemoveBGVideo API, for tests.
//!
//! [`Simulator`] is a real HTTP server on `127.0.0.1` (an OS-chosen port) speaking the API's
//! wire contract: API-key and admin-token authentication, uploads, jobs that move through
//! `created` (drafts) → `processing` → `completed`/`failed` as they are polled, credits, listing, usage,
//! admin keys, the legacy `/api/*` routes, output files standing in for the CDN, and signed
//! webhook deliveries. Point a client at [`Simulator::base_url`], use [`Simulator::api_key`],
//! and assert on what the server saw with [`Simulator::requests`].
//!
//! # Enabling
//!
//! The module is behind the `test-util` feature:
//!
//! ```toml
//! [dev-dependencies]
//! removebgvideo = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! # Behaviour
//!
//! - **Pacing.** A started job is `processing` at progress 0; each `GET /v1/jobs/{id}` moves it
//!   one step. With [`SimulatorBuilder::polls_to_complete`] `n` (default 3) the `n`th poll
//!   finishes it (0 → 33 → 66 → completed); 0 finishes jobs as they start. Listing does not
//!   advance jobs. A completed job's `output_url` is `{base_url}/outputs/{id}.{ext}` (the
//!   extension is the output format, `zip` for `png_sequence`); that file needs no credential
//!   and holds [`expected_output`] bytes.
//! - **Drafts.** `auto_start: false` creates a job in status `created` (so it answers and lists);
//!   `POST /v1/jobs/{id}/start` starts it, and only a `created` job can be started (409 otherwise).
//! - **Jobs** carry `created_at` (ISO 8601 UTC), `duration_seconds` (the simulated length, see
//!   [`SimulatorBuilder::job_duration`]), `billing_status` (`not_charged` for a draft, `charged`
//!   once started, `refunded` once failed: the simulator's own words, the service's are
//!   undocumented), `webhook_url`, `webhook_events` (`sent` or `failed` per event) and
//!   `video_url`, plus the options they were created or started with.
//! - **Options.** `background` and `composition` are validated like the client does (400
//!   `invalid_request` with a message); `preview_duration` must be a number above 0; `bg_color`
//!   components must be in 0..=1; the `background` object together with any of `bg_type`,
//!   `bg_color` or `bg_image_url` is refused.
//! - **Credits.** Starting a job (at creation, or at start for a draft) takes the model's credits
//!   per minute (original 60, light 45, pro 180, human 45) × the simulated minutes (or the
//!   preview's, when shorter). When the balance ([`SimulatorBuilder::credits`], unlimited by
//!   default) does not cover it, the answer is 402 `insufficient_credits` and nothing changes.
//!   A failed job's credits are given back. See [`Simulator::credits_remaining`].
//! - **Failure marker.** A job whose `video_url` contains `simulate-failure` ends `failed` with
//!   `error` `"simulated failure"` where it would have completed.
//! - **Uploads** are scanned as they stream in and never held in memory; the answer is
//!   `{success, video_id, video_url, filename, size}` with the exact byte count of the `file`
//!   part. A file over [`SimulatorBuilder::max_upload_size`] (500 MiB by default) is refused with
//!   400 "File too large", and one that is not `video/mp4`, `video/quicktime`, `video/webm` or
//!   `video/x-msvideo` (by the part's content type, or by a `.mp4`, `.mov`, `.webm` or `.avi`
//!   name when the type is missing or `application/octet-stream`) with 400 "Invalid file type".
//!   The returned `video_url` is not served.
//! - **Answers** have the docs' shapes: pricing (`model_pricing_credits_per_minute`, `packages`),
//!   health (`healthy`, `checks`), usage (`total_jobs`, `credits_used`, `completed_jobs`), the
//!   legacy download link (`download_url`, `output_format`; 400 "Job not completed" before).
//! - **Errors** are `{"error":{"code","message","request_id"}}` with the documented codes
//!   (`missing_api_key`, `invalid_api_key`, `insufficient_credits`, `invalid_request`,
//!   `not_found`); every answer carries `X-Request-Id`. JSON bodies over 1 MiB get 413.
//! - **Webhooks** (`job.started`, `job.completed`, `job.failed`) are delivered before the answer
//!   to the request that caused them, as `{"event", "data": {the job}}` with an ISO 8601
//!   `X-Webhook-Timestamp`, signed like the API when a secret is set, and only to loopback hosts
//!   (`127.0.0.0/8`, `localhost`, `[::1]`): any other host is never contacted and the delivery
//!   is recorded as refused. See [`Simulator::webhook_deliveries`]. The simulator can be started,
//!   used and dropped inside an async runtime (`#[tokio::test]`).
//! - **Faults.** [`Simulator::inject`] queues a [`FaultRule`]: error statuses, 429 with
//!   `Retry-After`, proxy HTML pages, empty or truncated bodies, delays, and
//!   [`Fault::StatusAfterApplying`]. A faulted request takes no effect, except under
//!   `Delay` and `StatusAfterApplying`.
//!
//! # Example
//!
//! ```rust
//! use removebgvideo::simulator::{Fault, FaultRule, Simulator};
//! use removebgvideo::{CreateJob, JobStatus, WaitOptions};
//! use std::time::Duration;
//!
//! let sim = Simulator::start()?;
//! let client = sim.client()?;
//!
//! let job = client.create_job(&CreateJob::new("https://example.com/in.mp4"))?;
//! let done = client.wait_for_completion(&job.id, WaitOptions::default().interval(Duration::from_millis(1)))?;
//! assert_eq!(done.status, JobStatus::Completed);
//!
//! // The next job creation meets a rate limit; the client retries it once.
//! sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 0 }).path_prefix("/v1/jobs").times(1));
//! client.create_job(&CreateJob::new("https://example.com/again.mp4"))?;
//! assert_eq!(sim.job_count(), 2);
//!
//! let seen = sim.requests();
//! assert_eq!(seen[0].path, "/v1/jobs");
//! assert_eq!(seen[0].header("x-api-key"), Some(sim.api_key()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Within the crate, the simulator is a server; it uses `models`, the `webhook` signer and the
//! client's limits so that both sides agree, and nothing in the client uses it.

mod builder;
mod faults;
mod multipart;
mod output;
mod record;
mod reply;
mod routes;
mod server;
mod state;
mod webhooks;

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use builder::SimulatorBuilder;
pub use faults::{Fault, FaultRule};
pub use output::expected_output;
pub use record::RecordedRequest;
pub use webhooks::WebhookDelivery;

use state::{fingerprint, lock, now_secs, ApiKey, State};

/// The settings the running server uses.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) api_key: String,
    pub(crate) admin_token: String,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) polls_to_complete: u32,
    pub(crate) output_size: usize,
    pub(crate) job_duration: Duration,
    pub(crate) max_upload_size: Option<u64>,
}

/// What the worker threads share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) base_url: String,
    pub(crate) state: Mutex<State>,
    stop: Mutex<bool>,
    stop_cv: Condvar,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        *lock(&self.stop)
    }

    pub(crate) fn signal_stop(&self) {
        *lock(&self.stop) = true;
        self.stop_cv.notify_all();
    }

    /// Sleeps for `d`, or less if the simulator stops meanwhile.
    pub(crate) fn wait_for_stop(&self, d: Duration) {
        let guard = lock(&self.stop);
        let _ = self.stop_cv.wait_timeout_while(guard, d, |stopped| !*stopped);
    }
}

/// A running simulated RemoveBGVideo API. Dropping it stops the server and joins its threads.
///
/// See the [module documentation](self) for what it simulates.
pub struct Simulator {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("base_url", &self.shared.base_url).finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts a simulator with the default settings (see [`SimulatorBuilder`]).
    ///
    /// # Errors
    /// When the socket cannot be bound or a thread cannot be spawned.
    pub fn start() -> std::io::Result<Simulator> {
        SimulatorBuilder::default().start()
    }

    /// Settings for a simulator; finish with [`SimulatorBuilder::start`].
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    fn from_builder(b: SimulatorBuilder) -> std::io::Result<Simulator> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| std::io::Error::other(e.to_string()))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("the server has no IP address"))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let state = State {
            keys: vec![ApiKey {
                fingerprint: fingerprint(&b.api_key),
                key: b.api_key.clone(),
                client_id: "simulator".to_owned(),
                note: Some("the key configured at start".to_owned()),
                enabled: true,
                created_at: now_secs(),
            }],
            credits: b.credits,
            ..State::default()
        };
        let shared = Arc::new(Shared {
            config: Config {
                api_key: b.api_key,
                admin_token: b.admin_token,
                webhook_secret: b.webhook_secret,
                polls_to_complete: b.polls_to_complete,
                output_size: b.output_size,
                job_duration: b.job_duration,
                max_upload_size: b.max_upload_size,
            },
            base_url,
            state: Mutex::new(state),
            stop: Mutex::new(false),
            stop_cv: Condvar::new(),
        });
        let server = Arc::new(server);
        let threads = server::spawn(&shared, &server, b.worker_threads)?;
        Ok(Simulator { shared, server, threads })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The API key the simulator was configured with.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// The admin token the simulator was configured with.
    #[must_use]
    pub fn admin_token(&self) -> &str {
        &self.shared.config.admin_token
    }

    /// The webhook signing secret, `None` when deliveries are unsigned.
    #[must_use]
    pub fn webhook_secret(&self) -> Option<&str> {
        self.shared.config.webhook_secret.as_deref()
    }

    /// A [`Client`](crate::Client) for this simulator: its base URL and API key.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built (see [`ClientBuilder::build`](crate::client::ClientBuilder::build)).
    pub fn client(&self) -> Result<crate::Client, crate::Error> {
        self.client_builder().build()
    }

    /// A builder preset with this simulator's base URL and API key, for tests that also set
    /// timeouts, retries or a [`ManualClock`](crate::clock::ManualClock).
    pub fn client_builder(&self) -> crate::client::ClientBuilder<crate::Client> {
        crate::Client::builder(self.api_key()).base_url(self.base_url())
    }

    /// An [`AsyncClient`](crate::AsyncClient) for this simulator: its base URL and API key.
    /// Use it from `#[tokio::test]`; starting, using and dropping the simulator there neither
    /// panics nor blocks the runtime beyond the moment `Drop` joins its threads.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built.
    pub fn async_client(&self) -> Result<crate::AsyncClient, crate::Error> {
        self.async_client_builder().build()
    }

    /// A builder preset with this simulator's base URL and API key for an
    /// [`AsyncClient`](crate::AsyncClient).
    pub fn async_client_builder(&self) -> crate::client::ClientBuilder<crate::AsyncClient> {
        crate::AsyncClient::builder(self.api_key()).base_url(self.base_url())
    }

    /// An [`AdminClient`](crate::AdminClient) for this simulator: its base URL and admin token.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built.
    pub fn admin_client(&self) -> Result<crate::AdminClient, crate::Error> {
        crate::AdminClient::builder(self.admin_token()).base_url(self.base_url()).build()
    }

    /// Every request received so far, in the order their bodies were read. A request is logged
    /// before it is answered.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.state).requests.clear();
    }

    /// Queues a fault for the next matching requests (see [`FaultRule`]).
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.state).faults.push(rule);
    }

    /// Removes every queued fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.state).faults.clear();
    }

    /// Every webhook delivery made or refused so far, in order.
    #[must_use]
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.shared.state).deliveries.clone()
    }

    /// How many jobs have been created so far.
    #[must_use]
    pub fn job_count(&self) -> usize {
        lock(&self.shared.state).jobs.len()
    }

    /// The credits left: [`SimulatorBuilder::credits`] minus what started jobs took (failed
    /// jobs give theirs back). `f64::INFINITY` when the balance is unlimited (the default).
    #[must_use]
    pub fn credits_remaining(&self) -> f64 {
        lock(&self.shared.state).credits
    }

    /// How many uploads have been accepted so far.
    #[must_use]
    pub fn upload_count(&self) -> u64 {
        lock(&self.shared.state).uploads
    }

    /// Stops the server and joins its threads (what dropping it does).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.signal_stop();
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
