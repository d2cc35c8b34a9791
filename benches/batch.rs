//! The batch runner at scale: 1,000 items through the simulator with instant jobs.
//!
//! ```text
//! cargo bench --bench batch                  # 1,000 items
//! BENCH_BATCH_ITEMS=50 cargo bench --bench batch   # a quick look
//! ```
//!
//! Environment: `BENCH_BATCH_ITEMS` (default 1000), `BENCH_BATCH_CONCURRENCY` (default 8).
//!
//! Figures: items per second over the whole run (create, the vendor-paced polls, downloads);
//! peak memory of this process (`VmHWM`, which includes the simulator and its request log);
//! the most threads seen during the run; and poll requests per job, against the target of
//! fewer than one poll per job per 2 s of its processing (from its create to its end).
//! Nothing is asserted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use removebgvideo::batch::{Batch, Event, Item};
use removebgvideo::simulator::Simulator;

fn main() {
    let items = env_number("BENCH_BATCH_ITEMS", 1000);
    let concurrency = env_number("BENCH_BATCH_CONCURRENCY", 8);
    let sim = Simulator::builder()
        .polls_to_complete(0)
        .output_size(16 * 1024)
        .worker_threads(8)
        .webhook_secret(None)
        .start()
        .expect("start the simulator");
    let client = sim.client().expect("client");
    let out = tempfile::tempdir().expect("output folder");

    let max_threads = Arc::new(AtomicUsize::new(0));
    let created_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let processing: Arc<Mutex<Vec<f64>>> = Arc::default();
    let (threads, created, spans) = (Arc::clone(&max_threads), Arc::clone(&created_at), Arc::clone(&processing));
    let batch = Batch::new(client, out.path()).concurrency(concurrency).on_event(move |event| match event {
        Event::Created { item, .. } => {
            threads.fetch_max(status_number("Threads:").unwrap_or(0), Ordering::Relaxed);
            created.lock().unwrap().insert(item.clone(), Instant::now());
        }
        Event::Finished { item, .. } => {
            if let Some(start) = created.lock().unwrap().get(item) {
                spans.lock().unwrap().push(start.elapsed().as_secs_f64());
            }
        }
        _ => {}
    });

    let list: Vec<Item> =
        (0..items).map(|i| Item::url(format!("video-{i:05}"), format!("https://videos.example/{i}.mp4"))).collect();
    let started = Instant::now();
    let report = batch.run(list).expect("the batch runs");
    let elapsed = started.elapsed().as_secs_f64();

    let requests = sim.requests();
    let polls = requests.iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/jobs/")).count();
    let creates = requests.iter().filter(|r| r.method == "POST" && r.path == "/v1/jobs").count();
    let jobs = sim.job_count().max(1);
    let processing_secs: f64 = processing.lock().unwrap().iter().sum();
    let polls_per_job = polls as f64 / jobs as f64;
    // Polls per job per 2 s of processing: below 1 meets the target.
    let per_two_seconds = polls as f64 / (processing_secs / 2.0).max(f64::MIN_POSITIVE);

    println!("batch of {items} items, concurrency {concurrency}, instant jobs");
    println!(
        "  succeeded        {} of {items} ({} jobs, {creates} creates)",
        report.items.iter().filter(|i| i.output.is_some()).count(),
        sim.job_count()
    );
    println!("  wall time        {elapsed:.2} s");
    println!("  items per second {:.1}", items as f64 / elapsed);
    println!("  peak memory      {} KiB (VmHWM, simulator included)", status_number("VmHWM:").unwrap_or(0));
    println!("  threads (max)    {} (simulator's 8 included)", max_threads.load(Ordering::Relaxed));
    println!("  polls per job    {polls_per_job:.2} ({polls} polls)");
    println!(
        "  polls per job per 2 s of processing {per_two_seconds:.3} (target < 1: {})",
        if per_two_seconds < 1.0 { "met" } else { "MISSED" }
    );
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// A number from `/proc/self/status` (Linux), such as `VmHWM:` in KiB or `Threads:`.
fn status_number(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}
