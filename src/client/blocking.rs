//! [`Client`]: the public API calls, blocking. Each one runs the [`AsyncClient`]'s call as a
//! task on the crate's own runtime and waits for it (see `runtime.rs`), so no call, check or
//! answer type exists twice; the arguments are copied into the task, as small as they are.

use crate::client::admin::AdminClient;
use crate::client::async_client::AsyncClient;
use crate::client::error::Error;
use crate::client::runtime::CrateRuntime;
use crate::models::{
    CreateJob, DownloadLink, Health, Job, JobList, JobSubmission, ListJobs, Pricing, StartJob, UsageEvents,
    UsageSummary,
};
use crate::secret::Secret;

/// The environment variable that holds the API key.
pub const API_KEY_ENV: &str = "REMOVEBGVIDEO_API_KEY";
/// The environment variable that holds the admin token.
pub const ADMIN_TOKEN_ENV: &str = "REMOVEBGVIDEO_ADMIN_TOKEN";
/// The environment variable that overrides the base URL (staging, a local simulator).
pub const BASE_URL_ENV: &str = "REMOVEBGVIDEO_BASE_URL";

/// A blocking client of the public API (`/v1`, authenticated with `X-Api-Key`).
///
/// Needs no async runtime: it runs the [`AsyncClient`]'s calls on a runtime of its own, started
/// on the first call and shared by clones and the [admin client](Self::admin) made from it:
/// one worker thread (`removebgvideo`), plus, while uploads read their file, threads of its
/// blocking pool (also `removebgvideo`, gone after 10 s idle). Cheap to clone and `Send + Sync`. Every call
/// blocks the calling thread; from async code use [`AsyncClient`] instead. Creating, calling
/// and dropping it on an async runtime's thread does not panic, but blocks that thread.
///
/// ```no_run
/// use removebgvideo::{BgType, Client, CreateJob, Model, WaitOptions};
///
/// let client = Client::from_env()?;
/// let upload = client.upload("input.mp4").send()?;
/// let job = client.create_job(&CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent))?;
/// let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
/// println!("{:?}", done.output_url);
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: AsyncClient,
    pub(crate) runtime: CrateRuntime,
}

impl Client {
    pub(crate) fn from_parts(inner: AsyncClient, runtime: CrateRuntime) -> Self {
        Self { inner, runtime }
    }

    /// An admin client that shares this client's connection pool, settings and runtime. (The
    /// one way to derive an admin client from a client.)
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the token is empty; [`Error::Config`] when it cannot go in
    /// a header.
    pub fn admin(&self, admin_token: impl Into<Secret>) -> Result<AdminClient, Error> {
        Ok(AdminClient::from_parts(self.inner.admin(admin_token)?, self.runtime.clone()))
    }

    /// The async client this one drives: the same pool and settings, for code that is async.
    #[must_use]
    pub fn as_async(&self) -> &AsyncClient {
        &self.inner
    }

    /// Creates a job (`POST /v1/jobs`).
    ///
    /// Retried only after a 429 or a failed connect: see [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// # Errors
    /// As [`AsyncClient::create_job`].
    pub fn create_job(&self, request: &CreateJob) -> Result<JobSubmission, Error> {
        let (inner, request) = (self.inner.clone(), request.clone());
        self.runtime.run(async move { inner.create_job(&request).await })
    }

    /// Starts a draft job (`POST /v1/jobs/{id}/start`) with optional overrides;
    /// `&StartJob::new()` sends `{}`.
    ///
    /// # Errors
    /// As [`AsyncClient::start_job`].
    pub fn start_job(&self, job_id: &str, overrides: &StartJob) -> Result<JobSubmission, Error> {
        let (inner, job_id, overrides) = (self.inner.clone(), job_id.to_owned(), overrides.clone());
        self.runtime.run(async move { inner.start_job(&job_id, &overrides).await })
    }

    /// Fetches a job (`GET /v1/jobs/{id}`).
    ///
    /// # Errors
    /// As [`AsyncClient::get_job`].
    pub fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        let (inner, job_id) = (self.inner.clone(), job_id.to_owned());
        self.runtime.run(async move { inner.get_job(&job_id).await })
    }

    /// Lists jobs (`GET /v1/jobs?limit=&offset=[&status=]`), newest first.
    ///
    /// # Errors
    /// As [`AsyncClient::list_jobs`].
    pub fn list_jobs(&self, query: &ListJobs) -> Result<JobList, Error> {
        let (inner, query) = (self.inner.clone(), query.clone());
        self.runtime.run(async move { inner.list_jobs(&query).await })
    }

    /// Usage totals over the last `days` days (`GET /v1/usage/summary?days=`, 1 to 90).
    ///
    /// # Errors
    /// As [`AsyncClient::usage_summary`].
    pub fn usage_summary(&self, days: u32) -> Result<UsageSummary, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.usage_summary(days).await })
    }

    /// The latest `limit` usage events (`GET /v1/usage/events?limit=`, 1 to 100).
    ///
    /// # Errors
    /// As [`AsyncClient::usage_events`].
    pub fn usage_events(&self, limit: u32) -> Result<UsageEvents, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.usage_events(limit).await })
    }

    /// The service's health (`GET /health`; no key needed, none sent).
    ///
    /// # Errors
    /// As [`AsyncClient::health`].
    pub fn health(&self) -> Result<Health, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.health().await })
    }

    /// The pricing of each model (`GET /api/pricing`; no key needed, none sent).
    ///
    /// # Errors
    /// As [`AsyncClient::pricing`].
    pub fn pricing(&self) -> Result<Pricing, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.pricing().await })
    }

    /// The output link of a completed job through the legacy route `GET /api/download/{id}`:
    /// a link only, nothing is downloaded.
    ///
    /// # Errors
    /// As [`AsyncClient::download_link`].
    pub fn download_link(&self, job_id: &str) -> Result<DownloadLink, Error> {
        let (inner, job_id) = (self.inner.clone(), job_id.to_owned());
        self.runtime.run(async move { inner.download_link(&job_id).await })
    }
}
