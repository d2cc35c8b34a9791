//! One batch worked by many worker processes through PostgreSQL (`removebgvideo batch
//! --queue`): workers killed with SIGKILL and started again, a worker killed between
//! `create_sent` and `created`, the same manifest enqueued twice.
//!
//! The database comes from `REMOVEBGVIDEO_TEST_POSTGRES_URL` (`.ci/run` starts a throwaway
//! cluster and sets it; CONTRIBUTING says how to run them locally). Without it the tests
//! are skipped, except under CI (`CI` set), where they fail. Each test works in a database of
//! its own.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::batch::*;
use crate::support::command::{command, run, text};
use crate::support::queue::*;
use removebgvideo::batch::{ItemStatus, Outcome, Queue};
use removebgvideo::simulator::{Fault, FaultRule};

#[test]
fn the_same_manifest_enqueued_twice_adds_nothing_the_second_time() {
    let Some(q) = enqueued(25) else { return };
    let first = text(&q.enqueued.stdout);
    assert!(first.starts_with("25 of 25 items added"), "{first}");
    let second = run(&q.sim, &["batch", "--queue", &q.db, "--enqueue", &q.manifest]);
    assert!(text(&second.stdout).starts_with("0 of 25 items added"), "{}", text(&second.stdout));

    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.items.len(), 25);
    assert_eq!(report.outcome, Outcome::InProgress);
    let ids: Vec<&str> = report.items.iter().map(|item| item.item.as_str()).collect();
    let expected: Vec<String> = (0..25).map(|i| format!("q{i:03}")).collect();
    assert_eq!(ids, expected, "in the manifest's order, once each");

    let shown = run(&q.sim, &["batch", "--queue", &q.db, "--report", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["total"], 25);
    assert_eq!(shown["counts"]["unfinished"], 25);
    assert_eq!(q.sim.job_count(), 0, "enqueuing creates nothing");
}

#[test]
fn a_worker_killed_between_create_sent_and_created_has_its_job_adopted_not_created_again() {
    let Some(q) = enqueued(3) else { return };

    // The create is answered, then the worker dies before committing `created`.
    // One thread, so that the crash comes at the first item's step and nothing else is under way.
    let crashed = command(&q.sim, &worker_args(&q.db, &q.out, "1", "0.5", "0.02"))
        .env("REMOVEBGVIDEO_TEST_CRASH_AT", "created")
        .output();
    let crashed = crashed.unwrap();
    assert!(!crashed.status.success(), "the worker was meant to abort");
    assert_eq!(q.sim.job_count(), 1, "the create reached the server");
    let row = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!((row.items[0].status, row.items[0].job_id.as_deref()), (ItemStatus::Unfinished, None));

    let finished = run(&q.sim, &worker_args(&q.db, &q.out, "4", "0.5", "0.02"));
    assert_eq!(finished.status.code(), Some(0), "{}{}", text(&finished.stdout), text(&finished.stderr));
    assert_eq!(q.sim.job_count(), 3, "the jobs made before the crash were adopted, not made again");
    let by_item = jobs_by_item(&q.sim);
    assert!(by_item.values().all(|jobs| jobs.len() == 1), "{by_item:?}");
    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.outcome, Outcome::Finished);
    for item in &report.items {
        assert_eq!(item.status, ItemStatus::Completed, "{item:?}");
        assert_eq!(item.job_id.as_ref(), Some(&by_item[&item.item][0]));
    }
    assert_eq!(final_outputs(Path::new(&q.out)).len(), 3);
}

