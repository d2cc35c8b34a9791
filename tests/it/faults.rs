//! Reliability under injected faults, against the built-in simulator: every fault ends in the
//! right retry or the right typed error, never a panic, and never a duplicate job.
//!
//! Retries and waits go through a `ManualClock`, so nothing here really sleeps; the recorded
//! pauses are asserted instead. The only real waiting is the one slow-answer test, where a
//! 200 ms client timeout meets a 1 s server delay.

use std::time::{Duration, Instant};

use removebgvideo::client::Transfer;
use removebgvideo::clock::ManualClock;
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::simulator::{Fault, FaultRule, RecordedRequest, Simulator};
use removebgvideo::{AdminClient, Client, CreateJob, Error, JobStatus, StartJob, WaitOptions};

use crate::support::wire::{Act, WireServer};

const VIDEO: &str = "https://cdn.example.com/in.mp4";

fn start() -> Simulator {
    Simulator::start().expect("simulator")
}

/// A client for `sim` whose retries and waits only move `clock`.
fn client(sim: &Simulator) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = sim.client_builder().clock(clock.clone()).build().expect("client");
    (client, clock)
}

/// An admin client for `sim` whose retries only move `clock`.
fn admin(sim: &Simulator) -> (AdminClient, ManualClock) {
    let clock = ManualClock::new();
    let admin =
        AdminClient::builder(sim.admin_token()).base_url(sim.base_url()).clock(clock.clone()).build().expect("admin");
    (admin, clock)
}

/// The requests `sim` saw with this method and exact path.
fn seen(sim: &Simulator, method: &str, path: &str) -> Vec<RecordedRequest> {
    sim.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
}

fn job_posts(sim: &Simulator) -> usize {
    seen(sim, "POST", "/v1/jobs").len()
}

fn api_status(error: &Error) -> u16 {
    match error {
        Error::Api(api) => api.status().as_u16(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn wait_options<'a>(interval_secs: u64, timeout_secs: u64) -> WaitOptions<'a> {
    WaitOptions::default().interval(Duration::from_secs(interval_secs)).timeout(Duration::from_secs(timeout_secs))
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[test]
fn a_429_on_create_job_waits_out_retry_after_then_creates_exactly_one_job() {
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 3 }).method("POST").path_prefix("/v1/jobs"));

    let job = client.create_job(&CreateJob::new(VIDEO)).expect("retried after the 429");

    assert_eq!(clock.sleeps(), [Duration::from_secs(3)], "the pause is exactly the Retry-After");
    assert_eq!(job_posts(&sim), 2, "the refused attempt and the retry");
    assert_eq!(sim.job_count(), 1);
    let listed = client.list_jobs(&ListJobs::new()).expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, job.id);
}

#[test]
fn a_retry_after_above_the_cap_is_returned_at_once_with_the_wait_exposed() {
    let sim = start();
    let (client, clock) = client(&sim);
    // The default cap is 30 s: two minutes is the caller's decision, not the client's.
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 120 }).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    assert_eq!(api_status(&error), 429);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(error.api_error().and_then(|e| e.code_str()), Some("rate_limited"));
    assert!(error.is_retryable());
    assert!(clock.sleeps().is_empty(), "no sleep: {:?}", clock.sleeps());
    let posts = seen(&sim, "POST", "/v1/jobs");
    assert_eq!(posts.len(), 1);
    assert_eq!(error.request_id(), Some(posts[0].request_id.as_str()), "the request id to quote to support");
    assert_eq!(sim.job_count(), 0);
}

#[test]
fn repeated_429s_on_a_read_use_up_the_retries_then_return_the_error() {
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 2 }).path_prefix("/v1/usage").times(3));

    let error = client.usage_summary(7).unwrap_err();

    assert_eq!(api_status(&error), 429);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    // Default policy: two retries, each after the Retry-After.
    assert_eq!(clock.sleeps(), [Duration::from_secs(2), Duration::from_secs(2)]);
    assert_eq!(seen(&sim, "GET", "/v1/usage/summary").len(), 3);
    // The fault is used up: the next call goes through.
    client.usage_summary(7).expect("no fault left");
}

