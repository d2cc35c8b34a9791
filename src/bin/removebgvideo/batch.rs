//! `batch`: many videos, resumably. By default on a file journal (`<out>/journal.jsonl`); with
//! `--queue postgres://…`, one batch shared by any number of workers on any number of machines.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use removebgvideo::batch::{
    Batch, BatchError, BatchReport, ItemState, ItemStatus, Outcome, Queue, QueueStats, QueueStep, Shard,
};
use removebgvideo::Client;

use crate::connect::{connect, Connection};
use crate::estimate;
use crate::failure::{print_json, Failure};
use crate::flags::JobFlags;
use crate::manifest::{input_items, read_manifest};
use crate::progress::Progress;

/// `removebgvideo batch`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Video files, or folders searched for videos (by extension); or give --manifest, or
    /// --queue.
    #[arg(required_unless_present_any = ["manifest", "queue"])]
    inputs: Vec<PathBuf>,
    /// A JSON-lines manifest: one {"id", "input", ...job options} per line.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Where outputs, the journal and the report go.
    #[arg(long, default_value = "./removebgvideo-out")]
    out: PathBuf,
    /// The journal (default <out>/journal.jsonl).
    #[arg(long, conflicts_with = "queue")]
    journal: Option<PathBuf>,
    /// Uploads, creates, polls and downloads at once (with --queue: items worked at once).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[command(flatten)]
    job: JobFlags,
    /// List the items with their durations and estimated credits; send nothing else.
    #[arg(long)]
    dry_run: bool,
    /// Retry the items the journal records as failed (a failed job costs a new one). With
    /// --queue: put the queue's failed items back, then work (give it to one worker).
    #[arg(long)]
    retry_failed: bool,
    /// Create again the items whose create answer was lost and whose job cannot be found.
    #[arg(long)]
    recreate_uncertain: bool,
    /// Process only part I of N (counted from 1) of a stable split of the item ids, e.g. 1/4.
    #[arg(long)]
    shard: Option<Shard>,
    /// Refuse to start when the items still to create are estimated above this many credits.
    /// With --queue: the whole batch's budget, kept in the database (give it with --enqueue,
    /// which keeps each item's estimate): workers create nothing that would pass it.
    #[arg(long)]
    max_credits: Option<f64>,
    /// The first poll of a job this many seconds after its create, growing by half up to
    /// --poll-max (the API's advice: 2 and 10).
    #[arg(long, value_name = "SECONDS")]
    poll_first: Option<f64>,
    /// The longest pause between two polls of a job, in seconds.
    #[arg(long, value_name = "SECONDS")]
    poll_max: Option<f64>,
    /// Share the batch through this PostgreSQL database
    /// (postgres://user@host/db?sslmode=verify-full&sslrootcert=system): --enqueue loads items,
    /// --report shows the batch, otherwise work until it is done. Keep the password out of
    /// the command line (every user's `ps` shows it): set REMOVEBGVIDEO_QUEUE_URL instead of
    /// this flag, and PGPASSWORD or a ~/.pgpass file (mode 0600) for the password. A client
    /// certificate: sslcert=FILE&sslkey=FILE, or ~/.postgresql/postgresql.crt and .key.
    #[arg(long, env = "REMOVEBGVIDEO_QUEUE_URL", hide_env_values = true, value_name = "URL")]
    queue: Option<String>,
    /// With --queue: add this manifest's items (and the inputs') to the queue; an item already
    /// there with the same input and options is left as it is, one with others is an error.
    #[arg(long, requires = "queue", value_name = "MANIFEST")]
    enqueue: Option<PathBuf>,
    /// With --enqueue: replace the items already queued under these ids with another input or
    /// other options (they start again from nothing).
    #[arg(long, requires = "enqueue")]
    replace: bool,
    /// When another run holds the journal, wait for it to end instead of refusing.
    #[arg(long, conflicts_with = "queue")]
    wait_for_lock: bool,
    /// With --queue: show the whole batch, from any machine.
    #[arg(long, requires = "queue", conflicts_with = "enqueue")]
    report: bool,
    /// Print the outcome as JSON on standard output: the report (at the end of a run, or
    /// with --report), the estimate (with --dry-run), the count added (with --enqueue).
    #[arg(long)]
    json: bool,
    /// With --queue: how long a worker's claim on an item lasts without renewal, in seconds;
    /// a dead worker's items are taken over after this.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    lease: f64,
    /// With --queue: the most connections this process opens, shared by its worker threads.
    #[arg(long, default_value_t = removebgvideo::batch::DEFAULT_POOL_SIZE, value_name = "N")]
    pool_size: u32,
    /// With --queue: the schema of the queue's tables (one per batch on a shared database).
    #[arg(long, requires = "queue", value_name = "NAME")]
    queue_schema: Option<String>,
    /// With --queue: never create or upgrade the queue's tables (for a role without DDL rights).
    #[arg(long, requires = "queue")]
    no_migrate: bool,
    /// With --queue: cancel the batch for every worker (no new creates; jobs already made are
    /// finished and downloaded), then exit. --resume undoes it.
    #[arg(long, requires = "queue", conflicts_with_all = ["enqueue", "report", "resume"])]
    cancel: bool,
    /// With --queue: let a cancelled batch create again, then exit.
    #[arg(long, requires = "queue", conflicts_with_all = ["enqueue", "report"])]
    resume: bool,
    /// With --queue: how many times an item may lose its worker (a worker died or stalled past
    /// its lease) before it is failed and reported instead of taken over again; 0 removes the
    /// cap. Kept in the database for the whole batch.
    #[arg(long, requires = "queue", value_name = "N")]
    max_lost_workers: Option<u32>,
}

