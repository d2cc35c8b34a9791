//! `JobTracker`: waits that end on webhooks, reconciliation polling when they are lost, and
//! `process` from a file to an output in one call.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use removebgvideo::client::process::{ProcessOptions, Stage};
use removebgvideo::client::{JobTracker, Observed};
use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::Simulator;
use removebgvideo::webhook::{self, Verifier, WebhookEvent};
use removebgvideo::{AsyncClient, Error, WaitOptions};

use crate::support::held_clock::HeldClock;

const SECRET: &str = "whsec_tracker_test";

fn event(kind: &str, job_id: &str, delivery: &str) -> WebhookEvent {
    let body = format!(
        r#"{{"event":"{kind}","data":{{"id":"{job_id}","status":"{}"}}}}"#,
        match kind {
            "job.completed" => "completed",
            "job.failed" => "failed",
            _ => "processing",
        }
    );
    let headers = webhook::signed_headers(SECRET, kind, delivery, SystemTime::now(), body.as_bytes()).unwrap();
    Verifier::new(SECRET).unwrap().construct_event(&headers, body.as_bytes()).unwrap()
}

/// A mock API whose `GET /v1/jobs/{id}` answers the given statuses in turn, each once (a last
/// `processing`, for ever).
async fn api(statuses: &[(u16, &str)]) -> (mockito::ServerGuard, Vec<mockito::Mock>) {
    let mut server = mockito::Server::new_async().await;
    let mut mocks = Vec::new();
    for (n, (code, status)) in statuses.iter().enumerate() {
        let body = format!(r#"{{"id":"job_1","status":"{status}","output_url":"https://cdn.example/o.webm"}}"#);
        let mut mock = server.mock("GET", "/v1/jobs/job_1").with_status(usize::from(*code)).with_body(body);
        if n + 1 < statuses.len() || *status != "processing" {
            mock = mock.expect(1);
        }
        mocks.push(mock.create_async().await);
    }
    (server, mocks)
}

/// Yields until a wait has registered with the tracker (on this one-thread runtime, a wait
/// reads its start time in the same step).
async fn registered(tracker: &JobTracker) {
    while tracker.is_empty() {
        tokio::task::yield_now().await;
    }
}

fn client(server: &mockito::ServerGuard, clock: &ManualClock) -> AsyncClient {
    AsyncClient::builder("sk_tracker").base_url(server.url()).clock(clock.clone()).build().unwrap()
}

#[tokio::test]
async fn a_terminal_webhook_ends_the_wait_with_one_fetch() {
    let (server, mocks) = api(&[(200, "completed")]).await;
    let clock = ManualClock::new();
    let tracker = JobTracker::new_async(&client(&server, &clock));
    assert_eq!(tracker.observe(&event("job.started", "job_1", "d1")), Observed::Applied);
    assert_eq!(tracker.observe(&event("job.completed", "job_1", "d2")), Observed::Applied);
    assert_eq!(tracker.observe(&event("job.completed", "job_1", "d2")), Observed::Duplicate);
    assert_eq!(tracker.observe(&event("job.started", "job_1", "d3")), Observed::Stale);

    let job = tracker.wait_async("job_1", WaitOptions::default()).await.unwrap();
    assert!(job.is_completed());
    mocks[0].assert();
    assert!(clock.sleeps().is_empty(), "no poll schedule was needed");
    assert!(tracker.is_empty(), "a finished wait leaves nothing behind");
}

#[tokio::test]
async fn a_webhook_during_the_wait_wakes_it() {
    let (server, mocks) = api(&[(200, "completed")]).await;
    let clock = ManualClock::new();
    let tracker = JobTracker::new_async(&client(&server, &clock));
    let waiting = tokio::spawn({
        let tracker = tracker.clone();
        async move { tracker.wait_async("job_1", WaitOptions::default().timeout(Duration::MAX)).await }
    });
    // On a manual clock nothing is due until the clock moves: only the webhook ends the wait.
    registered(&tracker).await;
    tracker.observe(&event("job.completed", "job_1", "d1"));
    let job = waiting.await.unwrap().unwrap();
    assert!(job.is_completed());
    mocks[0].assert();
    assert!(clock.sleeps().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_webhook_lost_polling_after_the_quiet_period_finds_the_job() {
    let (server, mocks) = api(&[(200, "processing"), (200, "processing"), (200, "completed")]).await;
    let clock = HeldClock::new();
    let client = AsyncClient::builder("sk_tracker").base_url(server.url()).clock(clock.clone()).build().unwrap();
    let tracker = JobTracker::new_async(&client);
    let updates = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&updates);
    let waiting = tokio::spawn(async move {
        let options = WaitOptions::default().on_update(move |job| seen.lock().unwrap().push(job.status.clone()));
        tracker.wait_async("job_1", options).await
    });

    // Each pause the wait asks for, the clock gives it: the quiet period, then slow back-off.
    let secs = Duration::from_secs_f64;
    for (n, expected) in [secs(30.0), secs(15.0), secs(22.5)].into_iter().enumerate() {
        let asked = clock.until_asked(n + 1);
        if asked.len() <= n && waiting.is_finished() {
            panic!("the wait ended early: {:?}", waiting.await);
        }
        assert_eq!(asked.get(n), Some(&expected), "{asked:?}");
        clock.advance(expected);
    }
    let job = waiting.await.unwrap().unwrap();
    assert!(job.is_completed());
    mocks.iter().for_each(mockito::Mock::assert);
    assert_eq!(updates.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_404_ends_the_wait_at_once_and_the_deadline_ends_it_with_wait_timeout() {
    let (server, _mocks) = api(&[(404, "unknown")]).await;
    let clock = ManualClock::new();
    let tracker = JobTracker::new_async(&client(&server, &clock));
    let waiting = tokio::spawn({
        let tracker = tracker.clone();
        async move { tracker.wait_async("job_1", WaitOptions::default()).await }
    });
    registered(&tracker).await;
    clock.advance(Duration::from_secs(30));
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));

    let (server, _mocks) = api(&[(200, "processing")]).await;
    let clock = ManualClock::new();
    let tracker = JobTracker::new_async(&client(&server, &clock));
    let waiting = tokio::spawn({
        let tracker = tracker.clone();
        async move { tracker.wait_async("job_1", WaitOptions::default().timeout(Duration::from_secs(40))).await }
    });
    registered(&tracker).await;
    clock.advance(Duration::from_secs(30));
    clock.advance(Duration::from_secs(10));
    let err = waiting.await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::WaitTimeout { .. }), "{err:?}");
}

