//! [`AsyncClient`]: the public API calls, as `async fn`s. The blocking [`Client`](crate::Client)
//! runs these same calls; every check, route and answer type lives here once.

use http::HeaderValue;

use crate::client::admin::AsyncAdminClient;
use crate::client::error::{invalid, Error};
use crate::client::transport::{credential_header, segment, Call, Transport, API_KEY_HEADER};
use crate::models::{
    CreateJob, DownloadLink, Health, Job, JobList, JobSubmission, ListJobs, Pricing, StartJob, UsageEvents,
    UsageSummary,
};
use crate::secret::Secret;

/// The days `usage_summary` accepts.
pub(crate) const USAGE_DAYS: std::ops::RangeInclusive<u32> = 1..=90;
/// The limits `usage_events` accepts.
pub(crate) const USAGE_EVENTS_LIMIT: std::ops::RangeInclusive<u32> = 1..=100;

/// An async client of the public API (`/v1`, authenticated with `X-Api-Key`), for tokio
/// services (axum, actix-web, tonic).
///
/// The same calls as the blocking [`Client`](crate::Client), under the same names, each an
/// `async fn` returning the same models and [`Error`]; the same retries, safety rules and
/// credential confinement. Cheap to clone and `Send + Sync`, its futures `Send`, so it goes in
/// app state and into `tokio::spawn`. It needs a tokio runtime with I/O and time enabled (what
/// `#[tokio::main]` gives); dropping a call's future cancels it.
///
/// ```no_run
/// # async fn run() -> Result<(), removebgvideo::Error> {
/// use removebgvideo::{AsyncClient, BgType, CreateJob, Model, WaitOptions};
///
/// let client = AsyncClient::from_env()?;
/// let upload = client.upload("input.mp4").await?;
/// let job = client
///     .create_job(&CreateJob::new(&upload.video_url).model(Model::Human).bg_type(BgType::Transparent))
///     .await?;
/// let done = client.wait_for_completion(&job.id, WaitOptions::default()).await?;
/// client.download_output(&done)?.to_path("output.webm").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AsyncClient {
    pub(crate) transport: Transport,
    api_key: HeaderValue,
}

impl AsyncClient {
    pub(crate) fn from_transport(transport: Transport, api_key: &Secret) -> Result<Self, Error> {
        let api_key = credential_header("api_key", "API key", api_key)?;
        Ok(Self { transport: transport.hiding(&api_key), api_key })
    }

    /// This client's key over another handle of the same pool.
    pub(crate) fn with_transport(&self, transport: Transport) -> Self {
        Self { transport, api_key: self.api_key.clone() }
    }

    /// An admin client that shares this client's connection pool and settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the token is empty; [`Error::Config`] when it cannot go in
    /// a header.
    pub fn admin(&self, admin_token: impl Into<Secret>) -> Result<AsyncAdminClient, Error> {
        AsyncAdminClient::from_transport(self.transport.clone(), &admin_token.into())
    }

    pub(crate) fn authed<'a>(&'a self, call: Call<'a>) -> Call<'a> {
        call.credential(API_KEY_HEADER, &self.api_key)
    }

    /// Creates a job (`POST /v1/jobs`).
    ///
    /// Retried only after a 429 or a failed connect: see [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a request the API would refuse (see [`CreateJob`]);
    /// [`Error::Api`] for the API's refusal (for example 400 or 402).
    pub async fn create_job(&self, request: &CreateJob) -> Result<JobSubmission, Error> {
        request.check()?;
        let call = self.authed(Call::post_json("/v1/jobs", "/v1/jobs".to_owned(), request)?);
        self.transport.json(&call).await
    }