fn seconds(value: f64, what: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Failure::usage(format!("{what} must be a number of seconds, at least 0 (got {value})")))
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    crate::values::refuse_lost_alpha(args.job.bg_type.as_ref(), args.job.output_format.as_ref())?;
    let queue = match &args.queue {
        Some(url) => {
            let mut builder = Queue::builder(url).pool_size(args.pool_size).migrate(!args.no_migrate);
            if let Some(schema) = &args.queue_schema {
                builder = builder.schema(schema);
            }
            Some(builder.connect()?.lease(seconds(args.lease, "--lease")?)?)
        }
        None => None,
    };
    if let Some(queue) = &queue {
        if let Some(cap) = args.max_lost_workers {
            queue.set_max_lost_workers(Some(cap).filter(|cap| *cap > 0))?;
        }
        if args.cancel || args.resume {
            if args.cancel {
                queue.cancel()?;
                println!("cancelled: workers create nothing more, and stop once the jobs already made are downloaded");
            } else {
                queue.resume()?;
                println!("resumed: workers started now work the rest of the batch");
            }
            return Ok(0);
        }
        if args.report {
            return show_report(&queue.report()?, Some(&queue.stats()?), args.json);
        }
    }
    // Enqueuing only writes to the database: no API, and no simulator to start (with a budget,
    // the pricing is read for the estimates).
    let connection = if queue.is_some() && args.enqueue.is_some() && args.max_credits.is_none() {
        Connection { client: Client::new("unused-enqueuing-sends-no-request")?, simulator: None }
    } else {
        connect(2)?
    };
    let mut batch = Batch::new(connection.client.clone(), &args.out)
        .concurrency(args.concurrency)
        .options(args.job.options())
        .retry_failed(args.retry_failed)
        .recreate_uncertain(args.recreate_uncertain)
        .wait_for_lock(args.wait_for_lock);
    if let Some(journal) = &args.journal {
        batch = batch.journal(journal);
    }
    if let Some(shard) = args.shard {
        batch = batch.shard(shard);
    }
    if let Some(max) = args.max_credits {
        batch = batch.max_credits(max);
    }
    let (first, max) = if connection.offline() {
        // The simulator's jobs finish in a poll or two: no need to wait 2 s before the first.
        (0.25, 1.0)
    } else {
        (2.0, 10.0)
    };
    let first = seconds(args.poll_first.unwrap_or(first), "--poll-first")?;
    let max = seconds(args.poll_max.unwrap_or(max), "--poll-max")?;
    batch = batch.poll_interval(first, max.max(first));

    let mut items = input_items(&args.inputs)?;
    if let Some(manifest) = &args.manifest {
        items.extend(read_manifest(manifest)?);
    }
    if let Some(queue) = &queue {
        if let Some(manifest) = &args.enqueue {
            items.extend(read_manifest(manifest)?);
            let total = items.len();
            let added = if args.replace { batch.enqueue_replacing(queue, items) } else { batch.enqueue(queue, items) };
            let added = added.map_err(hinted)?;
            if args.json {
                print_json(&serde_json::json!({ "added": added, "total": total }))?;
            } else {
                println!("{added} of {total} items added to the queue ({} already there)", total as u64 - added);
            }
            return Ok(0);
        }
        if !items.is_empty() {
            return Err(Failure::usage("with --queue, load items with --enqueue MANIFEST; a worker takes none"));
        }
        if args.retry_failed {
            println!("{} failed items put back", queue.retry_failed()?);
        }
        return work(args, batch, queue);
    }

    if items.is_empty() {
        return Err(Failure::usage("no videos found in the inputs given"));
    }
    if args.dry_run {
        let estimate = batch.estimate(items)?;
        if args.json {
            print_json(&estimate::json(&estimate))?;
        } else {
            estimate::print(&estimate);
        }
        return Ok(0);
    }

    stop_on_ctrl_c(&batch);
    let progress = Progress::new(items.len() as u64);
    let shown = Arc::clone(&progress);
    let report = batch.on_event(move |event| shown.show(event)).run(items).map_err(hinted)?;
    progress.finish();
    finish(args, &report)
}

