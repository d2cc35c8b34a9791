//! The batch runner against the simulator: faults, credits, lost answers, estimates, shards.

use crate::support::batch as batch_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use batch_support::*;
use removebgvideo::batch::{BatchError, Event, Item, ItemStatus, Outcome, Shard};
use removebgvideo::simulator::{Fault, FaultRule};

#[test]
fn two_hundred_items_through_429s_5xx_and_dropped_connections_get_one_job_each() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut items = url_items(170);
    items.extend(file_items(&dir.path().join("in"), 30));
    let jobs = "/v1/jobs";
    for rule in [
        FaultRule::new(Fault::RateLimited { retry_after: 0 }).method("POST").path_prefix(jobs).times(12),
        // Answered 5xx that made no job: found nowhere, so created again.
        FaultRule::new(Fault::Status(503)).method("POST").path_prefix(jobs).after(20).times(6),
        // Answered 5xx after making the job: found through list_jobs, not created again.
        FaultRule::new(Fault::StatusAfterApplying(500)).method("POST").path_prefix(jobs).after(40).times(4),
        FaultRule::new(Fault::Status(502)).method("GET").path_prefix("/v1/jobs/").times(15),
        FaultRule::new(Fault::DropConnection).method("GET").path_prefix("/v1/jobs/").after(30).times(8),
        FaultRule::new(Fault::HtmlPage(503)).path_prefix("/v1/uploads").times(4),
        FaultRule::new(Fault::DropConnection).path_prefix("/v1/uploads").after(5).times(3),
        FaultRule::new(Fault::RateLimited { retry_after: 0 })
            .method("GET")
            .path_prefix("/v1/jobs/")
            .after(50)
            .times(10),
    ] {
        sim.inject(rule);
    }

    let report = batch(&sim, &out).concurrency(8).max_attempts(20).run(items).unwrap();

    let failed: Vec<_> = report.items.iter().filter(|item| item.status != ItemStatus::Completed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.outcome, Outcome::Finished);
    assert_eq!(sim.job_count(), 200, "exactly one job per item");
    let outputs = outputs(&out);
    assert_eq!(outputs.len(), 200);
    assert!(outputs.values().all(|size| *size == OUTPUT_SIZE as u64));
    assert!(outputs.contains_key("u000.webm") && outputs.contains_key("f029.webm"));
    let answered_429 = sim.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/jobs").count();
    assert!(answered_429 > 200, "the faults were met: {answered_429} creates sent");
}

#[test]
fn a_402_after_k_jobs_stops_every_later_create_and_a_rerun_carries_on() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let k = 5;
    sim.inject(FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").after(k).times(u32::MAX));

    let report = batch(&sim, dir.path()).concurrency(3).run(url_items(20)).unwrap();

    assert_eq!(report.outcome, Outcome::StoppedForCredits);
    assert_eq!(sim.job_count(), k as usize);
    assert_eq!(report.count(ItemStatus::Completed), k as usize);
    assert_eq!(report.count(ItemStatus::NotStarted), 20 - k as usize);
    let refused = report.items.iter().find_map(|item| item.error.as_ref()).expect("the 402 is reported");
    assert_eq!(refused.code.as_ref().map(|code| code.as_str()), Some("insufficient_credits"));
    assert_eq!(refused.status, Some(402));
    assert!(refused.request_id.is_some());
    // No create after the first 402, except those already under way on the other workers.
    assert!(creates_sent(&sim) <= k as usize + 3, "{} creates sent", creates_sent(&sim));

    sim.clear_faults();
    let again = batch(&sim, dir.path()).concurrency(3).run(url_items(20)).unwrap();
    assert!(again.all_succeeded(), "{again:#?}");
    assert_eq!(again.count(ItemStatus::AlreadyCompleted), k as usize);
    assert_eq!(sim.job_count(), 20);
    assert_eq!(outputs(dir.path()).len(), 20);
}

#[test]
fn a_create_whose_answer_was_lost_after_applying_is_found_through_list_jobs() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    sim.inject(FaultRule::new(Fault::StatusAfterApplying(500)).method("POST").path_prefix("/v1/jobs"));

    let report = batch(&sim, dir.path()).run(url_items(1)).unwrap();

    assert_eq!(report.items[0].status, ItemStatus::Completed, "{report:#?}");
    assert_eq!(sim.job_count(), 1);
    assert_eq!(creates_sent(&sim), 1, "found, not created again");
    assert!(sim.requests().iter().any(|r| r.method == "GET" && r.path == "/v1/jobs"), "looked for in the job list");
}