#[test]
fn process_goes_from_a_file_to_an_output_file_and_reports_each_stage() {
    let sim = Simulator::builder().polls_to_complete(2).output_size(4096).start().unwrap();
    let client = sim.client_builder().clock(ManualClock::new()).build().unwrap();
    let stages = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&stages);
    let options = ProcessOptions::new().on_progress(move |p| {
        let mut stages = seen.lock().unwrap();
        if stages.last() != Some(&p.stage) {
            stages.push(p.stage);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.webm");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");

    let done = client.process(sample, &options, &out).unwrap();

    assert!(done.job.is_completed());
    assert_eq!(done.path, out);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), done.bytes);
    assert_eq!(done.bytes, 4096);
    let stages = stages.lock().unwrap().clone();
    assert_eq!(stages.first(), Some(&Stage::Uploading));
    assert!(stages.contains(&Stage::Creating) && stages.contains(&Stage::Queued));
    assert_eq!(stages.last(), Some(&Stage::Downloading));
}

#[test]
fn a_process_error_names_its_stage_and_job() {
    let sim = Simulator::builder().start().unwrap();
    let client = sim.client_builder().clock(ManualClock::new()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = client.process(dir.path().join("missing.mp4"), &ProcessOptions::new(), dir.path().join("o")).unwrap_err();
    assert_eq!((err.stage, err.job_id.as_deref()), (Stage::Uploading, None));
    assert!(matches!(err.error, Error::Io { .. }), "{:?}", err.error);
}

#[test]
fn the_blocking_face_waits_through_new_and_wait_and_an_async_tracker_is_refused() {
    let mut server = mockito::Server::new();
    let fetched = server
        .mock("GET", "/v1/jobs/job_1")
        .with_body(r#"{"id":"job_1","status":"completed","output_url":"https://cdn.example/o.webm"}"#)
        .expect(1)
        .create();
    let clock = ManualClock::new();
    let client =
        removebgvideo::Client::builder("sk_tracker").base_url(server.url()).clock(clock.clone()).build().unwrap();
    let tracker = JobTracker::new(&client);
    assert_eq!(tracker.observe(&event("job.completed", "job_1", "d1")), Observed::Applied);
    let job = tracker.wait("job_1", WaitOptions::default()).unwrap();
    assert!(job.is_completed());
    fetched.assert();
    assert!(clock.sleeps().is_empty(), "the webhook ended the wait");

    let async_tracker = JobTracker::new_async(
        &AsyncClient::builder("sk_tracker").base_url(server.url()).clock(clock.clone()).build().unwrap(),
    );
    let err = async_tracker.wait("job_1", WaitOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field, .. } if *field == "tracker"), "{err:?}");
    assert!(err.to_string().contains("wait_async"), "{err}");
}
