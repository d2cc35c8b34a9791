//! Testing your own code against the simulator, written the way an SDK user would.
//!
//! `my_service` below stands for the code of a service that uses this crate: a function that
//! turns a local video into a processed one, and a helper that waits out long rate limits. The
//! tests start a [`Simulator`] (feature `test-util`), point a client at it, and check what came
//! out: the downloaded bytes, the webhooks the service received, and how it handled a 429.
//!
//! Two things keep such tests fast and deterministic:
//! - a [`ManualClock`] in the client, so waiting for a job and backing off take no real time;
//! - webhooks are delivered before the API answers the request that caused them, so once a call
//!   returns, its webhooks have arrived.

use std::path::Path;
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::{self, Fault, FaultRule, Simulator};
use removebgvideo::webhook::{EventKind, Verifier};
use removebgvideo::{Client, CreateJob, Error};

use crate::support::webhook_receiver::WebhookReceiver;

/// The code under test: what a service built on the SDK might contain.
mod my_service {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use removebgvideo::models::JobSubmission;
    use removebgvideo::{BgType, Client, CreateJob, Error, WaitOptions};

    /// Uploads `video`, removes its background, waits for the job, and saves the result in
    /// `out_dir` as `<job id>.webm`. Progress notifications go to `webhook_url` when given.
    pub fn process_video(
        client: &Client,
        video: &Path,
        out_dir: &Path,
        webhook_url: Option<&str>,
    ) -> Result<PathBuf, Error> {
        let upload = client.upload(video).send()?;
        let mut request = CreateJob::new(&upload.video_url).bg_type(BgType::Transparent);
        if let Some(url) = webhook_url {
            request = request.webhook_url(url);
        }
        let job = client.create_job(&request)?;
        let done = client.wait_for_completion(&job.id, WaitOptions::default().timeout(Duration::from_secs(900)))?;
        let output = out_dir.join(format!("{}.webm", done.id));
        client.download_output(&done)?.to_path(&output)?;
        Ok(output)
    }