// ---------------------------------------------------------------------------------------------
// Server errors

#[test]
fn a_503_on_an_idempotent_get_is_retried_and_succeeds() {
    let sim = start();
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("create");
    let path = format!("/v1/jobs/{}", job.id);
    sim.inject(FaultRule::new(Fault::Status(503)).method("GET").path_prefix(&path));

    let got = client.get_job(&job.id).expect("retried after the 503");

    assert_eq!(got.id, job.id);
    assert_eq!(got.status, JobStatus::Processing);
    assert_eq!(seen(&sim, "GET", &path).len(), 2);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    // No Retry-After: the first backoff the API's docs advise, 1–2 s.
    assert!(sleeps[0] >= Duration::from_secs(1) && sleeps[0] <= Duration::from_secs(2), "{sleeps:?}");
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn a_503_on_create_job_is_returned_to_the_caller_and_not_retried() {
    let sim = start();
    let (client, clock) = client(&sim);
    // Fault::Status answers instead of the handler: the server created nothing.
    sim.inject(FaultRule::new(Fault::Status(503)).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    assert_eq!(api_status(&error), 503);
    assert_eq!(error.api_error().and_then(|e| e.code_str()), Some("internal_error"));
    assert!(error.is_retryable(), "the caller may decide to retry after checking");
    assert_eq!(job_posts(&sim), 1, "a POST is never blindly repeated after a 5xx");
    assert_eq!(sim.job_count(), 0);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_5xx_after_the_job_was_created_is_not_retried_so_exactly_one_job_exists() {
    let sim = start();
    let (client, clock) = client(&sim);
    // The server creates the job, then the answer is lost behind a 500.
    sim.inject(FaultRule::new(Fault::StatusAfterApplying(500)).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    assert_eq!(api_status(&error), 500);
    assert_eq!(job_posts(&sim), 1, "a retry here would have created a second job");
    assert_eq!(sim.job_count(), 1);
    assert!(clock.sleeps().is_empty());
    // The caller can find the job that was created after all.
    let listed = client.list_jobs(&ListJobs::new()).expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].status, JobStatus::Processing);
}

#[test]
fn a_5xx_after_start_job_took_effect_is_not_retried() {
    let sim = start();
    let (client, clock) = client(&sim);
    let draft = client.create_job(&CreateJob::new(VIDEO).auto_start(false)).expect("draft");
    assert_eq!(draft.status, Some(JobStatus::Created));
    let path = format!("/v1/jobs/{}/start", draft.id);
    sim.inject(FaultRule::new(Fault::StatusAfterApplying(502)).method("POST").path_prefix(&path));

    let error = client.start_job(&draft.id, &StartJob::new()).unwrap_err();

    assert_eq!(api_status(&error), 502);
    assert_eq!(seen(&sim, "POST", &path).len(), 1);
    assert!(clock.sleeps().is_empty());
    // It did start; a second start is refused by the server as the state has moved on.
    assert_eq!(client.get_job(&draft.id).expect("get").status, JobStatus::Processing);
    let again = client.start_job(&draft.id, &StartJob::new()).unwrap_err();
    assert_eq!(api_status(&again), 400);
}

#[test]
fn a_502_html_page_from_a_proxy_is_an_api_error_after_the_retries() {
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::HtmlPage(502)).method("GET").path_prefix("/v1/jobs").times(3));

    let error = client.get_job("job_1").unwrap_err();

    let api = error.api_error().expect("an API error");
    assert_eq!(api.status().as_u16(), 502);
    assert_eq!(api.code(), None, "an HTML page has no API code");
    assert!(api.message().contains("non-JSON"), "{}", api.message());
    assert!(api.body_snippet().contains("502 Bad Gateway"), "{}", api.body_snippet());
    assert!(api.body_snippet().chars().count() <= 300);
    let gets = seen(&sim, "GET", "/v1/jobs/job_1");
    assert_eq!(gets.len(), 3, "first attempt and two retries");
    assert_eq!(clock.sleeps().len(), 2);
    // The request id comes from the X-Request-Id header of the last answer.
    assert_eq!(error.request_id(), Some(gets[2].request_id.as_str()));
    assert!(error.to_string().contains("502"), "{error}");
}