#[test]
fn a_create_lost_before_it_reached_the_server_is_uncertain_and_not_created() {
    let Some(q) = enqueued(1) else { return };

    // `create_sent` is committed, then the worker dies before sending the create.
    let crashed = command(&q.sim, &worker_args(&q.db, &q.out, "1", "0.5", "0.02"))
        .env("REMOVEBGVIDEO_TEST_CRASH_AT", "create_sent")
        .output();
    assert!(!crashed.unwrap().status.success());
    let after = run(&q.sim, &worker_args(&q.db, &q.out, "4", "0.5", "0.02"));
    assert_eq!(after.status.code(), Some(1), "{}", text(&after.stdout));
    assert!(text(&after.stdout).contains("uncertain"), "{}", text(&after.stdout));
    assert_eq!(q.sim.job_count(), 0, "not created without being asked");

    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.items[0].status, ItemStatus::Uncertain);

    // Asked to, a worker reaches the item the queue already holds as uncertain: it looks the
    // job up once more, finds none, and creates it.
    let mut args = worker_args(&q.db, &q.out, "1", "0.5", "0.02");
    args.push("--recreate-uncertain");
    let recreated = run(&q.sim, &args);
    assert_eq!(recreated.status.code(), Some(0), "{}{}", text(&recreated.stdout), text(&recreated.stderr));
    assert_eq!(q.sim.job_count(), 1);
    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.items[0].status, ItemStatus::Completed);
}

#[test]
fn three_workers_with_one_killed_every_twenty_items_complete_every_item_exactly_once() {
    const ITEMS: usize = 120;
    const KILL_EVERY: usize = 20;
    const KILLS: usize = 4;
    // Each job takes 0.6 s of real time on the simulator, polled a fifth of a second apart, so
    // a killed worker always leaves items at every step behind.
    let Some(q) = enqueued_with(ITEMS, sim_builder().job_seconds(0.6).worker_threads(12), &[]) else { return };

    // A worker killed right after committing `create_sent`, before its request left, leaves an
    // item whose job does not exist: the lookup is certain of that against the simulator, so
    // the workers may create it (a job that did exist would have been found and adopted).
    let mut args = worker_args(&q.db, &q.out, "4", "1", "0.2");
    args.push("--recreate-uncertain");
    // Each worker's standard error (not a terminal) has a line per finished item; a thread per
    // worker passes them on, so the kills follow the batch's progress, not a timer.
    let (finished_tx, finished) = mpsc::channel::<()>();
    let spawn = || -> Child {
        let mut worker = command(&q.sim, &args).spawn().expect("start a worker");
        let stderr = BufReader::new(worker.stderr.take().expect("standard error is piped"));
        let finished = finished_tx.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if line.contains(": done, ") {
                    let _ = finished.send(());
                }
            }
        });
        worker
    };
    let mut workers: Vec<Child> = (0..3).map(|_| spawn()).collect();
    let queue = Queue::connect(&q.db).unwrap();
    // One worker killed (and a new one started) after every KILL_EVERY finished items, so each
    // kill lands mid-batch whatever the machine's speed.
    let mut kills = 0;
    let mut next = 0;
    let mut done = 0;
    while kills < KILLS {
        finished.recv_timeout(Duration::from_secs(120)).expect("an item finished within 120 s");
        done += 1;
        if done % KILL_EVERY == 0 {
            workers[next].kill().expect("SIGKILL");
            workers[next].wait().unwrap();
            kills += 1;
            workers[next] = spawn();
            next = (next + 1) % 3;
        }
    }
    for worker in workers {
        let done = worker.wait_with_output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{}{}", text(&done.stdout), text(&done.stderr));
    }
    assert_eq!(queue.report().unwrap().outcome, Outcome::Finished);

    let by_item = jobs_by_item(&q.sim);
    assert_eq!(q.sim.job_count(), ITEMS, "one job per item");
    assert_eq!(by_item.len(), ITEMS);
    assert!(by_item.values().all(|jobs| jobs.len() == 1));
    let report = queue.report().unwrap();
    assert_eq!(report.items.len(), ITEMS);
    assert_eq!(
        report.count(ItemStatus::Completed),
        ITEMS,
        "{:?}",
        report.items.iter().find(|i| i.status != ItemStatus::Completed)
    );
    let outputs = final_outputs(Path::new(&q.out));
    assert_eq!(outputs.len(), ITEMS, "one output per item");
    assert!(outputs.values().all(|size| *size == OUTPUT_SIZE as u64));
    let named: HashSet<String> = outputs.keys().map(|name| name.trim_end_matches(".webm").to_owned()).collect();
    assert!(report.items.iter().all(|item| named.contains(&item.item)));
    for item in &report.items {
        assert_eq!(item.job_id.as_ref(), Some(&by_item[&item.item][0]), "the report names the one job");
    }
}