#[test]
fn a_create_with_no_answer_and_no_job_is_uncertain_until_recreating_is_asked_for() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    sim.inject(FaultRule::new(Fault::DropConnection).method("POST").path_prefix("/v1/jobs"));

    let first = batch(&sim, dir.path()).run(url_items(2)).unwrap();
    assert_eq!(first.count(ItemStatus::Uncertain), 1, "{first:#?}");
    assert_eq!(first.count(ItemStatus::Completed), 1, "{first:#?}");
    let uncertain = first.items.iter().find(|item| item.status == ItemStatus::Uncertain).unwrap();
    assert_eq!(uncertain.error.as_ref().map(|error| (error.stage.as_str(), error.status)), Some(("create", None)));
    assert_eq!(sim.job_count(), 1);

    // A plain rerun looks again, finds nothing, and still creates nothing.
    let creates = creates_sent(&sim);
    let second = batch(&sim, dir.path()).run(url_items(2)).unwrap();
    assert_eq!(second.count(ItemStatus::Uncertain), 1);
    assert_eq!(second.count(ItemStatus::AlreadyCompleted), 1);
    assert_eq!(creates_sent(&sim), creates);
    assert_eq!(sim.job_count(), 1);

    let third = batch(&sim, dir.path()).recreate_uncertain(true).run(url_items(2)).unwrap();
    assert!(third.all_succeeded(), "{third:#?}");
    assert_eq!(sim.job_count(), 2);
}

#[test]
fn a_job_that_fails_is_listed_and_retried_only_when_asked() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let items = || {
        vec![
            Item::url("good", "https://videos.example/good.mp4"),
            Item::url("bad", "https://videos.example/simulate-failure.mp4"),
        ]
    };
    let first = batch(&sim, dir.path()).run(items()).unwrap();
    let bad = first.item("bad").unwrap();
    assert_eq!(bad.status, ItemStatus::Failed);
    assert_eq!(bad.error.as_ref().unwrap().stage.as_str(), "job");
    assert!(bad.job_id.is_some());
    assert_eq!(first.item("good").unwrap().status, ItemStatus::Completed);

    let second = batch(&sim, dir.path()).run(items()).unwrap();
    assert_eq!(second.item("bad").unwrap().status, ItemStatus::Failed);
    assert_eq!(sim.job_count(), 2, "a failed item is not retried unless asked");

    let third = batch(&sim, dir.path()).retry_failed(true).run(items()).unwrap();
    assert_eq!(third.item("bad").unwrap().status, ItemStatus::Failed);
    assert_eq!(sim.job_count(), 3, "retry_failed made one new job for the failed item only");
}

#[test]
fn an_item_refused_by_the_api_fails_alone_with_its_code_and_request_id() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    sim.inject(FaultRule::new(Fault::Status(400)).method("POST").path_prefix("/v1/jobs"));
    let report = batch(&sim, dir.path()).concurrency(1).run(url_items(3)).unwrap();
    assert_eq!(report.count(ItemStatus::Failed), 1);
    assert_eq!(report.count(ItemStatus::Completed), 2);
    let error = report.items.iter().find_map(|item| item.error.as_ref()).unwrap();
    assert_eq!(
        (error.stage.as_str(), error.status, error.code.as_ref().map(|code| code.as_str())),
        ("create", Some(400), Some("invalid_request"))
    );
    assert!(error.request_id.as_deref().is_some_and(|id| id.starts_with("req_")));

    let report_file = dir.path().join("report.jsonl");
    report.write_jsonl(&report_file).unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&report_file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().any(|line| line["status"] == "failed" && line["error_code"] == "invalid_request"));
    assert!(lines.iter().all(|line| line.get("request_id").is_some() && line.get("job_id").is_some()));
}

