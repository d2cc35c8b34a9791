//! Operating a PostgreSQL queue: who holds which item since when and how often it lost its
//! worker (`Queue::stats`, `--report`), a batch-wide cancel, a cap on lost workers, failed
//! items put back. The database comes from `REMOVEBGVIDEO_TEST_POSTGRES_URL`, as in `queue`.

use std::path::Path;

use crate::support::batch::*;
use crate::support::command::{command, run, text};
use crate::support::queue::*;
use removebgvideo::batch::{Event, ItemStatus, Outcome, Queue, QueueStep};
use removebgvideo::models::CreateJob;

/// Makes every lease of the queue at `db` run out now, as if its workers had stalled.
fn expire_leases(db: &str) {
    let mut conn = postgres::Client::connect(db, postgres::NoTls).unwrap();
    // A create sent under a lease is fenced for a while after its lease ends (until its call
    // must have timed out); moving the send an hour back lets a takeover happen now, as it
    // would an hour after a real crash, instead of making the test wait out the fence.
    conn.execute(
        "UPDATE removebgvideo_queue_items SET lease_until = now() - interval '1 second', sent_at = sent_at - 3600",
        &[],
    )
    .unwrap();
}

/// A worker that dies (abort) right after committing `create_sent`.
fn crashing_worker(sim: &removebgvideo::simulator::Simulator, db: &str, out: &str, extra: &[&str]) {
    let mut args = worker_args(db, out, "1", "60", "0.05");
    args.extend_from_slice(extra);
    let crashed = command(sim, &args).env("REMOVEBGVIDEO_TEST_CRASH_AT", "create_sent").output().unwrap();
    assert_ne!(crashed.status.code(), Some(0), "the worker was to die: {}", text(&crashed.stderr));
}

#[test]
fn stats_show_who_holds_an_item_since_when_its_attempts_and_lost_workers() {
    let Some(q) = enqueued(2) else { return };
    crashing_worker(&q.sim, &q.db, &q.out, &[]);

    let queue = Queue::connect(&q.db).unwrap();
    let stats = queue.stats().unwrap();
    let held = &stats.items[0];
    assert_eq!((held.item.as_str(), held.step), ("q000", QueueStep::CreateSent));
    assert!(held.worker.as_deref().is_some_and(|worker| worker.contains(':')), "{held:?}");
    assert!(held.held_since.is_some());
    assert_eq!((held.attempts, held.lost_workers), (1, 0));
    assert_eq!(stats.count(QueueStep::Pending), 1);
    assert_eq!(stats.held().count(), 1);
    let shown = run(&q.sim, &["batch", "--queue", &q.db, "--report"]);
    let shown = text(&shown.stdout);
    assert!(
        shown.contains("q000 create_sent held by") && shown.contains("by step: pending 1, create_sent 1"),
        "{shown}"
    );

    // The dead worker's lease runs out; another worker takes the item over. Its create never
    // left, so no job matches: the item is uncertain, having lost its worker once.
    expire_leases(&q.db);
    run(&q.sim, &worker_args(&q.db, &q.out, "1", "60", "0.05"));
    let stats = queue.stats().unwrap();
    assert_eq!((stats.items[0].step, stats.items[0].lost_workers), (QueueStep::Uncertain, 1));
    assert_eq!(stats.items[0].worker, None, "an item at its end is held by nobody");
    assert_eq!(stats.items[1].step, QueueStep::Completed);
    let shown = run(&q.sim, &["batch", "--queue", &q.db, "--report", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["items"][0]["lost_workers"], 1);
    assert_eq!(shown["items"][0]["attempts"], 1);
    assert_eq!(shown["steps"]["uncertain"], 1);
}

#[test]
fn an_item_that_loses_its_worker_more_often_than_the_cap_is_failed_and_reported() {
    let Some(q) = enqueued_with(1, sim_builder(), &["--max-lost-workers", "1"]) else { return };
    // Dies twice at create_sent (the second worker may create again: nothing was made).
    crashing_worker(&q.sim, &q.db, &q.out, &[]);
    expire_leases(&q.db);
    crashing_worker(&q.sim, &q.db, &q.out, &["--recreate-uncertain"]);
    expire_leases(&q.db);
    let last = run(&q.sim, &worker_args(&q.db, &q.out, "1", "60", "0.05"));
    assert_eq!(last.status.code(), Some(1), "a failed item: {}", text(&last.stderr));

    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.count(ItemStatus::Failed), 1);
    let message = &report.items[0].error.as_ref().unwrap().message;
    assert!(message.contains("lost its worker 2 times, more than the batch allows (1)"), "{message}");
    assert_eq!(q.sim.job_count(), 0, "no create ever left");
}