#[test]
fn a_message_only_error_body_gives_its_message() {
    let sim = start();
    let (client, _clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::MessageOnly(402)).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    let api = error.api_error().expect("an API error");
    assert_eq!(api.status().as_u16(), 402);
    assert_eq!(api.message(), "simulated fault: Payment Required");
    assert_eq!(api.code(), None);
    assert!(!error.is_retryable());
    assert_eq!(job_posts(&sim), 1);
    assert_eq!(sim.job_count(), 0);
}

#[test]
fn an_empty_5xx_body_still_gives_the_status() {
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::EmptyBody(504)).path_prefix("/health").times(3));

    let error = client.health().unwrap_err();

    let api = error.api_error().expect("an API error");
    assert_eq!(api.status().as_u16(), 504);
    assert!(api.message().contains("empty body"), "{}", api.message());
    assert_eq!(api.body_snippet(), "");
    assert_eq!(seen(&sim, "GET", "/health").len(), 3);
    assert_eq!(clock.sleeps().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Broken 2xx answers

#[test]
fn truncated_json_on_a_200_is_a_decode_error_with_the_status_and_is_not_retried() {
    let sim = start();
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("create");
    let path = format!("/v1/jobs/{}", job.id);
    sim.inject(FaultRule::new(Fault::TruncatedJson).method("GET").path_prefix(&path));

    let error = client.get_job(&job.id).unwrap_err();

    match &error {
        Error::Decode { status, snippet, .. } => {
            assert_eq!(status.as_u16(), 200);
            assert!(snippet.ends_with(r#""status":"proce"#), "{snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert!(!error.is_retryable());
    assert_eq!(seen(&sim, "GET", &path).len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn truncated_json_on_create_job_is_a_decode_error_and_creates_nothing() {
    let sim = start();
    let (client, _clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::TruncatedJson).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_eq!(job_posts(&sim), 1);
    assert_eq!(sim.job_count(), 0, "this fault answers instead of the handler");
}

#[test]
fn an_empty_200_is_a_decode_error() {
    let sim = start();
    let (client, _clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::EmptyBody(200)).path_prefix("/v1/jobs"));

    let error = client.list_jobs(&ListJobs::new()).unwrap_err();

    match &error {
        Error::Decode { status, snippet, .. } => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(snippet, "");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(seen(&sim, "GET", "/v1/jobs").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Client errors

#[test]
fn a_wrong_key_is_a_401_and_is_never_retried() {
    let sim = start();
    let clock = ManualClock::new();
    let client =
        Client::builder("sk_wrong_LEAKCHECK").base_url(sim.base_url()).clock(clock.clone()).build().expect("client");

    for error in [
        client.get_job("job_1").unwrap_err(),
        client.list_jobs(&ListJobs::new()).unwrap_err(),
        client.create_job(&CreateJob::new(VIDEO)).unwrap_err(),
    ] {
        assert_eq!(api_status(&error), 401);
        assert_eq!(error.api_error().and_then(|e| e.code_str()), Some("invalid_api_key"));
        assert!(!error.is_retryable());
        assert!(!format!("{error} {error:?}").contains("LEAKCHECK"), "the key leaked: {error:?}");
    }
    assert_eq!(sim.requests().len(), 3, "one attempt per call");
    assert!(clock.sleeps().is_empty());
    assert_eq!(sim.job_count(), 0);
    // The health route needs no key, so it still works.
    client.health().expect("health");
}

#[test]
fn a_wrong_admin_token_is_a_401_and_is_never_retried() {
    let sim = start();
    let admin = AdminClient::builder("adm_wrong")
        .base_url(sim.base_url())
        .clock(ManualClock::new())
        .build()
        .expect("admin client");
    let error = admin.list_keys().unwrap_err();
    assert_eq!(api_status(&error), 401);
    assert_eq!(sim.requests().len(), 1);
    // A valid API key is not an admin token either.
    let error = AdminClient::builder(sim.api_key()).base_url(sim.base_url()).build().unwrap().get_config().unwrap_err();
    assert_eq!(api_status(&error), 401);
}

#[test]
fn an_unknown_job_is_a_404_with_its_code_and_request_id() {
    let sim = start();
    let (client, clock) = client(&sim);

    let error = client.get_job("job_404").unwrap_err();

    let api = error.api_error().expect("an API error");
    assert_eq!(api.status().as_u16(), 404);
    assert_eq!(api.code_str(), Some("not_found"));
    assert!(api.message().contains("job_404"), "{}", api.message());
    let gets = seen(&sim, "GET", "/v1/jobs/job_404");
    assert_eq!(gets.len(), 1, "a 404 is never retried");
    assert_eq!(api.request_id(), Some(gets[0].request_id.as_str()));
    assert!(clock.sleeps().is_empty());

    for error in [
        client.start_job("job_404", &StartJob::new()).unwrap_err(),
        client.download_link("job_404").unwrap_err(),
        client.wait_for_completion("job_404", wait_options(1, 60)).unwrap_err(),
    ] {
        assert_eq!(api_status(&error), 404);
    }
    assert!(clock.sleeps().is_empty(), "a 404 ends a wait at once");
}

#[test]
fn fields_the_crate_does_not_name_are_kept() {
    // The simulator's job carries fields `Job` has no name for (video_url, created_at, ...).
    let sim = start();
    let (client, _clock) = client(&sim);
    let mut metadata = removebgvideo::models::Extra::new();
    metadata.insert("order".to_owned(), serde_json::json!(42));
    let job = client.create_job(&CreateJob::new(VIDEO).metadata(metadata)).expect("create");
    let got = client.get_job(&job.id).expect("get");
    assert_eq!(got.extra.get("video_url"), Some(&serde_json::json!(VIDEO)));
    assert!(got.created_at_time().is_some(), "{got:?}");
    assert_eq!(got.extra.get("metadata"), Some(&serde_json::json!({"order": 42})));
    // Both `id` and `job_id` were sent: `id` wins and `job_id` is kept.
    assert_eq!(got.extra.get("job_id"), Some(&serde_json::json!(job.id)));
    assert_eq!(job.message.as_deref(), Some("job created and started"));
}

// ---------------------------------------------------------------------------------------------
// Waiting

#[test]
fn a_job_that_fails_ends_the_wait_with_job_failed_carrying_the_job() {
    let sim = start();
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new("https://cdn.example.com/simulate-failure.mp4")).expect("create");

    let error = client.wait_for_completion(&job.id, wait_options(2, 600)).unwrap_err();

    let failed = match &error {
        Error::JobFailed(failed) => failed,
        other => panic!("expected JobFailed, got {other:?}"),
    };
    assert_eq!(failed.id, job.id);
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("simulated failure"));
    assert_eq!(error.job().map(|j| j.id.as_str()), Some(job.id.as_str()));
    assert!(error.to_string().contains("simulated failure"), "{error}");
    assert!(!error.is_retryable() && !error.is_timeout());
    // Three polls (0 → 33 → 66 → failed) with a 2 s pause between each.
    assert_eq!(clock.sleeps(), [Duration::from_secs(2); 2]);
    assert_eq!(seen(&sim, "GET", &format!("/v1/jobs/{}", job.id)).len(), 3);
}

#[test]
fn a_wait_that_runs_out_of_time_is_a_wait_timeout_with_the_last_state_seen() {
    let sim = Simulator::builder().polls_to_complete(100).start().expect("simulator");
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("create");

    let error = client.wait_for_completion(&job.id, wait_options(1, 5)).unwrap_err();

    assert!(error.is_timeout());
    match &error {
        Error::WaitTimeout { job_id, elapsed, last_seen, last_error } => {
            assert_eq!(job_id, &job.id);
            assert_eq!(*elapsed, Duration::from_secs(5), "virtual time, exactly the timeout");
            let last = last_seen.as_deref().expect("the job was seen");
            assert_eq!(last.status, JobStatus::Processing);
            // Polls at 0..=5 s: six polls, each one step of 1 %.
            assert_eq!(last.progress, Some(6.0));
            assert!(last_error.is_none());
        }
        other => panic!("expected WaitTimeout, got {other:?}"),
    }
    assert!(error.to_string().contains(&job.id), "{error}");
    assert_eq!(clock.sleeps(), [Duration::from_secs(1); 5]);
    assert_eq!(seen(&sim, "GET", &format!("/v1/jobs/{}", job.id)).len(), 6);
}

#[test]
fn a_transient_503_in_the_middle_of_a_wait_does_not_end_it() {
    let sim = start();
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("create");
    let path = format!("/v1/jobs/{}", job.id);

    // After the first successful poll, the next poll meets a 503.
    let mut updates = Vec::new();
    let done = client
        .wait_for_completion(
            &job.id,
            wait_options(1, 60).on_update(|seen| {
                if updates.is_empty() {
                    sim.inject(FaultRule::new(Fault::Status(503)).method("GET").path_prefix(&path));
                }
                updates.push((seen.status.clone(), seen.progress));
            }),
        )
        .expect("the wait survives the 503");

    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(
        updates,
        [(JobStatus::Processing, Some(33.0)), (JobStatus::Processing, Some(66.0)), (JobStatus::Completed, Some(100.0))]
    );
    // Three real polls and the one that met the 503, each one attempt: the wait is the retry.
    assert_eq!(seen(&sim, "GET", &path).len(), 4);
    assert_eq!(clock.sleeps(), [Duration::from_secs(1); 3]);
}

#[test]
fn a_429_in_the_middle_of_a_wait_stretches_the_next_pause() {
    let sim = start();
    let (client, clock) = client(&sim);
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("create");
    let path = format!("/v1/jobs/{}", job.id);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 7 }).method("GET").path_prefix(&path));

    let done = client.wait_for_completion(&job.id, wait_options(1, 60)).expect("completes");

    assert_eq!(done.status, JobStatus::Completed);
    let mut expected = vec![Duration::from_secs(7)];
    expected.extend([Duration::from_secs(1); 2]);
    assert_eq!(clock.sleeps(), expected);
    assert_eq!(seen(&sim, "GET", &path).len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Slow answers

/// Spins (yielding) until `done` holds, failing after `limit`: waiting on a condition, not a
/// sleep standing in for one.
fn until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "condition not reached within {limit:?}");
        std::thread::yield_now();
    }
}

#[test]
fn an_answer_slower_than_the_timeout_is_a_timeout_error() {
    let sim = start();
    let client = sim.client_builder().timeout(Duration::from_millis(200)).max_retries(0).build().expect("client");
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_secs(1))).path_prefix("/health"));

    let error = client.health().unwrap_err();

    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.status(), None, "no answer, so no status");
    assert_eq!(seen(&sim, "GET", "/health").len(), 1);
}