    /// Starts a draft job (`POST /v1/jobs/{id}/start`) with optional overrides;
    /// `&StartJob::new()` sends `{}`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long id; [`Error::Api`] with 404 for an
    /// unknown job.
    pub async fn start_job(&self, job_id: &str, overrides: &StartJob) -> Result<JobSubmission, Error> {
        overrides.check()?;
        let path = format!("/v1/jobs/{}/start", segment("job_id", job_id)?);
        let call = self.authed(Call::post_json("/v1/jobs/{id}/start", path, overrides)?);
        self.transport.json(&call).await
    }

    /// Fetches a job (`GET /v1/jobs/{id}`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long id; [`Error::Api`] with 404 for an
    /// unknown job.
    pub async fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        // Bound first: a `?` inside the awaited expression would keep its `Result` in this
        // future's state for the whole call.
        let call = self.get_job_call(job_id)?;
        self.transport.json(&call).await
    }

    pub(crate) fn get_job_call(&self, job_id: &str) -> Result<Call<'_>, Error> {
        let path = format!("/v1/jobs/{}", segment("job_id", job_id)?);
        Ok(self.authed(Call::get("/v1/jobs/{id}", path)))
    }

    /// Lists jobs (`GET /v1/jobs?limit=&offset=[&status=]`), newest first.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero limit.
    pub async fn list_jobs(&self, query: &ListJobs) -> Result<JobList, Error> {
        query.check()?;
        let mut call =
            Call::get("/v1/jobs", "/v1/jobs".to_owned()).query("limit", query.limit).query("offset", query.offset);
        if let Some(status) = &query.status {
            call = call.query("status", status);
        }
        self.transport.json(&self.authed(call)).await
    }

    /// Usage totals over the last `days` days (`GET /v1/usage/summary?days=`, 1 to 90); the
    /// official SDK's default is 7.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `days` is outside 1..=90.
    pub async fn usage_summary(&self, days: u32) -> Result<UsageSummary, Error> {
        if !USAGE_DAYS.contains(&days) {
            return Err(invalid("days", format!("is {days}; the API accepts 1 to 90")));
        }
        let call = Call::get("/v1/usage/summary", "/v1/usage/summary".to_owned()).query("days", days);
        self.transport.json(&self.authed(call)).await
    }

    /// The latest `limit` usage events (`GET /v1/usage/events?limit=`, 1 to 100); the official
    /// SDK's default is 20.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `limit` is outside 1..=100.
    pub async fn usage_events(&self, limit: u32) -> Result<UsageEvents, Error> {
        if !USAGE_EVENTS_LIMIT.contains(&limit) {
            return Err(invalid("limit", format!("is {limit}; the API accepts 1 to 100")));
        }
        let call = Call::get("/v1/usage/events", "/v1/usage/events".to_owned()).query("limit", limit);
        self.transport.json(&self.authed(call)).await
    }

    /// The service's health (`GET /health`; no key needed, none sent).
    ///
    /// # Errors
    /// [`Error::Api`] when the service answers non-2xx, [`Error::Transport`] when it does not answer.
    pub async fn health(&self) -> Result<Health, Error> {
        self.transport.json(&Call::get("/health", "/health".to_owned())).await
    }

    /// The pricing of each model (`GET /api/pricing`; no key needed, none sent).
    ///
    /// # Errors
    /// [`Error::Api`] when the service answers non-2xx.
    pub async fn pricing(&self) -> Result<Pricing, Error> {
        self.transport.json(&Call::get("/api/pricing", "/api/pricing".to_owned())).await
    }

    /// The output link of a completed job through the legacy route `GET /api/download/{id}`:
    /// a link only, nothing is downloaded ([`download_output`](Self::download_output) does
    /// that). [`Job::output_url`] from `get_job` carries the same URL.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long id; [`Error::Api`] when the job is
    /// unknown or not done.
    pub async fn download_link(&self, job_id: &str) -> Result<DownloadLink, Error> {
        let path = format!("/api/download/{}", segment("job_id", job_id)?);
        self.transport.json(&self.authed(Call::get("/api/download/{id}", path))).await
    }
}
