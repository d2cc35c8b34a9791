//! `JobTracker` against the simulator's time-driven jobs and signed webhooks, on a manual clock:
//!
//! 1. `BENCH_TRACKER_JOBS` jobs (default 1,000) tracked at once on one `AsyncClient`, every
//!    webhook delivered: `GET /v1/jobs/{id}` per job (target at most 1.05);
//! 2. the same with every webhook lost (no webhook URL): every job must still complete, by
//!    reconciliation polling after the quiet period;
//! 3. `BENCH_TRACKER_MANY` waits (default 10,000) pending at once on one tracker: the process's
//!    peak RSS (`VmHWM`, simulator included; target under 64 MiB).
//!
//! ```text
//! cargo bench --bench tracker
//! ```
//!
//! Nothing is asserted: a missed target is printed as FAIL.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use removebgvideo::client::JobTracker;
use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::Simulator;
use removebgvideo::webhook::Verifier;
use removebgvideo::{AsyncClient, CreateJob, WaitOptions};

const JOB_SECONDS: f64 = 10.0;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// The process's peak resident set, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn job_gets(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/jobs/")).count()
}

/// A webhook receiver on 127.0.0.1 that verifies each delivery and hands it to the tracker.
async fn receiver(verifier: Verifier, tracker: JobTracker) -> String {
    async fn receive(
        State((verifier, tracker)): State<(Verifier, JobTracker)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        match verifier.construct_event(&headers, &body) {
            Ok(event) => {
                tracker.observe(&event);
                StatusCode::OK
            }
            Err(_) => StatusCode::UNAUTHORIZED,
        }
    }
    let app = Router::new().route("/hooks", post(receive)).with_state((verifier, tracker));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Creates `count` jobs, `webhook_url` on each when given, 64 at a time.
async fn create(client: &AsyncClient, count: usize, webhook_url: Option<&str>) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(64) {
        let calls = chunk.iter().map(|n| {
            let mut request = CreateJob::new(format!("https://videos.example/{n}.mp4"));
            if let Some(url) = webhook_url {
                request = request.webhook_url(url);
            }
            let client = client.clone();
            tokio::spawn(async move { client.create_job(&request).await })
        });
        for call in calls.collect::<Vec<_>>() {
            ids.push(call.await.expect("task").expect("create").id);
        }
    }
    ids
}

/// Starts a wait per job; waits until every one is registered with the tracker.
async fn track(tracker: &JobTracker, ids: &[String]) -> Vec<tokio::task::JoinHandle<bool>> {
    let waits: Vec<_> = ids
        .iter()
        .map(|id| {
            let (tracker, id) = (tracker.clone(), id.clone());
            tokio::spawn(async move {
                tracker.wait_async(&id, WaitOptions::default()).await.is_ok_and(|job| job.is_completed())
            })
        })
        .collect();
    while tracker.len() < ids.len() {
        tokio::task::yield_now().await;
    }
    waits
}

async fn completed(waits: Vec<tokio::task::JoinHandle<bool>>) -> usize {
    let mut done = 0;
    for wait in waits {
        done += usize::from(wait.await.unwrap_or(false));
    }
    done
}

/// Moves the clock by `total` in one-second steps, letting the simulator deliver the webhooks
/// each step queued.
async fn advance(sim: &Simulator, clock: &ManualClock, total: Duration) {
    let steps = total.as_secs().max(1);
    for _ in 0..steps {
        clock.advance(Duration::from_secs(1));
        tokio::task::block_in_place(|| sim.settle());
        tokio::task::yield_now().await;
    }
}

async fn scenario(jobs: usize, webhooks: bool) -> (f64, usize, Duration) {
    let clock = ManualClock::new();
    let sim =
        Simulator::builder().clock(clock.clone()).job_seconds(JOB_SECONDS).worker_threads(8).start().expect("sim");
    let client = sim.async_client_builder().clock(clock.clone()).build().expect("client");
    let tracker = JobTracker::new_async(&client);
    let verifier = Verifier::new(sim.webhook_secret().expect("the simulator signs")).expect("verifier");
    let url = receiver(verifier, tracker.clone()).await;
    let ids = create(&client, jobs, webhooks.then_some(url.as_str())).await;
    let started = Instant::now();
    let gets_before = job_gets(&sim);
    let waits = track(&tracker, &ids).await;
    // Past the jobs' end; without webhooks, past the quiet period (30 s) too.
    let horizon = if webhooks { JOB_SECONDS + 2.0 } else { JOB_SECONDS + 32.0 };
    advance(&sim, &clock, Duration::from_secs_f64(horizon)).await;
    let done = completed(waits).await;
    let per_job = (job_gets(&sim) - gets_before) as f64 / jobs as f64;
    (per_job, done, started.elapsed())
}

async fn many(waits: usize) -> (usize, Option<u64>, Option<u64>) {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(JOB_SECONDS).start().expect("sim");
    let client = sim.async_client_builder().clock(clock.clone()).build().expect("client");
    let tracker = JobTracker::new_async(&client);
    let before = peak_rss_kib();
    // Waits on ids the tracker has not heard of: nothing is due until the clock moves, so this
    // measures what pending waits hold (each a task here, plus a map entry in the tracker).
    let ids: Vec<String> = (0..waits).map(|n| format!("job_{n:06}")).collect();
    let pending = track(&tracker, &ids).await;
    let held = tracker.len();
    let peak = peak_rss_kib();
    for wait in pending {
        wait.abort();
    }
    drop(sim);
    (held, before, peak)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let jobs = env_number("BENCH_TRACKER_JOBS", 1_000);
    let waits = env_number("BENCH_TRACKER_MANY", 10_000);
    // The memory figure comes from a process of its own, so that the first two scenarios'
    // simulators do not count in its peak.
    if std::env::var_os("BENCH_TRACKER_ONLY_MANY").is_some() {
        runtime.block_on(async {
            let (held, before, peak) = many(waits).await;
            let peak_mib = peak.map(|kib| kib as f64 / 1024.0);
            let verdict = if peak_mib.is_some_and(|mib| mib < 64.0) && held == waits { "ok" } else { "FAIL" };
            println!(
                "{waits} waits pending on one tracker: {held} tracked, peak RSS {:.1} MiB (before the waits {:.1} MiB) [{verdict}, target < 64 MiB]",
                peak_mib.unwrap_or(f64::NAN),
                before.map_or(f64::NAN, |kib| kib as f64 / 1024.0),
            );
        });
        return;
    }
    runtime.block_on(async {
        let (per_job, done, took) = scenario(jobs, true).await;
        let verdict = if per_job <= 1.05 && done == jobs { "ok" } else { "FAIL" };
        println!("{jobs} jobs, every webhook delivered: {per_job:.3} GET /v1/jobs/{{id}} per job, {done} completed ({took:.1?}) [{verdict}, target <= 1.05]");

        let (per_job, done, took) = scenario(jobs, false).await;
        let verdict = if done == jobs { "ok" } else { "FAIL" };
        println!("{jobs} jobs, every webhook lost: {done} of {jobs} completed by polling, {per_job:.3} GET per job ({took:.1?}) [{verdict}]");

    });
    let me = std::env::current_exe().expect("the bench's own path");
    match std::process::Command::new(me).env("BENCH_TRACKER_ONLY_MANY", "1").status() {
        Ok(status) if status.success() => {}
        other => println!("the memory scenario did not run: {other:?} [FAIL]"),
    }
}