#[test]
fn the_crate_creates_and_versions_its_tables_and_refuses_a_newer_schema() {
    let Some(db) = database() else { return };
    Queue::connect(&db).unwrap();
    Queue::connect(&db).expect("connecting again finds the tables at their version");
    let mut conn = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let version: i32 = conn.query_one("SELECT version FROM removebgvideo_queue_schema", &[]).unwrap().get(0);
    assert_eq!(version, 2);
    conn.execute("UPDATE removebgvideo_queue_schema SET version = 99", &[]).unwrap();
    let err = Queue::connect(&db).unwrap_err().to_string();
    assert!(err.contains("version 99") && err.contains("newer"), "{err}");
    assert!(!err.contains("postgres://"), "the URL (and a password in it) stays out: {err}");
}

#[test]
fn a_lease_is_renewed_while_its_worker_works_so_no_other_worker_takes_the_item() {
    // One item whose job takes 30 polls a tenth of a second apart (3 s), three times the lease.
    let Some(q) = enqueued_with(1, sim_builder().polls_to_complete(30), &[]) else { return };

    // Two workers at once: one claims the item, the other keeps trying to.
    let args = worker_args(&q.db, &q.out, "1", "1", "0.1");
    let workers: Vec<Child> = (0..2).map(|_| command(&q.sim, &args).spawn().unwrap()).collect();
    for worker in workers {
        let done = worker.wait_with_output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{}{}", text(&done.stdout), text(&done.stderr));
    }
    let polls = q.sim.requests().iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/jobs/")).count();
    assert_eq!(polls, 30, "only the worker holding the lease polled the job");
    assert_eq!(q.sim.job_count(), 1);
}

#[test]
fn a_402_leaves_the_items_not_started_in_the_queue_as_with_a_journal_and_a_top_up_carries_on() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    sim.inject(FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").times(u32::MAX));

    let journaled = batch(&sim, &dir.path().join("journal")).run(url_items(3)).unwrap();
    let queue = Queue::connect(&db).unwrap();
    let out = dir.path().join("queue");
    batch(&sim, &out).enqueue(&queue, url_items(3)).unwrap();
    let queued = batch(&sim, &out).work(&queue).unwrap();
    for report in [&journaled, &queued] {
        assert_eq!(report.outcome, Outcome::StoppedForCredits);
        assert_eq!(report.count(ItemStatus::NotStarted), 3, "{report:#?}");
    }
    assert_eq!(sim.job_count(), 0);

    sim.clear_faults();
    let topped_up = batch(&sim, &out).work(&queue).unwrap();
    assert!(topped_up.all_succeeded(), "{topped_up:#?}");
    assert_eq!(sim.job_count(), 3);
}

#[test]
fn an_id_queued_with_another_input_is_refused_unless_replaced() {
    let Some(q) = enqueued(3) else { return };

    let other = q.dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        "{\"id\": \"q001\", \"input\": \"https://videos.example/another.mp4\"}\n\
         {\"id\": \"q002\", \"input\": \"https://videos.example/2.mp4\", \"model\": \"pro\"}\n\
         {\"id\": \"new\", \"input\": \"https://videos.example/new.mp4\"}\n",
    )
    .unwrap();
    let other = other.to_str().unwrap();
    let refused = run(&q.sim, &["batch", "--queue", &q.db, "--enqueue", other]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"q001\", \"q002\"") && !stderr.contains("\"new\""), "{stderr}");
    assert!(stderr.contains("--replace"), "{stderr}");
    assert_eq!(Queue::connect(&q.db).unwrap().report().unwrap().items.len(), 3, "nothing added");

    let again = run(&q.sim, &["batch", "--queue", &q.db, "--enqueue", &q.manifest]);
    assert!(text(&again.stdout).starts_with("0 of 3 items added"), "identical items stay idempotent");

    let replaced = run(&q.sim, &["batch", "--queue", &q.db, "--enqueue", other, "--replace"]);
    assert_eq!(replaced.status.code(), Some(0), "{}", text(&replaced.stderr));
    let mut conn = postgres::Client::connect(&q.db, postgres::NoTls).unwrap();
    let source: String =
        conn.query_one("SELECT source FROM removebgvideo_queue_items WHERE item = 'q001'", &[]).unwrap().get(0);
    assert_eq!(source, "https://videos.example/another.mp4");
    assert_eq!(Queue::connect(&q.db).unwrap().report().unwrap().items.len(), 4);
}