#[test]
fn a_slow_read_is_retried_after_its_timeout() {
    let sim = start();
    let clock = ManualClock::new();
    let client = sim.client_builder().timeout(Duration::from_millis(200)).clock(clock.clone()).build().unwrap();
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_secs(1))).path_prefix("/v1/usage/events"));

    let events = client.usage_events(20).expect("the second attempt answers at once");

    assert!(events.items.is_empty());
    assert_eq!(seen(&sim, "GET", "/v1/usage/events").len(), 2);
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn a_slow_job_creation_times_out_and_is_not_repeated() {
    let sim = start();
    let clock = ManualClock::new();
    let client = sim.client_builder().timeout(Duration::from_millis(200)).clock(clock.clone()).build().unwrap();
    // Delay lets the request take effect once the delay is over.
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_secs(1))).method("POST").path_prefix("/v1/jobs"));

    let error = client.create_job(&CreateJob::new(VIDEO)).unwrap_err();

    assert!(error.is_timeout(), "{error:?}");
    assert!(clock.sleeps().is_empty());
    // The server goes on to create the job after the client gave up: still exactly one.
    until(Duration::from_secs(10), || sim.job_count() == 1);
    assert_eq!(job_posts(&sim), 1);
    assert_eq!(client.list_jobs(&ListJobs::new()).expect("list").items.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Admin calls

fn key_count(admin: &AdminClient) -> usize {
    admin.list_keys().expect("list keys").items.len()
}

#[test]
fn admin_key_creation_is_not_retried_on_5xx() {
    let sim = start();
    let (admin, clock) = admin(&sim);
    assert_eq!(key_count(&admin), 1, "the simulator's own key");

    sim.inject(FaultRule::new(Fault::Status(503)).method("POST").path_prefix("/v1/admin/keys"));
    let error = admin.create_key(&CreateKey::new("svc")).unwrap_err();
    assert_eq!(api_status(&error), 503);
    assert_eq!(seen(&sim, "POST", "/v1/admin/keys").len(), 1);
    assert_eq!(key_count(&admin), 1);

    sim.inject(FaultRule::new(Fault::StatusAfterApplying(500)).method("POST").path_prefix("/v1/admin/keys"));
    let error = admin.create_key(&CreateKey::new("svc")).unwrap_err();
    assert_eq!(api_status(&error), 500);
    assert_eq!(seen(&sim, "POST", "/v1/admin/keys").len(), 2, "one attempt per call");
    assert_eq!(key_count(&admin), 2, "the key was created once, its answer lost");
    assert!(clock.sleeps().is_empty());
}

#[test]
fn admin_key_creation_is_retried_after_a_429_and_creates_one_key() {
    let sim = start();
    let (admin, clock) = admin(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 1 }).method("POST").path_prefix("/v1/admin/keys"));

    let key = admin.create_key(&CreateKey::new("svc").note("from the test")).expect("retried");

    assert!(key.api_key.expose().starts_with("rbv_live_"));
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);
    assert_eq!(seen(&sim, "POST", "/v1/admin/keys").len(), 2);
    assert_eq!(key_count(&admin), 2);
}