/// The error, with the flag that answers it where there is one.
fn hinted(error: BatchError) -> Failure {
    let hint = match &error {
        BatchError::JournalLocked { .. } => Some("--wait-for-lock waits for it"),
        BatchError::Conflict { .. } => Some("--replace replaces them"),
        _ => None,
    };
    let mut failure = Failure::from(error);
    if let Some(hint) = hint {
        failure.0 = format!("{} ({hint})", failure.0);
    }
    failure
}

/// Works the queue until the batch is done.
fn work(args: &Args, batch: Batch, queue: &Queue) -> Result<u8, Failure> {
    stop_on_ctrl_c(&batch);
    let open = queue.report()?;
    let progress = Progress::new(open.items.len() as u64);
    progress_done(&progress, &open);
    let shown = Arc::clone(&progress);
    let report = batch.on_event(move |event| shown.show(event)).work(queue)?;
    progress.finish();
    finish(args, &report)
}

/// Counts the items already at an end on the overall bar.
fn progress_done(progress: &Progress, report: &BatchReport) {
    for item in report.items.iter().filter(|item| item.status != ItemStatus::Unfinished) {
        progress.show(&removebgvideo::batch::Event::Skipped { item: item.item.clone() });
    }
}

/// Ctrl-C stops cleanly: the requests under way finish and are recorded, the report is
/// written; a second Ctrl-C quits at once (the journal or the queue is safe either way).
fn stop_on_ctrl_c(batch: &Batch) {
    let cancel = batch.cancel_handle();
    let on_interrupt = move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nstopping: the requests under way finish first (Ctrl-C again to quit at once)");
        cancel.cancel();
    };
    if let Err(error) = ctrlc::set_handler(on_interrupt) {
        eprintln!("note: Ctrl-C will stop the run abruptly ({error}); running again still carries on");
    }
}

fn finish(args: &Args, report: &BatchReport) -> Result<u8, Failure> {
    let report_path = args.out.join("report.jsonl");
    report.write_jsonl(&report_path)?;
    if args.json {
        show_report(report, None, true)?;
    } else {
        print_summary(report, &report_path);
    }
    Ok(exit_status(report))
}

/// A time as RFC 3339, for the report.
fn rfc3339(at: std::time::SystemTime) -> String {
    jiff::Timestamp::try_from(at).map(|at| at.to_string()).unwrap_or_default()
}

/// The report; with a queue's `stats`, each item's step and holder, and the batch's settings.
fn show_report(report: &BatchReport, stats: Option<&QueueStats>, json: bool) -> Result<u8, Failure> {
    let states: std::collections::HashMap<&str, &ItemState> =
        stats.iter().flat_map(|stats| &stats.items).map(|state| (state.item.as_str(), state)).collect();
    if json {
        let items: Vec<serde_json::Value> = report
            .items
            .iter()
            .map(|item| {
                let error = item.error.as_ref();
                let mut line = serde_json::json!({
                    "item": item.item,
                    "status": item.status,
                    "job_id": item.job_id,
                    "output": item.output,
                    "error_stage": error.map(|e| e.stage),
                    "error_code": error.and_then(|e| e.code.as_ref()).map(|code| code.as_str()),
                    "error_message": error.map(|e| e.message.as_str()),
                    "request_id": error.and_then(|e| e.request_id.as_deref()),
                });
                if let (Some(state), Some(line)) = (states.get(item.item.as_str()), line.as_object_mut()) {
                    line.insert("step".into(), state.step.as_str().into());
                    line.insert("worker".into(), state.worker.as_deref().into());
                    line.insert("held_since".into(), state.held_since.map(rfc3339).into());
                    line.insert("attempts".into(), state.attempts.into());
                    line.insert("lost_workers".into(), state.lost_workers.into());
                }
                line
            })
            .collect();
        let mut shown = serde_json::json!({
            "outcome": report.outcome,
            "total": report.items.len(),
            "counts": counts(report).into_iter().collect::<serde_json::Map<_, _>>(),
            "items": items,
        });
        if let (Some(stats), Some(shown)) = (stats, shown.as_object_mut()) {
            let steps: serde_json::Map<String, serde_json::Value> =
                QueueStep::ALL.iter().map(|step| (step.as_str().to_owned(), stats.count(*step).into())).collect();
            shown.insert("steps".into(), steps.into());
            shown.insert("cancelled".into(), stats.cancelled.into());
            shown.insert("max_lost_workers".into(), stats.max_lost_workers.into());
            shown.insert("max_credits".into(), stats.max_credits.into());
            shown.insert("committed_credits".into(), stats.committed_credits.into());
        }
        print_json(&shown)?;
    } else {
        println!(
            "{} items{}",
            report.items.len(),
            if report.outcome == Outcome::Finished { ", done" } else { ", in progress" }
        );
        print_counts(report);
        if let Some(stats) = stats {
            print_queue(stats);
        }
        print_problems(report);
    }
    Ok(0)
}