#[cfg(target_os = "linux")]
#[test]
fn a_worker_frozen_after_create_sent_never_sends_its_create_once_another_has_the_item() {
    for recreate in [false, true] {
        let Some(q) = enqueued(1) else { return };
        let mut args = worker_args(&q.db, &q.out, "1", "0.5", "0.02");
        if recreate {
            args.push("--recreate-uncertain");
        }

        // A commits `create_sent`, then its process freezes (a VM pause, a laptop lid) past
        // its lease, before the create leaves.
        let mut frozen = command(&q.sim, &args).env("REMOVEBGVIDEO_TEST_FREEZE_AT", "create_sent").spawn().unwrap();
        let _guard = watchdog(frozen.id(), Duration::from_secs(20));
        wait_until_stopped(&mut frozen);
        // B takes the item over once the lease has run out, and ends it.
        let taken = run(&q.sim, &args);
        let expected = if recreate { 0 } else { 1 };
        assert_eq!(taken.status.code(), Some(expected), "{}{}", text(&taken.stdout), text(&taken.stderr));
        // A wakes up: its lease is gone, so its create never goes.
        signal(&frozen, "-CONT");
        let woke = frozen.wait_with_output().unwrap();
        assert!(woke.status.code().is_some(), "the frozen worker ended by itself: {}", text(&woke.stderr));

        let report = Queue::connect(&q.db).unwrap().report().unwrap();
        let by_item = jobs_by_item(&q.sim);
        if recreate {
            assert_eq!(q.sim.job_count(), 1, "one job, made by the worker that took the item over");
            assert_eq!(report.items[0].status, ItemStatus::Completed);
            assert_eq!(report.items[0].job_id.as_ref(), Some(&by_item["q000"][0]), "the report names it");
        } else {
            assert_eq!(q.sim.job_count(), 0, "no job is charged while the report says none matches");
            assert_eq!(report.items[0].status, ItemStatus::Uncertain);
        }
    }
}

#[test]
fn a_create_answered_after_its_call_timeout_is_found_not_made_again() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    // A 2 s lease: each create has a second; its answer comes after 1.2 s, when the worker
    // has stopped waiting for it. The job exists all the same.
    let queue = Queue::connect(&db).unwrap().lease(Duration::from_secs(2)).unwrap();
    sim.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(1200))).method("POST").path_prefix("/v1/jobs").times(1),
    );
    let batch = batch(&sim, dir.path()).recreate_uncertain(true);
    batch.enqueue(&queue, url_items(1)).unwrap();
    let report = batch.work(&queue).unwrap();
    assert!(report.all_succeeded(), "{report:#?}");
    assert_eq!(sim.job_count(), 1, "the late job was found, not made again");
    assert_eq!(creates_sent(&sim), 1);
}

#[test]
fn a_wrong_key_stops_a_worker_without_failing_any_item() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::connect(&db).unwrap();
    batch(&sim, dir.path()).enqueue(&queue, url_items(3)).unwrap();

    let client = removebgvideo::Client::builder("rbv_wrong_key").base_url(sim.base_url()).build().unwrap();
    let stopped = removebgvideo::batch::Batch::new(client, dir.path()).concurrency(1).work(&queue).unwrap_err();
    assert!(matches!(stopped, removebgvideo::batch::BatchError::Unauthorized(_)), "{stopped}");
    let report = queue.report().unwrap();
    assert_eq!(report.count(ItemStatus::Unfinished), 3, "{report:#?}");

    let fixed = batch(&sim, dir.path()).work(&queue).unwrap();
    assert!(fixed.all_succeeded(), "{fixed:#?}");
    assert_eq!(sim.job_count(), 3);
}