#[test]
fn dry_run_estimates_durations_and_the_budget_refuses_before_sending_anything() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let mut items = file_items(&dir.path().join("in"), 2);
    items.push(Item::url("remote", "https://videos.example/remote.mp4"));
    let not_video = dir.path().join("in/notes.mp4");
    std::fs::write(&not_video, "not a video").unwrap();
    items.push(Item::file(&not_video));
    let out = dir.path().join("out");

    let estimate = batch(&sim, &out).estimate(items.clone()).unwrap();
    assert_eq!(estimate.items.len(), 4);
    assert_eq!(estimate.unknown_items, 2);
    let sample = &estimate.items[0];
    assert!((sample.duration.unwrap().as_secs_f64() - 2.0).abs() < 0.1);
    // The simulator prices the default model (`original`) at the documented 60 credits per
    // minute, and the estimate counts whole seconds: each 2 s sample is 2 credits.
    assert!((estimate.total_credits - 2.0 * 2.0 / 60.0 * 60.0).abs() < 0.05, "{}", estimate.total_credits);
    assert!(estimate.items[2].credits.is_none() && estimate.items[3].unknown_reason.is_some());

    let refused = batch(&sim, &out).max_credits(0.5).run(items.clone()).unwrap_err();
    match refused {
        BatchError::OverBudget { estimated_credits, max_credits, unknown_items } => {
            assert!(estimated_credits > 0.5 && max_credits == 0.5 && unknown_items == 2);
        }
        other => panic!("expected OverBudget, got {other:?}"),
    }
    assert!(sim.requests().iter().all(|r| r.method == "GET" && r.path == "/api/pricing"), "only pricing was read");
    assert_eq!(std::fs::read_to_string(journal(&out)).unwrap_or_default(), "");

    assert!(matches!(batch(&sim, &out).max_credits(f64::NAN).run(items.clone()), Err(BatchError::InvalidInput { .. })));
    assert!(matches!(batch(&sim, &out).concurrency(0).run(items.clone()), Err(BatchError::InvalidInput { .. })));
    let report = batch(&sim, &out).max_credits(5.0).run(items).unwrap();
    assert_eq!(report.count(ItemStatus::Completed), 4, "{report:#?}");
}

#[test]
fn shards_split_the_items_stably_and_cover_each_exactly_once() {
    let ids: Vec<String> = (0..1000).map(|i| format!("video-{i}")).collect();
    let shards: Vec<Shard> = (1..=4).map(|i| Shard::new(i, 4).unwrap()).collect();
    for id in &ids {
        assert_eq!(shards.iter().filter(|shard| shard.contains(id)).count(), 1, "{id}");
    }
    let sizes: Vec<usize> = shards.iter().map(|shard| ids.iter().filter(|id| shard.contains(id)).count()).collect();
    assert!(sizes.iter().all(|size| *size > 150), "{sizes:?}");

    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let mut seen = BTreeSet::new();
    for shard in shards {
        let out = dir.path().join(format!("machine-{}", shard.number()));
        let report = batch(&sim, &out).shard(shard).run(url_items(24)).unwrap();
        assert!(report.all_succeeded());
        for item in &report.items {
            assert!(shard.contains(&item.item));
            assert!(seen.insert(item.item.clone()), "{} in two shards", item.item);
        }
    }
    assert_eq!(seen.len(), 24);
    assert_eq!(sim.job_count(), 24);
}

#[test]
fn a_complete_output_is_skipped_and_a_missing_one_is_fetched_again() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let first = batch(&sim, dir.path()).run(url_items(2)).unwrap();
    assert!(first.all_succeeded());
    std::fs::remove_file(dir.path().join("u001.webm")).unwrap();
    let requests = sim.requests().len();

    let events = Arc::new(AtomicUsize::new(0));
    let skipped = Arc::clone(&events);
    let second = batch(&sim, dir.path())
        .on_event(move |event| {
            if matches!(event, Event::Skipped { .. }) {
                skipped.fetch_add(1, Ordering::SeqCst);
            }
        })
        .run(url_items(2))
        .unwrap();
    assert_eq!(second.item("u000").unwrap().status, ItemStatus::AlreadyCompleted);
    assert_eq!(second.item("u001").unwrap().status, ItemStatus::Completed);
    assert_eq!(events.load(Ordering::SeqCst), 1);
    assert_eq!(sim.job_count(), 2, "the missing output came from the same job");
    assert!(sim.requests()[requests..].iter().all(|r| r.method == "GET"), "nothing created or uploaded");
    assert_eq!(outputs(dir.path()).len(), 2);
}

