//! [`Client`]: the public API calls.

use std::fmt;

use crate::builder::ClientBuilder;
use crate::error::invalid;
use crate::transport::{segment, Call, Transport, API_KEY_HEADER};
use crate::{
    AdminClient, CreateJob, DownloadLink, Error, Health, Job, JobList, JobSubmission, ListJobs, Pricing, Secret,
    StartJob, UsageEvents, UsageSummary,
};

/// The environment variable that holds the API key.
pub const API_KEY_ENV: &str = "REMOVEBGVIDEO_API_KEY";
/// The environment variable that holds the admin token.
pub const ADMIN_TOKEN_ENV: &str = "REMOVEBGVIDEO_ADMIN_TOKEN";
/// The environment variable that overrides the base URL (staging, a local simulator).
pub const BASE_URL_ENV: &str = "REMOVEBGVIDEO_BASE_URL";

/// A client of the public API (`/v1`, authenticated with `X-Api-Key`).
///
/// Cheap to clone and `Send + Sync`: clones share one connection pool, so make one and pass
/// it around. Every call blocks; from async code, call it through
/// `tokio::task::spawn_blocking` (see the crate docs).
///
/// ```no_run
/// use removebgvideo::{BgType, Client, CreateJob, Model, WaitOptions};
///
/// let client = Client::from_env()?;
/// let upload = client.upload("input.mp4")?;
/// let job = client.create_job(&CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent))?;
/// let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
/// println!("{:?}", done.output_url);
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) transport: Transport,
    pub(crate) api_key: Secret,
}

impl Client {
    /// A client for the production API with this key and the default settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the key is empty.
    pub fn new(api_key: impl Into<Secret>) -> Result<Self, Error> {
        Self::builder(api_key).build()
    }

    /// A client configured from the environment: the key from `REMOVEBGVIDEO_API_KEY`, the
    /// base URL from `REMOVEBGVIDEO_BASE_URL` when set.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable when the key is not set.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env(API_KEY_ENV)?.build()
    }

    /// A builder to set the base URL, timeouts, retries and more.
    pub fn builder(api_key: impl Into<Secret>) -> ClientBuilder<Client> {
        ClientBuilder::new(api_key.into())
    }

    pub(crate) fn from_transport(transport: Transport, api_key: Secret) -> Result<Self, Error> {
        if api_key.expose().trim().is_empty() {
            return Err(invalid("api_key", "must not be empty"));
        }
        Ok(Self { transport, api_key })
    }

    /// An admin client that shares this client's connection pool and settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the token is empty.
    pub fn admin(&self, admin_token: impl Into<Secret>) -> Result<AdminClient, Error> {
        AdminClient::from_transport(self.transport.clone(), admin_token.into())
    }

    /// The base URL calls go to, without a trailing `/`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.transport.base_url()
    }

    pub(crate) fn authed<'a>(&'a self, call: Call<'a>) -> Call<'a> {
        call.credential(API_KEY_HEADER, &self.api_key)
    }

    /// Creates a job (`POST /v1/jobs`).
    ///
    /// Retried only after a 429 or a failed connect: see [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty video URL or a `bg_color` that is not finite;
    /// [`Error::Api`] for the API's refusal (for example 400 or 402).
    pub fn create_job(&self, request: &CreateJob) -> Result<JobSubmission, Error> {
        request.validate()?;
        self.transport.json(&self.authed(Call::post_json("/v1/jobs", "/v1/jobs".to_owned(), request)?))
    }

    /// Starts a draft job (`POST /v1/jobs/{id}/start`) with optional overrides;
    /// `&StartJob::new()` sends `{}`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty id; [`Error::Api`] with 404 for an unknown job.
    pub fn start_job(&self, job_id: &str, overrides: &StartJob) -> Result<JobSubmission, Error> {
        overrides.validate()?;
        let path = format!("/v1/jobs/{}/start", segment("job_id", job_id)?);
        self.transport.json(&self.authed(Call::post_json("/v1/jobs/{id}/start", path, overrides)?))
    }

    /// Fetches a job (`GET /v1/jobs/{id}`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty id; [`Error::Api`] with 404 for an unknown job.
    pub fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        self.transport.json(&self.get_job_call(job_id)?)
    }

    pub(crate) fn get_job_call(&self, job_id: &str) -> Result<Call<'_>, Error> {
        let path = format!("/v1/jobs/{}", segment("job_id", job_id)?);
        Ok(self.authed(Call::get("/v1/jobs/{id}", path)))
    }

    /// Lists jobs (`GET /v1/jobs?limit=&offset=[&status=]`), newest first.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero limit.
    pub fn list_jobs(&self, query: &ListJobs) -> Result<JobList, Error> {
        query.validate()?;
        let mut call =
            Call::get("/v1/jobs", "/v1/jobs".to_owned()).query("limit", query.limit).query("offset", query.offset);
        if let Some(status) = &query.status {
            call = call.query("status", status);
        }
        self.transport.json(&self.authed(call))
    }

    /// Usage totals over the last `days` days (`GET /v1/usage/summary?days=`); the official
    /// SDK's default is 7.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `days` is 0.
    pub fn usage_summary(&self, days: u32) -> Result<UsageSummary, Error> {
        if days == 0 {
            return Err(invalid("days", "must be at least 1"));
        }
        let call = Call::get("/v1/usage/summary", "/v1/usage/summary".to_owned()).query("days", days);
        self.transport.json(&self.authed(call))
    }

    /// The latest `limit` usage events (`GET /v1/usage/events?limit=`); the official SDK's
    /// default is 20.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `limit` is 0.
    pub fn usage_events(&self, limit: u32) -> Result<UsageEvents, Error> {
        if limit == 0 {
            return Err(invalid("limit", "must be at least 1"));
        }
        let call = Call::get("/v1/usage/events", "/v1/usage/events".to_owned()).query("limit", limit);
        self.transport.json(&self.authed(call))
    }

    /// The service's health (`GET /health`; no key needed, none sent).
    ///
    /// # Errors
    /// [`Error::Api`] when the service answers non-2xx, [`Error::Transport`] when it does not answer.
    pub fn health(&self) -> Result<Health, Error> {
        self.transport.json(&Call::get("/health", "/health".to_owned()))
    }

    /// The pricing of each model (`GET /api/pricing`; no key needed, none sent).
    ///
    /// # Errors
    /// [`Error::Api`] when the service answers non-2xx.
    pub fn pricing(&self) -> Result<Pricing, Error> {
        self.transport.json(&Call::get("/api/pricing", "/api/pricing".to_owned()))
    }

    /// The output URL of a completed job through the legacy route `GET /api/download/{id}`.
    /// [`Job::output_url`] from `get_job` carries the same URL.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty id; [`Error::Api`] when the job is unknown or not done.
    pub fn download_url(&self, job_id: &str) -> Result<DownloadLink, Error> {
        let path = format!("/api/download/{}", segment("job_id", job_id)?);
        self.transport.json(&self.authed(Call::get("/api/download/{id}", path)))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}