#[test]
fn a_cancelled_batch_creates_nothing_more_and_finishes_the_jobs_already_made() {
    let Some(q) = enqueued(4) else { return };
    // q000's job exists already (a worker created it and then died).
    let job = q.sim.client().unwrap().create_job(&CreateJob::new("https://videos.example/0.mp4")).unwrap();
    let mut conn = postgres::Client::connect(&q.db, postgres::NoTls).unwrap();
    conn.execute(
        "UPDATE removebgvideo_queue_items SET stage = 'created', job_id = $1, job_ids = ARRAY[$1], attempt = 1
         WHERE item = 'q000'",
        &[&job.id],
    )
    .unwrap();

    let cancelled = run(&q.sim, &["batch", "--queue", &q.db, "--cancel"]);
    assert_eq!(cancelled.status.code(), Some(0), "{}", text(&cancelled.stderr));
    let worked = run(&q.sim, &worker_args(&q.db, &q.out, "2", "60", "0.05"));
    assert!(text(&worked.stdout).contains("cancelled"), "{}", text(&worked.stdout));
    assert_eq!(q.sim.job_count(), 1, "no new create");
    let queue = Queue::connect(&q.db).unwrap();
    let report = queue.report().unwrap();
    assert_eq!(report.outcome, Outcome::InProgress);
    assert_eq!(report.items[0].status, ItemStatus::Completed, "the job already made is downloaded");
    assert_eq!(report.count(ItemStatus::Unfinished), 3);
    assert!(queue.stats().unwrap().cancelled);

    run(&q.sim, &["batch", "--queue", &q.db, "--resume"]);
    let worked = run(&q.sim, &worker_args(&q.db, &q.out, "2", "60", "0.05"));
    assert_eq!(worked.status.code(), Some(0), "{}", text(&worked.stderr));
    assert_eq!(queue.report().unwrap().count(ItemStatus::Completed), 4);
    assert_eq!(final_outputs(Path::new(&q.out)).len(), 4);
}

#[test]
fn retry_failed_puts_the_queues_failed_items_back_and_works_them() {
    let Some(q) = enqueued(3) else { return };
    let mut conn = postgres::Client::connect(&q.db, postgres::NoTls).unwrap();
    conn.execute(
        "UPDATE removebgvideo_queue_items SET stage = 'failed', error_stage = 'job', error_message = 'it broke'
         WHERE item IN ('q000', 'q002')",
        &[],
    )
    .unwrap();
    let mut args = worker_args(&q.db, &q.out, "2", "60", "0.05");
    args.push("--retry-failed");
    let worked = run(&q.sim, &args);
    assert_eq!(worked.status.code(), Some(0), "{}", text(&worked.stderr));
    assert!(text(&worked.stdout).contains("2 failed items put back"), "{}", text(&worked.stdout));
    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.count(ItemStatus::Completed), 3);
    assert!(report.items.iter().all(|item| item.error.is_none()));
}

#[test]
fn a_budget_kept_in_the_database_stops_the_creates_that_would_pass_it() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    // Four copies of the sample video, whose duration gives each an estimate.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assets/sample.mp4");
    let mut lines = String::new();
    for i in 0..4 {
        let copy = dir.path().join(format!("v{i}.mp4"));
        std::fs::copy(&sample, &copy).unwrap();
        lines.push_str(&format!("{{\"id\": \"f{i}\", \"input\": {:?}}}\n", copy.to_str().unwrap()));
    }
    let manifest = dir.path().join("files.jsonl");
    std::fs::write(&manifest, lines).unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let enqueued =
        run(&sim, &["batch", "--queue", &db, "--enqueue", manifest.to_str().unwrap(), "--max-credits", "1000"]);
    assert_eq!(enqueued.status.code(), Some(0), "{}", text(&enqueued.stderr));
    let mut conn = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let each: f64 =
        conn.query_one("SELECT credits FROM removebgvideo_queue_items WHERE item = 'f0'", &[]).unwrap().get(0);
    assert!(each > 0.0);

    // Room for two and a half items: two are created, the third would pass the budget.
    let queue = Queue::connect(&db).unwrap();
    queue.set_max_credits(Some(each * 2.5)).unwrap();
    run(&sim, &worker_args(&db, out, "1", "60", "0.05"));
    assert_eq!(sim.job_count(), 2);
    let stats = queue.stats().unwrap();
    assert_eq!(stats.count(QueueStep::Completed), 2);
    assert!((stats.committed_credits - each * 2.0).abs() < 1e-9, "{}", stats.committed_credits);
    let shown = text(&run(&sim, &["batch", "--queue", &db, "--report"]).stdout);
    assert!(shown.contains("budget:"), "{shown}");

    queue.set_max_credits(None).unwrap();
    run(&sim, &worker_args(&db, out, "1", "60", "0.05"));
    assert_eq!(sim.job_count(), 4);
    assert_eq!(queue.report().unwrap().count(ItemStatus::Completed), 4);
}