#[test]
fn disabling_a_key_is_not_retried_on_5xx_even_when_it_took_effect() {
    let sim = start();
    let (admin, clock) = admin(&sim);
    let key = admin.create_key(&CreateKey::new("svc")).expect("create key");
    sim.inject(FaultRule::new(Fault::StatusAfterApplying(502)).path_prefix("/v1/admin/keys/disable"));

    let error = admin.disable_key(&key.key_fingerprint).unwrap_err();

    assert_eq!(api_status(&error), 502);
    assert_eq!(seen(&sim, "POST", "/v1/admin/keys/disable").len(), 1);
    assert!(clock.sleeps().is_empty());
    // It did take effect: the key no longer works.
    let user = Client::builder(key.api_key.expose()).base_url(sim.base_url()).build().expect("client");
    assert_eq!(api_status(&user.list_jobs(&ListJobs::new()).unwrap_err()), 401);
}

#[test]
fn admin_reads_are_retried_on_5xx() {
    let sim = start();
    let (admin, clock) = admin(&sim);
    sim.inject(FaultRule::new(Fault::Status(500)).path_prefix("/v1/admin/config"));
    sim.inject(FaultRule::new(Fault::HtmlPage(502)).path_prefix("/v1/admin/config"));

    let config = admin.get_config().expect("third attempt answers");

    assert_eq!(config.get("environment"), Some(&serde_json::json!("simulator")));
    assert_eq!(seen(&sim, "GET", "/v1/admin/config").len(), 3);
    assert_eq!(clock.sleeps().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Uploads

/// A file larger than what the simulator keeps of a body (64 KiB), so only `body_len` can tell
/// whether all of it was sent.
fn video_file(dir: &tempfile::TempDir) -> (std::path::PathBuf, u64) {
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, &bytes).expect("write");
    (path, bytes.len() as u64)
}

#[test]
fn an_upload_retried_after_a_429_sends_the_whole_file_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, size) = video_file(&dir);
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 1 }).method("POST").path_prefix("/v1/uploads"));

    let upload = client.upload(&path).send().expect("retried after the 429");

    assert_eq!(upload.size, Some(size), "the server got every byte");
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);
    let attempts = seen(&sim, "POST", "/v1/uploads");
    assert_eq!(attempts.len(), 2);
    // Both attempts carry the whole file plus the same-sized multipart framing.
    assert!(attempts[0].body_len > size, "{} <= {size}", attempts[0].body_len);
    assert_eq!(attempts[0].body_len, attempts[1].body_len);
    assert_eq!(sim.upload_count(), 1);
}