    /// Creates a job, waiting out rate limits longer than the client waits by itself (its
    /// `Retry-After` cap is 30 s; above it, the error comes back with `retry_after()` set).
    /// `sleep` is `std::thread::sleep` in production; tests pass a recorder.
    pub fn create_job_patiently(
        client: &Client,
        request: &CreateJob,
        max_attempts: u32,
        sleep: &mut dyn FnMut(Duration),
    ) -> Result<JobSubmission, Error> {
        let mut attempt = 1;
        loop {
            match client.create_job(request) {
                Err(error) if error.status().map(|s| s.as_u16()) == Some(429) && attempt < max_attempts => {
                    sleep(error.retry_after().unwrap_or(Duration::from_secs(60)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Test helpers

/// A client for the simulator whose waits and backoffs take no real time.
fn client_for(sim: &Simulator) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = sim.client_builder().clock(clock.clone()).build().expect("client");
    (client, clock)
}

/// Writes a stand-in input video.
fn input_video(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, b"\x00\x00\x00\x18ftypmp42 not really a video").expect("write input");
    path
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn process_video_saves_the_processed_output() {
    let sim = Simulator::builder().output_size(300 * 1024).start().expect("simulator");
    let (client, _clock) = client_for(&sim);
    let dir = tempfile::tempdir().expect("tempdir");
    let video = input_video(dir.path(), "interview.mp4");

    let output = my_service::process_video(&client, &video, dir.path(), None).expect("processed");

    // The file holds exactly what the simulator serves for that job.
    let job_id = output.file_stem().and_then(|s| s.to_str()).expect("named after the job").to_owned();
    assert_eq!(std::fs::read(&output).expect("read output"), simulator::expected_output(&job_id, 300 * 1024));
    // One upload and one job: nothing was sent twice.
    assert_eq!((sim.upload_count(), sim.job_count()), (1, 1));
    // The output was fetched without the API key (it lives on a CDN in production).
    let fetch = sim.requests().into_iter().find(|r| r.path.starts_with("/outputs/")).expect("the download");
    assert_eq!(fetch.path, format!("/outputs/{job_id}.webm"));
    assert_eq!(fetch.header("x-api-key"), None);
}

#[test]
fn process_video_reports_a_failed_job_and_writes_nothing() {
    let sim = Simulator::start().expect("simulator");
    let (client, _clock) = client_for(&sim);
    let dir = tempfile::tempdir().expect("tempdir");
    // The simulator fails every job whose video URL contains "simulate-failure"; an upload's URL
    // carries its file name.
    let video = input_video(dir.path(), "simulate-failure.mp4");

    let error = my_service::process_video(&client, &video, dir.path(), None).unwrap_err();

    match &error {
        Error::JobFailed(job) => assert_eq!(job.error.as_deref(), Some("simulated failure")),
        other => panic!("expected a failed job, got {other:?}"),
    }
    let files: Vec<_> =
        std::fs::read_dir(dir.path()).expect("read dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(files, ["simulate-failure.mp4"], "no output, not even a partial one");
}

#[test]
fn the_service_receives_signed_webhooks_it_can_verify() {
    let sim = Simulator::start().expect("simulator");
    let (client, _clock) = client_for(&sim);
    let receiver = WebhookReceiver::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let video = input_video(dir.path(), "clip.mp4");

    let output = my_service::process_video(&client, &video, dir.path(), Some(&receiver.url)).expect("processed");
    let job_id = output.file_stem().and_then(|s| s.to_str()).expect("job id");

    // What the service's webhook handler does with each request: verify, then read.
    let verifier = Verifier::new(sim.webhook_secret().expect("the simulator signs by default")).expect("verifier");
    // Deliveries are made in the background; settling waits for those already due.
    sim.settle();
    let deliveries = receiver.received();
    let events: Vec<_> =
        deliveries.iter().map(|d| verifier.construct_event(&d.headers, &d.body).expect("a valid signature")).collect();

    let kinds: Vec<_> = events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, [EventKind::JobStarted, EventKind::JobCompleted]);
    assert!(events.iter().all(|e| e.job_id.as_deref() == Some(job_id)));
    let completed = &events[1];
    assert_eq!(completed.output_url.as_deref(), Some(format!("{}/outputs/{job_id}.webm", sim.base_url()).as_str()));
    // Each delivery has its own id, to process each once.
    assert_ne!(events[0].delivery_id, events[1].delivery_id);

    // A forged delivery (valid headers, altered body) is refused.
    let mut forged = deliveries[1].body.clone();
    forged.extend_from_slice(b" ");
    assert!(verifier.construct_event(&deliveries[1].headers, &forged).is_err());
    // So is one signed with another secret.
    let stranger = Verifier::new("not-the-simulators-secret").expect("verifier");
    assert!(stranger.construct_event(&deliveries[0].headers, &deliveries[0].body).is_err());

    // The simulator's own log agrees: both delivered, both answered 200.
    let log = sim.webhook_deliveries();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d.outcome == Ok(200) && d.url == receiver.url));
}

#[test]
fn a_long_rate_limit_is_waited_out_by_the_service() {
    let sim = Simulator::start().expect("simulator");
    let (client, clock) = client_for(&sim);
    // The API asks for 90 s: more than the client waits by itself, so the error reaches the
    // service, which decides to wait.
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 90 }).method("POST").path_prefix("/v1/jobs"));

    let mut slept = Vec::new();
    // The service's own wait: the time passes for the client too (its back-off is shared).
    let job =
        my_service::create_job_patiently(&client, &CreateJob::new("https://cdn.example.com/a.mp4"), 3, &mut |d| {
            slept.push(d);
            clock.advance(d);
        })
        .expect("created on the second attempt");

    assert_eq!(slept, [Duration::from_secs(90)]);
    assert!(clock.sleeps().is_empty(), "the client itself did not wait");
    assert_eq!(sim.job_count(), 1);
    assert_eq!(client.get_job(&job.id).expect("the job exists").id, job.id);
}

#[test]
fn a_short_rate_limit_is_handled_by_the_client_alone() {
    let sim = Simulator::start().expect("simulator");
    let (client, clock) = client_for(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 2 }).method("POST").path_prefix("/v1/jobs"));

    let mut slept = Vec::new();
    my_service::create_job_patiently(&client, &CreateJob::new("https://cdn.example.com/a.mp4"), 3, &mut |d| {
        slept.push(d);
    })
    .expect("created");

    assert!(slept.is_empty(), "the service never saw the 429");
    assert_eq!(clock.sleeps(), [Duration::from_secs(2)]);
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn the_service_gives_up_after_its_attempts() {
    let sim = Simulator::start().expect("simulator");
    let (client, clock) = client_for(&sim);
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 600 }).method("POST").path_prefix("/v1/jobs").times(5));

    let mut slept = Vec::new();
    let error =
        my_service::create_job_patiently(&client, &CreateJob::new("https://cdn.example.com/a.mp4"), 3, &mut |d| {
            slept.push(d);
            clock.advance(d);
        })
        .unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(slept, [Duration::from_secs(600); 2]);
    assert_eq!(sim.job_count(), 0);
}
