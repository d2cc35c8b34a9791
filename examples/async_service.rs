//! An axum service on tokio that uses the async client and receives webhooks with the
//! `VerifiedWebhook` extractor:
//!
//! - `POST /jobs` with `{"video_url": "...", "model": "human"}` creates a job whose webhooks
//!   come back to this service, and answers `201` with the job's id and status;
//! - `GET /jobs/{id}` answers the job as the API reports it, with the webhook events this
//!   service has received for it;
//! - `GET /jobs/{id}/result` waits until the job has finished and answers it: a `JobTracker`
//!   ends the wait on the job's webhook (one `GET` to the API), and polls only when no webhook
//!   came for 30 s;
//! - `POST /webhooks/removebgvideo` receives the API's signed deliveries (400 when malformed,
//!   401 when the signature or the age is wrong), each delivery id handled once.
//!
//! ```text
//! cargo run --example async_service                  # offline, against the built-in simulator
//! curl -s -X POST localhost:3000/jobs -H 'content-type: application/json' \
//!      -d '{"video_url": "https://example.com/in.mp4"}'
//! curl -s localhost:3000/jobs/<id>
//! ```
//!
//! With `REMOVEBGVIDEO_API_KEY` set it talks to the real API (`REMOVEBGVIDEO_BASE_URL` when
//! set), verifies deliveries with `REMOVEBGVIDEO_WEBHOOK_SECRET`, and tells the API to deliver
//! them to `PUBLIC_URL` (default `http://127.0.0.1:3000`); without a key it starts the
//! simulator, which signs and delivers webhooks to this service on 127.0.0.1.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use removebgvideo::client::{JobTracker, API_KEY_ENV};
use removebgvideo::simulator::Simulator;
use removebgvideo::webhook::axum::VerifiedWebhook;
use removebgvideo::webhook::Verifier;
use removebgvideo::{AsyncClient, CreateJob, Error, Model, WaitOptions};
use serde::Deserialize;
use serde_json::{json, Value};

/// The route the API delivers webhooks to.
pub const WEBHOOK_PATH: &str = "/webhooks/removebgvideo";

/// What every handler shares: the API client, the webhook verifier, and what the webhooks said.
#[derive(Clone)]
pub struct AppState {
    /// The async client: cheap to clone, shared by every request.
    pub client: AsyncClient,
    /// Ends waits on webhooks, one for the whole service; the webhook route feeds it.
    pub tracker: JobTracker,
    /// Verifies deliveries; the `VerifiedWebhook` extractor takes it from the state.
    pub verifier: Verifier,
    /// Where the API should deliver this service's webhooks (`{public_url}/webhooks/removebgvideo`).
    pub public_url: String,
    /// The events received, per job, and the delivery ids already handled.
    pub events: Arc<Mutex<Received>>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.verifier.clone()
    }
}

/// What the webhooks have told this service so far.
#[derive(Debug, Default)]
pub struct Received {
    /// Delivery ids already handled: a redelivery is answered 200 and not acted on again.
    deliveries: HashSet<String>,
    /// Event names per job id, in the order they arrived.
    by_job: HashMap<String, Vec<String>>,
}

impl Received {
    /// The events received for `job_id`, in order.
    #[must_use]
    pub fn for_job(&self, job_id: &str) -> Vec<String> {
        self.by_job.get(job_id).cloned().unwrap_or_default()
    }
}

/// The service's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/jobs", post(create_job))
        .route("/jobs/{id}", get(job_status))
        .route("/jobs/{id}/result", get(job_result))
        .route(WEBHOOK_PATH, post(receive_webhook))
        .with_state(state)
}

/// The body of `POST /jobs`.
#[derive(Debug, Deserialize)]
struct NewJob {
    video_url: String,
    #[serde(default)]
    model: Option<Model>,
}

async fn create_job(State(state): State<AppState>, Json(new_job): Json<NewJob>) -> Result<Response, Problem> {
    let mut request = CreateJob::new(&new_job.video_url)
        .webhook_url(format!("{}{WEBHOOK_PATH}", state.public_url.trim_end_matches('/')));
    if let Some(model) = new_job.model {
        request = request.model(model);
    }
    let job = state.client.create_job(&request).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": job.id, "status": job.status}))).into_response())
}

async fn job_status(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let job = state.client.get_job(&id).await?;
    let webhooks = state.events.lock().unwrap_or_else(PoisonError::into_inner).for_job(&job.id);
    Ok(Json(json!({
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "output_url": job.output_url,
        "error": job.error,
        "webhooks": webhooks,
    })))
}

/// Waits (up to 10 min) for the job to finish. Thousands of these can wait at once: each is
/// this request's own future, and the tracker they share holds a map entry per job.
async fn job_result(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let job = state.tracker.wait_async(&id, WaitOptions::default()).await?;
    Ok(Json(json!({"id": job.id, "status": job.status, "output_url": job.output_url})))
}

/// Reached only by deliveries that passed the signature and age checks; the extractor answered
/// the others with 400 or 401.
async fn receive_webhook(State(state): State<AppState>, VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
    // The tracker skips a redelivery and a stale event by itself.
    state.tracker.observe(&event);
    let mut received = state.events.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(delivery_id) = &event.delivery_id
        && !received.deliveries.insert(delivery_id.clone())
    {
        return StatusCode::OK; // a redelivery: already handled
    }
    if let Some(job_id) = &event.job_id {
        received.by_job.entry(job_id.clone()).or_default().push(event.kind.to_string());
    }
    StatusCode::OK
}

/// An SDK error as an HTTP answer: the API's own status where it has one that means something
/// to this service's caller, 502 otherwise.
struct Problem(Error);

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            Error::Api(api) if api.is_not_found() => StatusCode::NOT_FOUND,
            Error::Api(api) if api.is_insufficient_credits() => StatusCode::PAYMENT_REQUIRED,
            Error::Api(api) if api.status() == StatusCode::BAD_REQUEST => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        };
        let body = json!({"error": self.0.to_string(), "request_id": self.0.request_id()});
        (status, Json(body)).into_response()
    }
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let address: SocketAddr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".to_owned()).parse()?;
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| format!("http://{address}"));
    // Kept alive for as long as the service runs.
    let (simulator, client, verifier) = if std::env::var_os(API_KEY_ENV).is_some() {
        let client = AsyncClient::from_env()?;
        let secret = std::env::var("REMOVEBGVIDEO_WEBHOOK_SECRET")
            .map_err(|_| "set REMOVEBGVIDEO_WEBHOOK_SECRET to verify the API's webhook deliveries")?;
        println!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url());
        (None, client, Verifier::new(&secret)?)
    } else {
        let simulator = Simulator::start()?;
        println!(
            "No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.",
            simulator.base_url()
        );
        let client = simulator.async_client()?;
        let verifier = Verifier::new(simulator.webhook_secret().unwrap_or("sim_webhook_secret"))?;
        (Some(simulator), client, verifier)
    };
    let tracker = JobTracker::new_async(&client);
    let state = AppState { client, tracker, verifier, public_url, events: Arc::default() };
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("Listening on http://{address}: POST /jobs, GET /jobs/{{id}}, POST {WEBHOOK_PATH}");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
    drop(simulator);
    Ok(())
}

async fn shutdown_signal() {
    // Ctrl-C ends the service; if the signal cannot be listened for, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
