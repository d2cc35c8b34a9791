//! A blocking Rust client for the [RemoveBGVideo](https://removebgvideo.com) API: upload a
//! video, run a background-removal job, wait for it, download the result, and verify the
//! webhooks the service sends.
//!
//! ```toml
//! [dependencies]
//! removebgvideo = "0.1"
//! ```
//!
//! # The whole flow
//!
//! ```no_run
//! use removebgvideo::{BgType, Client, CreateJob, Model, WaitOptions};
//!
//! // REMOVEBGVIDEO_API_KEY, and optionally REMOVEBGVIDEO_BASE_URL.
//! let client = Client::from_env()?;
//!
//! let upload = client.upload("input.mp4")?; // streamed from disk
//! let job = client.create_job(
//!     &CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent),
//! )?;
//! let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
//! client.download_output(&done)?.to_path("output.webm")?; // no API key sent to the CDN
//! # Ok::<(), removebgvideo::Error>(())
//! ```
//!
//! Every call of the official Python SDK is here under the same name: [`Client::upload`],
//! [`Client::create_job`], [`Client::start_job`], [`Client::get_job`], [`Client::list_jobs`],
//! [`Client::usage_summary`], [`Client::usage_events`], [`Client::wait_for_completion`], and on
//! [`AdminClient`]: `get_config`, `list_keys`, `create_key`, `disable_key`, `enable_key`. The
//! documented routes the official SDK skips are here too: [`Client::health`],
//! [`Client::pricing`] and [`Client::download_url`]. Each request carries exactly what the
//! official SDK sends for the same call.
//!
//! # Errors and retries
//!
//! Every call returns [`Result<T, Error>`](Error). A non-2xx answer is [`Error::Api`] with an
//! [`ApiError`]: status, the API's code and message, the request id to quote to support, and
//! the start of the body (also for an HTML page from a proxy). Other variants say what else went
//! wrong: [`Error::Transport`] (no answer), [`Error::Stalled`] (an upload that stopped moving),
//! [`Error::Decode`] (a 2xx that is not the expected JSON), [`Error::InvalidInput`] (refused
//! before sending), [`Error::JobFailed`] and [`Error::WaitTimeout`] from waiting,
//! [`Error::Config`] and [`Error::Io`].
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
//! Transient failures are retried for you (twice by default, exponential backoff with jitter,
//! `Retry-After` honoured up to a cap): reads after 408, 429, 5xx and connection failures;
//! calls that create something only where the server certainly did not act (a 429, or a
//! connection that never opened), so a retry never creates a second job. See [`RetryPolicy`].
//!
//! # Configuration
//!
//! | what | how | default |
//! |---|---|---|
//! | API key | [`Client::new`], or `REMOVEBGVIDEO_API_KEY` with [`Client::from_env`] | required |
//! | admin token | [`AdminClient::new`], or `REMOVEBGVIDEO_ADMIN_TOKEN` | required for admin calls |
//! | base URL | [`ClientBuilder::base_url`], or `REMOVEBGVIDEO_BASE_URL` | `https://api.removebgvideo.com` |
//! | call timeout | [`ClientBuilder::timeout`] | 30 s |
//! | connect timeout | [`ClientBuilder::connect_timeout`] | 10 s |
//! | transfer stall limit | [`ClientBuilder::stall_timeout`] | 30 s |
//! | whole-transfer limit | [`ClientBuilder::transfer_timeout`] | none |
//! | retries | [`ClientBuilder::max_retries`], [`ClientBuilder::retry_policy`] | 2 |
//! | user agent | [`ClientBuilder::user_agent_suffix`] | `removebgvideo-rust/<version>` |
//!
//! Clients are cheap to clone and `Send + Sync`; clones, and an admin client made with
//! [`Client::admin`], share one connection pool. Uploads and downloads have their own pool and,
//! from the first transfer on, one background thread (`removebgvideo-transfer`), shared the
//! same way. Credentials are sent only to the configured
//! API origin: never along a redirect to another origin, never to the output host, and never
//! over plain http to a remote host. `Debug` of clients, builders and errors never shows them.
//!
//! # Webhooks
//!
//! [`webhook`] verifies deliveries with no client and no network (build with
//! `default-features = false` for a webhook-only service): the signature over the raw body, in
//! constant time, with a ±300 s replay window and secret rotation.
//!
//! # From async code (tokio, axum, actix)
//!
//! The client blocks. Inside an async runtime, create and call it on the blocking pool:
//! calling it directly on a runtime thread stalls that thread, and in debug builds reqwest
//! panics with "Cannot drop a runtime in a context where blocking is not allowed" (uploads and
//! downloads run on the crate's own runtime and do not panic, but still stall the thread).
//!
//! ```no_run
//! # async fn handler() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use removebgvideo::Client;
//!
//! // Build once, on the blocking pool, and keep it (for example in your app state).
//! let client = tokio::task::spawn_blocking(Client::from_env).await??;
//!
//! let job = {
//!     let client = client.clone(); // clones share the pool
//!     tokio::task::spawn_blocking(move || client.get_job("job_123")).await??
//! };
//! println!("{}", job.status);
//! # Ok(()) }
//! ```
//!
//! # Testing your code
//!
//! With the `test-util` feature, [`simulator`] runs a faithful stand-in of the API on
//! `127.0.0.1` (jobs that progress and complete, failures, auth, faults, signed webhooks, a
//! request log), and [`clock::ManualClock`] lets retries and waits run without sleeping.
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
//! | `rustls` | yes | the client, with TLS through rustls (no system OpenSSL needed) |
//! | `native-tls` | no | the client, with the platform's TLS and certificate store |
//! | `client` | through a TLS feature | [`Client`], [`AdminClient`] (without a TLS feature: http only) |
//! | `tracing` | no | one `tracing` span per HTTP attempt: method, route, status, attempt, duration, request id; never a credential |
//! | `test-util` | no | [`simulator`] |
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod string_enum;

pub mod models;
pub mod webhook;

#[cfg(feature = "client")]
mod admin;
#[cfg(feature = "client")]
mod api_error;
#[cfg(feature = "client")]
mod async_client;
#[cfg(feature = "client")]
mod builder;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod clock;
#[cfg(feature = "client")]
mod download;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod paging;
#[cfg(feature = "client")]
mod progress;
#[cfg(feature = "client")]
mod runtime;
mod secret;
// Read by the webhook verifier and the job models.
#[allow(dead_code)]
mod timestamp;
#[cfg(feature = "client")]
mod transport;
#[cfg(feature = "client")]
mod upload;
#[cfg(feature = "client")]
mod wait;

#[cfg(feature = "client")]
pub use admin::{AdminClient, AsyncAdminClient};
#[cfg(feature = "client")]
pub use api_error::ApiError;
#[cfg(feature = "client")]
pub use async_client::AsyncClient;
#[cfg(feature = "client")]
pub use builder::{BuildClient, ClientBuilder};
#[cfg(feature = "client")]
pub use client::{Client, ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
#[cfg(feature = "client")]
pub use download::{AsyncDownload, Download};
#[cfg(feature = "client")]
pub use error::{ConfigError, Error, TransportError};
#[cfg(feature = "client")]
pub use paging::{AsyncJobPager, JobPages};

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod simulator;
pub use models::*;
#[cfg(feature = "client")]
pub use progress::TransferProgress;
pub use secret::Secret;
#[cfg(feature = "client")]
pub use transport::RetryPolicy;
#[cfg(feature = "client")]
pub use wait::WaitOptions;