#[test]
fn cancelling_stops_the_run_and_a_rerun_finishes_it() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let batch_one = batch(&sim, dir.path()).concurrency(2);
    let cancel = batch_one.cancel_handle();
    let report = batch_one
        .on_event(move |event| {
            if matches!(event, Event::Created { .. }) {
                cancel.cancel();
            }
        })
        .run(url_items(10))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Cancelled);
    assert!(report.count(ItemStatus::Unfinished) > 0);
    let created = report.items.iter().filter(|item| item.job_id.is_some()).count();
    assert_eq!(created, sim.job_count(), "the report names every job that exists: {report:#?}");
    let made = sim.job_count();
    assert!(made < 10);

    let again = batch(&sim, dir.path()).concurrency(2).run(url_items(10)).unwrap();
    assert!(again.all_succeeded(), "{again:#?}");
    assert_eq!(sim.job_count(), 10);
}

#[test]
fn a_panicking_event_callback_does_not_stop_the_run() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let report = batch(&sim, dir.path())
        .on_event(|event| {
            if matches!(event, Event::Created { .. }) {
                panic!("a bug in the caller's progress display");
            }
        })
        .run(url_items(3))
        .unwrap();
    assert!(report.all_succeeded(), "{report:#?}");
}

#[test]
fn a_journal_that_cannot_be_opened_stops_the_run_before_anything_is_sent() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let error = batch(&sim, dir.path()).journal(dir.path()).run(url_items(1)).unwrap_err();
    assert!(matches!(error, BatchError::Journal { .. }), "{error:?}");
    assert!(error.to_string().contains("journal"), "{error}");
    assert!(sim.requests().is_empty());
}

#[test]
fn the_batch_polls_on_the_clients_clock_with_the_schedule_of_wait_options() {
    use removebgvideo::batch::Batch;
    use removebgvideo::clock::ManualClock;
    use std::time::Duration;

    // The vendor's schedule (2 s, growing by half up to 10 s) on a manual clock: no real sleep.
    let sim = sim_builder().polls_to_complete(3).start().unwrap();
    let clock = ManualClock::new();
    let client = sim.client_builder().clock(clock.clone()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = Batch::new(client, dir.path()).concurrency(1).run(url_items(1)).unwrap();
    assert!(report.all_succeeded(), "{report:?}");
    let slept: Duration = clock.sleeps().iter().sum();
    // Polls at 2 s, 2 + 3 s and 2 + 3 + 4.5 s after the create: WaitOptions' advised schedule.
    assert!(slept >= Duration::from_millis(9500), "{slept:?}");
    assert!(slept < Duration::from_secs(30), "{slept:?}");
    let polls = sim.requests().iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/jobs/")).count();
    assert_eq!(polls, 3);
}

/// A box: its 32-bit size, its type, its content.
fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(content.len() + 8).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(content);
    out
}

#[test]
fn a_video_whose_index_claims_2_pow_64_seconds_is_unknown_not_a_crash() {
    // Version-1 mvhd and mdhd: timescale 1, duration 2^64 - 2 (0.2 panicked converting it).
    let header = |kind: &[u8; 4], tail: usize| {
        let mut content = vec![1, 0, 0, 0];
        content.resize(4 + 16, 0);
        content.extend_from_slice(&1u32.to_be_bytes());
        content.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
        content.resize(content.len() + tail, 0);
        mp4_box(kind, &content)
    };
    let mut moov = header(b"mvhd", 80);
    moov.extend_from_slice(&mp4_box(b"trak", &mp4_box(b"mdia", &header(b"mdhd", 4))));
    let mut file = mp4_box(b"ftyp", b"isom\0\0\0\0isom");
    file.extend_from_slice(&mp4_box(b"moov", &moov));

    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let mut items = file_items(&dir.path().join("in"), 1);
    let crafted = dir.path().join("in/crafted.mp4");
    std::fs::write(&crafted, file).unwrap();
    items.push(Item::file(&crafted));

    let estimate = batch(&sim, &dir.path().join("out")).estimate(items).unwrap();
    assert_eq!(estimate.unknown_items, 1);
    assert!(estimate.items[0].credits.is_some(), "the other item is still estimated");
    let reason = estimate.items[1].unknown_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("no real video"), "{reason}");
}