/// The queue's own view: items by step, who holds what since when, lost workers.
fn print_queue(stats: &QueueStats) {
    if stats.cancelled {
        println!("  cancelled: no new creates");
    }
    if let Some(max) = stats.max_credits {
        println!("  budget: {:.1} of {max} credits committed (estimates)", stats.committed_credits);
    }
    let steps: Vec<String> = QueueStep::ALL
        .iter()
        .filter(|step| stats.count(**step) > 0)
        .map(|step| format!("{} {}", step.as_str(), stats.count(*step)))
        .collect();
    println!("  by step: {}", steps.join(", "));
    for state in stats.held() {
        println!(
            "  {} {} held by {} since {} (attempts {}, lost workers {})",
            state.item,
            state.step.as_str(),
            state.worker.as_deref().unwrap_or_default(),
            state.held_since.map(rfc3339).unwrap_or_default(),
            state.attempts,
            state.lost_workers,
        );
    }
    for state in stats.items.iter().filter(|state| state.lost_workers > 0 && state.worker.is_none()) {
        println!("  {} {}: lost its worker {} times", state.item, state.step.as_str(), state.lost_workers);
    }
}

fn counts(report: &BatchReport) -> Vec<(String, serde_json::Value)> {
    labels()
        .into_iter()
        .map(|(status, _)| {
            let name =
                serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            (name, report.count(status).into())
        })
        .collect()
}

fn labels() -> [(ItemStatus, &'static str); 6] {
    [
        (ItemStatus::Completed, "completed"),
        (ItemStatus::AlreadyCompleted, "already done"),
        (ItemStatus::Failed, "failed"),
        (ItemStatus::Uncertain, "uncertain"),
        (ItemStatus::NotStarted, "not started"),
        (ItemStatus::Unfinished, "unfinished"),
    ]
}

fn print_counts(report: &BatchReport) {
    for (status, label) in labels() {
        let count = report.count(status);
        if count > 0 {
            println!("  {label:<13} {count}");
        }
    }
}

fn print_problems(report: &BatchReport) {
    for item in report.items.iter().filter(|item| matches!(item.status, ItemStatus::Failed | ItemStatus::Uncertain)) {
        let error = item.error.as_ref();
        // The API's code and request id, when it gave them: `[code, request id]`.
        let tags: Vec<String> = [
            error.and_then(|e| e.code.as_ref()).map(|code| code.as_str().to_owned()),
            error.and_then(|e| e.request_id.as_deref()).map(|id| format!("request {id}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let tags = if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join(", ")) };
        let status = labels().into_iter().find(|(status, _)| *status == item.status).map_or("", |(_, label)| label);
        println!("  {} {status}: {}{tags}", item.item, error.map_or("", |e| e.message.as_str()));
    }
}

fn print_summary(report: &BatchReport, report_path: &Path) {
    println!();
    match report.outcome {
        Outcome::StoppedForCredits => println!("stopped: the account is out of credits; top up and run again"),
        Outcome::Cancelled => println!("cancelled; run again to carry on"),
        _ => {}
    }
    print_counts(report);
    print_problems(report);
    match report.earlier_failures {
        0 => {}
        1 => println!("1 item failed in an earlier run; --retry-failed retries it"),
        n => println!("{n} items failed in an earlier run; --retry-failed retries them"),
    }
    println!("report: {}", report_path.display());
}

fn exit_status(report: &BatchReport) -> u8 {
    match report.outcome {
        Outcome::StoppedForCredits => 3,
        Outcome::Cancelled => 130,
        _ if report.all_succeeded() => 0,
        _ => 1,
    }
}
