//! Everything that talks to the API over HTTP: the two faces over one core, and what they share.
//!
//! - [`AsyncClient`] (`async_client.rs`) and [`AsyncAdminClient`] (`admin.rs`) are the core:
//!   every call, check and rule lives there once, as an `async fn`.
//! - [`Client`] (`blocking.rs`) and [`AdminClient`] are the blocking face: each call runs the
//!   async one on the crate's own runtime (`runtime.rs`) and waits for it.
//! - `builder.rs` builds all four and writes their constructors once (`client_constructors!`,
//!   invoked there for each, so the clients' files need not import their builder).
//! - `transport/` sends every request (retries, timeouts, credentials, redirects, the shared
//!   back-off, the attempt observer); `options.rs` gives calls other settings (`with_options`).
//! - `upload.rs`, `download.rs`, `wait.rs`, `tracker.rs` (waits ended by webhooks), [`process`]
//!   (file to output in one call, with its own `Input`, `Stage` and options) and `paging.rs` are
//!   the calls that are more than one request; `progress.rs` reports transfers.
//! - `error.rs`, `api_error.rs` and `transport_error.rs` (a request that got no whole answer)
//!   are the errors every call returns; `redact.rs` is what of a server's words they may show,
//!   and `human.rs` writes their durations for people.
//! - Time as the clients see it is [`crate::clock`], one level down.
//!
//! **One naming rule for the two faces.** The blocking face owns the plain name. Where each
//! face has its own type, the async type is `Async` + that name, with the same method names on
//! both ([`Client`] / [`AsyncClient`], [`Download`] / [`AsyncDownload`]). Where one type
//! serves both faces, its async method has the `_async` suffix ([`JobTracker::wait`] /
//! [`JobTracker::wait_async`], `Composer::run` / `run_async`, `Simulator::settle` /
//! `settle_async`).
//!
//! This folder is the `client` feature: lib.rs gates it once, and nothing outside it needs
//! reqwest or tokio. It may use `models` and `Secret`; `batch` and `simulator` sit on top of
//! it, never the reverse, and `webhook` stays independent of it (a webhook-only build has no
//! client).
//!
//! Most users need only what the crate root re-exports ([`Client`], [`AsyncClient`],
//! [`Error`], ...); the rest (the builder, the transfer handles, the detailed errors) is here.

pub(crate) mod admin;
pub(crate) mod api_error;
pub(crate) mod async_client;
pub(crate) mod blocking;
pub(crate) mod builder;
pub(crate) mod download;
pub(crate) mod error;
pub(crate) mod human;
pub(crate) mod options;
pub(crate) mod paging;
pub mod process;
pub(crate) mod progress;
pub(crate) mod redact;
pub(crate) mod runtime;
pub(crate) mod tracker;
pub(crate) mod transport;
pub(crate) mod transport_error;
pub(crate) mod upload;
pub(crate) mod wait;

pub use admin::{AdminClient, AsyncAdminClient};
pub use api_error::ApiError;
pub use async_client::AsyncClient;
pub use blocking::{Client, ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
pub use builder::{BuildClient, ClientBuilder};
pub use download::{AsyncDownload, Download};
pub use error::{ConfigError, Error, JsonError, Transfer, TransportError};
pub use options::RequestOptions;
pub use paging::{AllJobs, AsyncAllJobs};
pub use progress::TransferProgress;
pub use tracker::{JobTracker, Observed};
pub use transport::{AttemptInfo, RetryPolicy};
pub use upload::{AsyncFileUpload, FileUpload};
pub use wait::WaitOptions;
