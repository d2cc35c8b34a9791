//! `process` reports its stages in order over a job's whole life, on both faces: never back
//! to an earlier stage, a finished job's last poll included.

use std::sync::{Arc, Mutex};

use removebgvideo::client::{ProcessOptions, ProcessProgress, Stage};
use removebgvideo::clock::ManualClock;

use crate::support::batch::{sim_builder, SAMPLE};

/// Options that record every stage reported.
fn recording() -> (ProcessOptions, Arc<Mutex<Vec<ProcessProgress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let options = ProcessOptions::new().on_progress(move |progress| log.lock().unwrap().push(progress.clone()));
    (options, seen)
}

/// The stages went Uploading → Creating → Queued → Processing → Downloading, each at least
/// once, never back; the job's last poll (completed) was reported as processing.
fn assert_in_order(seen: &[ProcessProgress]) {
    let stages: Vec<Stage> = seen.iter().map(|progress| progress.stage).collect();
    assert!(stages.windows(2).all(|pair| pair[0] <= pair[1]), "a stage went back: {stages:?}");
    for stage in [Stage::Uploading, Stage::Creating, Stage::Queued, Stage::Processing, Stage::Downloading] {
        assert!(stages.contains(&stage), "{stage:?} missing from {stages:?}");
    }
    let last_poll = seen.iter().rev().find(|progress| progress.stage != Stage::Downloading).unwrap();
    assert_eq!(last_poll.stage, Stage::Processing, "{stages:?}");
    assert_eq!(last_poll.percent, Some(100.0), "the completed poll: {last_poll:?}");
}

#[test]
fn the_blocking_process_never_reports_an_earlier_stage() {
    // Three polls to finish: 0 % → 33 % → 66 % → completed, every status seen.
    let sim = sim_builder().polls_to_complete(3).start().unwrap();
    let client = sim.client_builder().clock(ManualClock::new()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (options, seen) = recording();
    let done = client.process(SAMPLE, &options, dir.path().join("out.webm")).unwrap();
    assert_eq!(done.job.status.as_str(), "completed");
    assert_in_order(&seen.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_process_never_reports_an_earlier_stage() {
    let sim = sim_builder().polls_to_complete(3).start().unwrap();
    let client = sim.async_client_builder().clock(ManualClock::new()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (options, seen) = recording();
    let done = client.process(SAMPLE, &options, dir.path().join("out.webm")).await.unwrap();
    assert_eq!(done.job.status.as_str(), "completed");
    assert_in_order(&seen.lock().unwrap());
}
