//! A Rust client for the [RemoveBGVideo](https://removebgvideo.com) API, blocking and async:
//! upload a video, run a background-removal job, wait for it, download the result, and verify
//! the webhooks the service sends.
//!
//! ```toml
//! [dependencies]
//! removebgvideo = "0.4"
//! ```
//!
//! # The whole flow, both ways
//!
//! [`Client`] blocks and needs no async runtime; [`AsyncClient`] is for tokio services (axum,
//! actix-web, tonic). Same methods, same names, same models and [`Error`]: the blocking client
//! runs the async client's calls on a runtime thread of its own.
//!
//! ```no_run
//! use removebgvideo::{BgType, Client, CreateJob, Model, WaitOptions};
//!
//! // REMOVEBGVIDEO_API_KEY, and optionally REMOVEBGVIDEO_BASE_URL.
//! let client = Client::from_env()?;
//!
//! let upload = client.upload("input.mp4").send()?; // streamed from disk
//! let job = client.create_job(
//!     &CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent),
//! )?;
//! let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
//! client.download_output(&done)?.to_path("output.webm")?; // no API key sent to the CDN
//! # Ok::<(), removebgvideo::Error>(())
//! ```
//!
//! ```no_run
//! # async fn run() -> Result<(), removebgvideo::Error> {
//! use removebgvideo::{AsyncClient, BgType, CreateJob, Model, WaitOptions};
//!
//! let client = AsyncClient::from_env()?;
//!
//! let upload = client.upload("input.mp4").await?;
//! let job = client
//!     .create_job(&CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent))
//!     .await?;
//! let done = client.wait_for_completion(&job.id, WaitOptions::default()).await?;
//! client.download_output(&done)?.to_path("output.webm").await?;
//! # Ok(()) }
//! ```
//!
//! Every call of the official Python SDK is here under the same name: `upload`, `create_job`,
//! `start_job`, `get_job`, `list_jobs`, `usage_summary`, `usage_events`,
//! `wait_for_completion`, and on [`AdminClient`] / [`AsyncAdminClient`]: `get_config`,
//! `list_keys`, `create_key`, `disable_key`, `enable_key`. The documented routes the official
//! SDK skips are here too: `health`, `pricing` and `download_link`, and `list_all_jobs` reads
//! every page. Each request carries exactly what the official SDK sends for the same call.
//!
//! # Errors and retries
//!
//! Every call returns [`Result<T, Error>`](Error). A non-2xx answer is [`Error::Api`] with an
//! [`ApiError`]: status, the API's code and message, the request id to quote to support, and
//! the start of the body (also for an HTML page from a proxy). Other variants say what else went
//! wrong: [`Error::Transport`] (no whole answer; a [`TransportError`](client::TransportError) with `is_connect()`,
//! `is_timeout()`, ...), [`Error::Stalled`] (an upload or download that stopped moving), [`Error::Decode`]
//! (a 2xx that is not the expected JSON), [`Error::InvalidInput`] (refused before sending),
//! [`Error::JobFailed`] and [`Error::WaitTimeout`] from waiting, [`Error::Config`] (a typed
//! [`ConfigError`](client::ConfigError)) and [`Error::Io`] (a local file, also during an upload). No message, `Debug`
//! or source chain shows a credential, a password or a signed URL's query.
//!
//! ```no_run
//! # let client = removebgvideo::Client::new("key")?;
//! use removebgvideo::Error;
//!
//! match client.get_job("job_123") {
//!     Ok(job) => println!("{} {:?}", job.status, job.progress),
//!     Err(Error::Api(err)) if err.status() == 404 => println!("no such job"),
//!     Err(err) if err.is_retryable() => println!("try again later: {err}"),
//!     Err(err) => return Err(err),
//! }
//! # Ok::<(), removebgvideo::Error>(())
//! ```
//!
//! Transient failures are retried for you (twice by default, after 1–2 s then 2–4 s, as the
//! API's docs advise; `Retry-After` honoured up to a cap): reads after 408, 429, 5xx and
//! connection failures; calls that create something only where the server certainly did not
//! act (a 429, or a connection that never opened), so a retry never creates a second job. See
//! [`RetryPolicy`].
//!
//! # Configuration
//!
//! | what | how | default |
//! |---|---|---|
//! | API key | [`Client::new`], or `REMOVEBGVIDEO_API_KEY` with [`Client::from_env`] / [`Client::builder_from_env`] | required |
//! | admin token | [`AdminClient::new`], or `REMOVEBGVIDEO_ADMIN_TOKEN` | required for admin calls |
//! | base URL | [`ClientBuilder::base_url`](client::ClientBuilder::base_url), or `REMOVEBGVIDEO_BASE_URL` | `https://api.removebgvideo.com` |
//! | call timeout (whole call, body included) | [`ClientBuilder::timeout`](client::ClientBuilder::timeout) | 30 s |
//! | connect timeout | [`ClientBuilder::connect_timeout`](client::ClientBuilder::connect_timeout) | 10 s |
//! | transfer stall limit | [`ClientBuilder::stall_timeout`](client::ClientBuilder::stall_timeout) | 30 s |
//! | whole-transfer limit | [`ClientBuilder::transfer_timeout`](client::ClientBuilder::transfer_timeout) | none |
//! | upload size limit | [`ClientBuilder::max_upload_size`](client::ClientBuilder::max_upload_size) | 500 MiB |
//! | retries | [`ClientBuilder::max_retries`](client::ClientBuilder::max_retries), [`ClientBuilder::retry_policy`](client::ClientBuilder::retry_policy) | 2 |
//! | proxy, extra root certificates | [`ClientBuilder::proxy`](client::ClientBuilder::proxy), `ClientBuilder::add_root_certificate_pem` | the `HTTP(S)_PROXY` variables; the usual roots |
//! | user agent | [`ClientBuilder::user_agent_suffix`](client::ClientBuilder::user_agent_suffix) | `removebgvideo-rust/<version>` |
//!
//! Every setting is checked in `build()`: a value that cannot work is a typed error there, not
//! at every call. Clients are cheap to clone and `Send + Sync`; clones, and an admin client made
//! with [`Client::admin`] or [`AsyncClient::admin`], share one connection pool. Credentials are
//! sent only to the configured API origin: never along a redirect to another origin, never to
//! the output host, and never over plain http to a remote host.
//!
//! # Runtimes
//!
//! - [`AsyncClient`] needs a tokio runtime with I/O and time enabled (`#[tokio::main]` gives
//!   one); its futures are `Send`, so it works in `tokio::spawn` and axum handlers. Dropping a
//!   call's future cancels it; a download dropped half-way leaves no file behind.
//! - [`Client`] needs no runtime. From its first call on, it runs one background thread
//!   (`removebgvideo`), shared by its clones and admin client and stopped when the last is
//!   dropped (uploads read their file on short-lived helper threads of the same name). Its
//!   calls block the calling thread.
//!
//! # From async code (tokio, axum, actix)
//!
//! Use [`AsyncClient`]. A blocking [`Client`] created, called or dropped on a runtime thread
//! does not panic, but blocks that thread for the length of the call, which stalls every other
//! task the thread runs; if you must use it there, call it through
//! `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! # async fn handler() -> Result<(), removebgvideo::Error> {
//! use removebgvideo::AsyncClient;
//!
//! // Build once and keep it (for example in your app state); clones share the pool.
//! let client = AsyncClient::from_env()?;
//! let job = tokio::spawn({
//!     let client = client.clone();
//!     async move { client.get_job("job_123").await }
//! });
//! # let _ = job;
//! # Ok(()) }
//! ```
//!
//! # Webhooks
//!
//! [`webhook`] verifies deliveries with no client and no network (build with
//! `default-features = false` for a webhook-only service): the signature over the raw body, in
//! constant time, with a ±300 s replay window and secret rotation.
//!
//! # Testing your code
//!
//! With the `test-util` feature, `simulator` runs a faithful stand-in of the API on
//! `127.0.0.1` (jobs that progress and complete, failures, auth, faults, signed webhooks, a
//! request log), and `clock::ManualClock` lets retries and waits of both clients run without
//! sleeping. (A paused tokio clock is no substitute when real sockets are involved: it jumps to
//! the next timer whenever the runtime waits for I/O, so call timeouts fire early.)
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use removebgvideo::simulator::{Fault, FaultRule, Simulator};
//! use removebgvideo::{clock::ManualClock, CreateJob, WaitOptions};
//!
//! let sim = Simulator::start()?;
//! let clock = ManualClock::new();
//! let client = sim.client_builder().clock(clock.clone()).build()?;
//!
//! // Your code meets a rate limit once; the client waits as told (on the manual clock) and retries.
//! sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 2 }).path_prefix("/v1/jobs").times(1));
//! let job = client.create_job(&CreateJob::new("https://example.com/in.mp4"))?;
//! let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
//!
//! assert!(done.is_completed());
//! assert_eq!(sim.job_count(), 1);
//! assert!(clock.sleeps().iter().any(|pause| pause.as_secs() >= 2));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | the clients, with TLS through rustls (no system OpenSSL needed) |
//! | `native-tls` | no | the clients, with the platform's TLS and certificate store |
//! | `client` | through a TLS feature | [`Client`], [`AdminClient`], [`AsyncClient`], [`AsyncAdminClient`] (without a TLS feature: http only) |
//! | `axum` | no | `webhook::axum::VerifiedWebhook`, an extractor for verified webhook deliveries; needs no HTTP client |
//! | `batch` | no | `batch`: resumable processing of many videos with a crash-safe journal |
//! | `compose` | no | `compose`: a transparent output on a colour, image or video background with the system's ffmpeg, no credits spent; needs no HTTP client |
//! | `tracing` | no | one `tracing` span per HTTP attempt: method, route, status, attempt, duration, request id; never a credential |
//! | `test-util` | no | `simulator`, `clock::ManualClock` |
//! | `postgres` | no | `batch::Queue`: one batch worked by many processes and machines through PostgreSQL |
//! | `postgres-native-tls` | no | the queue through the platform's TLS (`QueueBuilder::platform_tls`) instead of rustls |
//! | `cli` | no | the `removebgvideo` command (`cargo install removebgvideo --locked --features cli`) |
#![deny(missing_docs)]
// The crate docs link the clients, which a webhook-only build (no `client` feature) leaves out.
#![cfg_attr(not(feature = "client"), allow(rustdoc::broken_intra_doc_links))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod secret;
mod string_enum;
// Read by the webhook verifier and the job models.
mod timestamp;
// A video's length from its mp4/mov container: the batch's estimates, the simulator's jobs.
#[cfg(any(feature = "batch", feature = "test-util"))]
mod video_duration;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod clock;
pub mod models;
pub mod webhook;

#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub mod batch;
#[cfg(feature = "compose")]
#[cfg_attr(docsrs, doc(cfg(feature = "compose")))]
pub mod compose;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod simulator;

// The types almost every user touches; everything else lives under its module.
#[cfg(feature = "client")]
pub use client::{AdminClient, ApiError, AsyncAdminClient, AsyncClient, Client, Error, RetryPolicy, WaitOptions};
pub use models::{
    Background, BgType, Composition, CreateJob, ErrorCode, Job, JobStatus, Model, OutputFormat, StartJob,
};
pub use secret::Secret;

/// The README's examples, compiled as doctests so that they cannot drift from the API.
#[cfg(all(doctest, feature = "test-util", feature = "batch", feature = "postgres"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