#[test]
fn tables_made_by_0_3_are_upgraded_in_place_and_their_items_worked() {
    let Some(db) = database() else { return };
    let mut conn = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    // 0.3's tables (version 1), with one item waiting.
    conn.batch_execute(
        "CREATE TABLE removebgvideo_queue_schema (version integer NOT NULL);
         INSERT INTO removebgvideo_queue_schema VALUES (1);
         CREATE TABLE removebgvideo_queue_items (
             seq bigserial NOT NULL, item text PRIMARY KEY, source_kind text NOT NULL, source text NOT NULL,
             options text NOT NULL, stage text NOT NULL DEFAULT 'pending', video_url text,
             attempt integer NOT NULL DEFAULT 0, sent_at bigint, job_id text, job_ids text[] NOT NULL DEFAULT '{}',
             output text, output_size bigint, error_stage text, error_status integer, error_code text,
             error_message text, request_id text, lease_token bigint, lease_until timestamptz, worker text,
             updated_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO removebgvideo_queue_items (item, source_kind, source, options)
             VALUES ('old', 'url', 'https://videos.example/old.mp4', '{}');",
    )
    .unwrap();
    // A role that may not run DDL is told to upgrade first.
    let refused = Queue::builder(&db).migrate(false).connect().unwrap_err().to_string();
    assert!(refused.contains("at version 1") && refused.contains("needs version 2"), "{refused}");

    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let worked = run(&sim, &worker_args(&db, out.to_str().unwrap(), "1", "60", "0.05"));
    assert_eq!(worked.status.code(), Some(0), "{}", text(&worked.stderr));
    let version: i32 = conn.query_one("SELECT version FROM removebgvideo_queue_schema", &[]).unwrap().get(0);
    assert_eq!(version, 2);
    assert_eq!(Queue::connect(&db).unwrap().report().unwrap().count(ItemStatus::Completed), 1);
}

#[test]
fn no_debug_form_of_a_queue_or_its_settings_shows_the_password() {
    let builder = Queue::builder("postgres://batch:s3cr3t-pw@db.example/videos?sslmode=require");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("s3cr3t-pw") && shown.contains("pool_size"), "{shown}");
    let Some(db) = database() else { return };
    let queue = Queue::connect(&db.replacen("postgres://postgres@", "postgres://postgres:s3cr3t-pw@", 1)).unwrap();
    assert!(!format!("{queue:?}").contains("s3cr3t-pw"));
}

#[test]
fn an_uncertain_item_is_not_created_again_while_the_batch_is_cancelled() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::connect(&db).unwrap();
    let batch = batch(&sim, dir.path()).concurrency(2).recreate_uncertain(true);
    batch.enqueue(&queue, url_items(1)).unwrap();
    // Its create was sent long ago and no job matches: recreating it is asked for.
    let mut conn = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    conn.execute(
        "UPDATE removebgvideo_queue_items SET stage = 'uncertain', attempt = 1, sent_at = 1,
         video_url = 'https://videos.example/0.mp4' WHERE item = 'u000'",
        &[],
    )
    .unwrap();

    queue.cancel().unwrap();
    batch.work(&queue).unwrap();
    assert_eq!(sim.job_count(), 0, "a cancelled batch creates nothing, not even again");
    assert_eq!(queue.report().unwrap().items[0].status, ItemStatus::Uncertain);

    queue.resume().unwrap();
    let report = batch.work(&queue).unwrap();
    assert!(report.all_succeeded(), "{report:#?}");
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn an_item_failed_by_its_claim_is_reported_failed_and_never_started() {
    let Some(db) = database() else { return };
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::connect(&db).unwrap();
    queue.set_max_lost_workers(Some(1)).unwrap();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&events);
    let batch = batch(&sim, dir.path()).on_event(move |event| seen.lock().unwrap().push(event.clone()));
    batch.enqueue(&queue, url_items(1)).unwrap();
    // A dead worker's lease at `create_sent`, the item having lost a worker once already.
    let mut conn = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    conn.execute(
        "UPDATE removebgvideo_queue_items SET stage = 'create_sent', attempt = 1, sent_at = 1, takeovers = 1,
         video_url = 'https://videos.example/0.mp4', lease_token = 7, lease_until = now() - interval '1 second'",
        &[],
    )
    .unwrap();

    let report = batch.work(&queue).unwrap();
    assert_eq!(report.items[0].status, ItemStatus::Failed, "{report:#?}");
    let events = events.lock().unwrap();
    assert!(!events.iter().any(|event| matches!(event, Event::Started { .. })), "{events:?}");
    assert!(
        events.iter().any(|event| matches!(event, Event::Failed { item, error }
            if item == "u000" && error.message.contains("more than the batch allows"))),
        "{events:?}"
    );
    assert_eq!(sim.job_count(), 0);
}