#[test]
fn an_upload_is_not_retried_after_a_5xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, size) = video_file(&dir);
    let sim = start();
    let (client, clock) = client(&sim);
    sim.inject(FaultRule::new(Fault::Status(503)).method("POST").path_prefix("/v1/uploads"));

    let error = client.upload(&path).send().unwrap_err();

    assert_eq!(api_status(&error), 503);
    let attempts = seen(&sim, "POST", "/v1/uploads");
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].body_len > size);
    assert_eq!(sim.upload_count(), 0);
    assert!(clock.sleeps().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Stall limits on transfers

/// An upload whose answer never comes should end at the stall limit ("the longest an upload or
/// download may stop moving"), or it hangs forever by default (no transfer timeout).
#[test]
fn an_upload_whose_answer_never_comes_ends_at_the_stall_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = video_file(&dir);
    let sim = start();
    let client = sim
        .client_builder()
        .stall_timeout(Duration::from_millis(200))
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .expect("client");
    // The simulator reads the whole body, then stays silent for 2 s before answering.
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_secs(2))).method("POST").path_prefix("/v1/uploads"));

    let result = client.upload(&path).send();

    let error = result.expect_err("the silent answer outlasted the 200 ms stall limit ten times");
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error, Error::Stalled { transfer: Transfer::Upload, .. }), "{error:?}");
}

/// Serves one download of `chunks` × 1000 bytes, pausing `pause` before each chunk: a transfer
/// that keeps moving but takes longer in all than any single pause.
fn slow_cdn(chunks: usize, pause: Duration) -> WireServer {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", chunks * 1000);
    WireServer::script(vec![Act::Drip { head: head.into_bytes(), body: vec![7u8; chunks * 1000], piece: 1000, pause }])
}

/// The stall limit bounds each pause of a download, as documented, not the whole download: with
/// the default 30 s, any output that takes longer than 30 s to fetch would be cut off.
#[test]
fn a_download_that_keeps_moving_is_not_cut_off_by_the_stall_limit() {
    // 10 pauses of 100 ms: about 1 s in all, never 400 ms without a byte.
    let cdn = slow_cdn(10, Duration::from_millis(100));
    let url = format!("{}/outputs/job_1.webm", cdn.url());
    let sim = start();
    let client = sim.client_builder().stall_timeout(Duration::from_millis(400)).build().expect("client");

    let mut out = Vec::new();
    let result = client.download(&url).to_writer(&mut out);

    assert_eq!(result.expect("a moving download completes"), 10_000);
    assert_eq!(out, vec![7u8; 10_000]);
}
