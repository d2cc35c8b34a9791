//! The performance benchmark of the SDK against bare reqwest and curl, all against local servers
//! on 127.0.0.1 started by this benchmark, in the same run.
//!
//! ```text
//! cargo bench --bench performance
//! BENCH_UPLOAD_MIB=256 BENCH_WAIT_SECS=10 cargo bench --bench performance   # quicker
//! ```
//!
//! Environment:
//! - `BENCH_UPLOAD_MIB` (default 1024): size of the uploaded file and of the download.
//! - `BENCH_WAIT_SECS` (default 60): how long the job of the `wait_for_completion` run takes.
//! - `BENCH_CALLS` (default 5000): `get_job` calls per batch and per client.
//! - `BENCH_ROUNDS` (default 21): batch pairs of each per-call comparison; single pairs swing by a
//!   third on a shared 2-core machine, so the median needs many.
//! - `BENCH_TRANSFER_ROUNDS` (default 3): runs of each upload and download, SDK and curl.
//! - `BENCH_ONLY` (`blocking`, `async` or `calls`): only figure 1a, 1b, or 1a–1c.
//! - `BENCH_CPU` (default: the last CPU this process may use): the CPU of figures 1a and 1b.
//! - `BENCH_SIDE` (`sdk` or `bare`), for profiling the async path under `perf` or `strace`:
//!   `performance --child percall async CALLS 1 CPU` then runs only that side's calls and
//!   prints the size of each side's call future; it measures nothing.
//!
//! Figures:
//! 1. Per-call cost, as the median of the ratios of back-to-back batch pairs (alternating
//!    which goes first):
//!    a. CPU time per `get_job` of the blocking `Client` vs bare `reqwest::blocking` decoding
//!    the same JSON into the same `Job` with serde;
//!    b. the same for `AsyncClient` vs bare async reqwest (with the 30 s timeout both others
//!    have), on one tokio runtime (1 worker).
//!    Both run in a child process that measures only the clients (its CPU time, every thread,
//!    exited ones included, from `CLOCK_PROCESS_CPUTIME_ID`), with the keep-alive server in a
//!    process of its own, and both pinned to one CPU (`sched_setaffinity`): every hand-off
//!    between the caller, the client's runtime thread and the server is then a switch on one
//!    CPU, the same in every batch. (`BENCH_CPU=none` runs them unpinned, for comparison.)
//!    Why a child: the main process's CPU time also holds the thread that polls the
//!    background wait child (for the first `BENCH_WAIT_SECS` only, so some pairs and not
//!    others). Why pinned: unpinned, the threads of client and server land on one CPU or on
//!    two from run to run, and a wake-up across CPUs costs the blocking clients (two
//!    hand-offs per call) more CPU time than one on the same CPU.
//!    Both clients are built with the defaults: no in-flight cap, no attempt observer, and
//!    no back-off pending; what the SDK adds to bare reqwest on this path must cost nothing
//!    (target: at most 1.00).
//!    c. 64 calls in flight on one `AsyncClient` vs the same with bare reqwest (2 workers):
//!    throughput (calls/s) and this process's CPU time per call, each the median of pair
//!    ratios (the server is in a process of its own). On a loaded machine the CPU ratio is
//!    the steadier of the two.
//! 2. Pool sharing: connections the server accepted for calls through a client, its clone and
//!    its admin clients.
//! 3. Upload and download, blocking and async: each run is a child process (this binary
//!    re-executed, or curl) doing only that transfer (for uploads, a bare `reqwest::blocking`
//!    multipart upload too, for context); throughput is bytes over the tool's own transfer
//!    time, and peak memory is the child's `VmHWM`. The upload limit is lifted explicitly
//!    (the default 500 MiB would refuse the default 1 GiB file).
//! 4. Waiting: CPU time (all threads) of a child process around one `wait_for_completion` with
//!    the default options on a job that completes after `BENCH_WAIT_SECS`. It runs in the
//!    background while the other figures are measured; it sleeps almost all the time.
//! 5. Threads of a process that made one call, one upload and one download.
//!
//! Nothing is asserted: a missed target is printed as FAIL.

#[path = "performance/measure.rs"]
mod measure;
#[path = "performance/server.rs"]
mod server;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use measure::{best, median, result_field, run_polled};
use removebgvideo::{AsyncClient, Client, Job, WaitOptions};
use server::Server;

const API_KEY: &str = "bench-key";
const CURL: &str = "/usr/bin/curl";
const MIB: f64 = 1024.0 * 1024.0;
/// No child may run longer than this.
const CHILD_LIMIT: Duration = Duration::from_secs(600);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child") {
        child(&args[at + 1..]);
        return;
    }
    // Only 127.0.0.1 is ever contacted: no proxy may get in the way (children inherit this).
    // SAFETY: nothing else runs yet: no thread has been started that could read the environment.
    unsafe {
        for name in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            std::env::remove_var(name);
        }
        std::env::set_var("NO_PROXY", "*");
    }

    let upload_mib = env_number("BENCH_UPLOAD_MIB", 1024);
    let wait_secs = env_number("BENCH_WAIT_SECS", 60);
    let calls = env_number("BENCH_CALLS", 5000);
    let rounds = env_number("BENCH_ROUNDS", 21).max(1);
    let transfer_rounds = env_number("BENCH_TRANSFER_ROUNDS", 3).max(1);
    let have_curl = Path::new(CURL).exists();
    println!("removebgvideo performance benchmark");
    println!(
        "  upload/download {upload_mib} MiB x {transfer_rounds} runs, {rounds} rounds x {calls} get_job calls, \
         a {wait_secs} s wait; curl: {}; {} CPUs",
        if have_curl { CURL } else { "not found" },
        thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );

    let mut table = Vec::new();
    let only = std::env::var("BENCH_ONLY").ok().filter(|only| !only.trim().is_empty());
    if let Some(only) = only.as_deref() {
        assert!(matches!(only, "blocking" | "async" | "calls"), "BENCH_ONLY={only:?}: use blocking, async or calls");
        println!("  only the per-call figures ({only}); load average: {}", load_average());
        table.extend(call_cost(calls, rounds, Some(only)));
        print_table(&table);
        return;
    }

    // 4. Started first, in the background: it mostly sleeps.
    let wait_server = Server::start();
    let wait_run = start_wait_child(&wait_server, wait_secs);

    // 1. CPU time per call, and calls in flight.
    table.extend(call_cost(calls, rounds, None));

    // 2. Pool sharing.
    table.extend(pool_sharing());

    // 3. Transfers.
    let dir = tempfile::Builder::new().prefix("removebgvideo-bench").tempdir().expect("temp dir");
    let input = dir.path().join("input.mp4");
    let bytes = upload_mib * 1024 * 1024;
    let created = Instant::now();
    write_input(&input, bytes);
    println!("\nwrote the {upload_mib} MiB input file in {:.2} s", created.elapsed().as_secs_f64());
    let transfers = Server::start();
    table.extend(uploads(&transfers, &input, bytes, transfer_rounds, have_curl));
    let _ = fs::remove_file(&input);
    table.extend(downloads(&transfers, dir.path(), bytes, transfer_rounds, have_curl));
    table.push(thread_count(&transfers, dir.path()));

    // 4. Collect the wait.
    table.push(finish_wait(wait_run, &wait_server, wait_secs));

    print_table(&table);
    drop(dir);
}

/// `/proc/loadavg`'s first three fields, to say how busy the machine was.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}

/// One line of the final table.
struct Row {
    figure: String,
    sdk: String,
    baseline: String,
    ratio: String,
    target: String,
    pass: Option<bool>,
}

fn row(figure: &str, sdk: String, baseline: String, ratio: String, target: &str, pass: Option<bool>) -> Row {
    Row { figure: figure.to_owned(), sdk, baseline, ratio, target: target.to_owned(), pass }
}

fn print_table(table: &[Row]) {
    let headers = ["figure", "SDK", "baseline", "ratio", "target", "result"];
    let cells: Vec<[String; 6]> = table
        .iter()
        .map(|row| {
            let result = match row.pass {
                Some(true) => "PASS",
                Some(false) => "FAIL  <<<<<",
                None => "n/a",
            };
            [
                row.figure.clone(),
                row.sdk.clone(),
                row.baseline.clone(),
                row.ratio.clone(),
                row.target.clone(),
                result.to_owned(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.len());
        }
    }
    let print_line = |line: &[String]| {
        let text: Vec<String> = line.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("| {} |", text.join(" | "));
    };
    println!("\n=== results ===");
    print_line(&headers.map(str::to_owned));
    println!("|{}|", widths.map(|width| "-".repeat(width + 2)).join("|"));
    for line in &cells {
        print_line(line);
    }
    let failed = table.iter().filter(|row| row.pass == Some(false)).count();
    if failed == 0 {
        println!("\nall targets met");
    } else {
        println!("\n{failed} target(s) MISSED (marked FAIL)");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Per-call cost and calls in flight

fn sdk_client(base_url: &str) -> Client {
    // The benchmark uploads more than the API's 500 MiB: the limit is lifted explicitly.
    Client::builder(API_KEY).base_url(base_url).max_upload_size(None).build().expect("build the SDK client")
}

fn sdk_async_client(base_url: &str) -> AsyncClient {
    AsyncClient::builder(API_KEY).base_url(base_url).max_upload_size(None).build().expect("build the async client")
}

fn user_agent() -> String {
    format!("removebgvideo-rust/{}", env!("CARGO_PKG_VERSION"))
}

/// The server of the per-call figures, in a child process of its own, so that the CPU time
/// this process spends is the client's alone. Stopped when dropped (its stdin closes).
struct ServerProcess {
    child: std::process::Child,
    base_url: String,
}

impl ServerProcess {
    fn start() -> Self {
        let mut child = Command::new(self_exe())
            .args(["--child", "serve"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line)
            .expect("read the server's address");
        let base_url = line.trim().strip_prefix("SERVING ").expect("SERVING <url>").to_owned();
        Self { child, base_url }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of this process (every thread) per call of `batch`, in microseconds.
fn cpu_per_call(calls: u64, batch: &mut dyn FnMut(u64)) -> f64 {
    let before = measure::process_cpu_ns();
    batch(calls);
    (measure::process_cpu_ns() - before) as f64 / calls as f64 / 1e3
}

/// Back-to-back batch pairs, alternating which goes first; the median of the pairs' ratios.
fn paired(
    rounds: u64,
    calls: u64,
    sdk: &mut dyn FnMut(u64),
    bare: &mut dyn FnMut(u64),
    label: &str,
) -> (f64, f64, f64) {
    let (mut sdk_costs, mut bare_costs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (s, b) = if round % 2 == 0 {
            let s = cpu_per_call(calls, sdk);
            (s, cpu_per_call(calls, bare))
        } else {
            let b = cpu_per_call(calls, bare);
            (cpu_per_call(calls, sdk), b)
        };
        println!("  pair {}: {label} {s:>7.1} µs CPU/call   bare {b:>7.1} µs CPU/call   ratio {:.3}", round + 1, s / b);
        sdk_costs.push(s);
        bare_costs.push(b);
        ratios.push(s / b);
    }
    (median(&sdk_costs), median(&bare_costs), median(&ratios))
}

fn bare_headers(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.header(reqwest::header::USER_AGENT, user_agent()).header("X-Api-Key", API_KEY)
}

/// What a careful user would write: the default client with the 30 s total timeout that
/// `reqwest::blocking` has by default and the SDK's calls have, so both sides bound the call.
fn bare_async_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("build async reqwest")
}

async fn bare_get_job(bare: &reqwest::Client, base: &str) -> Job {
    bare_headers(bare.get(format!("{base}/v1/jobs/job_1")))
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .expect("bare async get_job")
        .json::<Job>()
        .await
        .expect("bare async decode")
}

/// The CPU of the per-call figures: `BENCH_CPU` (`none`: not pinned), else the last CPU this
/// process may use.
fn bench_cpu() -> Option<usize> {
    match std::env::var("BENCH_CPU") {
        Ok(text) if text.trim() == "none" => None,
        Ok(text) => Some(text.trim().parse().unwrap_or_else(|_| panic!("BENCH_CPU={text:?} is not a CPU number"))),
        Err(_) => Some(measure::allowed_cpus().last().copied().unwrap_or(0)),
    }
}

/// How the per-call figures are placed, for their headings.
fn placement(cpu: Option<usize>) -> String {
    match cpu {
        Some(cpu) => format!("pinned with the server to CPU {cpu}"),
        None => "not pinned (BENCH_CPU=none)".to_owned(),
    }
}

/// One per-call comparison (`blocking` or `async`), run in a child process pinned to `cpu`
/// with its server (a process of its own, pinned to the same CPU): the child's CPU time is
/// the clients' alone, and every hand-off between threads and processes happens on one CPU,
/// as it does in every pair. Returns the medians (SDK µs, bare µs, ratio).
fn pinned_comparison(kind: &str, calls: u64, rounds: u64, cpu: Option<usize>) -> (f64, f64, f64) {
    let cpu = cpu.map_or_else(|| "none".to_owned(), |cpu| cpu.to_string());
    let run = run_polled(
        Command::new(self_exe()).args(["--child", "percall", kind, &calls.to_string(), &rounds.to_string(), &cpu]),
        CHILD_LIMIT,
    );
    assert!(run.status.success(), "per-call child {kind} failed: {}\n{}", run.stdout, run.stderr);
    for line in run.stdout.lines().filter(|line| !line.starts_with("RESULT ")) {
        println!("{line}");
    }
    let field = |name: &str| result_field(&run.stdout, name).unwrap_or_else(|| panic!("child reports {name}"));
    (field("sdk_us"), field("bare_us"), field("ratio"))
}

/// In the pinned child: the blocking pairs against the server at `base`.
fn blocking_pairs(base: &str, calls: u64, rounds: u64) -> (f64, f64, f64) {
    let sdk = sdk_client(base);
    // What a user would write: the default client (which, like the SDK's, reads proxy variables).
    let bare = reqwest::blocking::Client::new();
    let bare_call = |id: &str| -> Job {
        bare.get(format!("{base}/v1/jobs/{id}"))
            .header(reqwest::header::USER_AGENT, user_agent())
            .header("X-Api-Key", API_KEY)
            .send()
            .and_then(|response| response.error_for_status())
            .and_then(|response| response.json())
            .expect("bare reqwest get_job")
    };
    let mut sdk_batch = |n: u64| {
        for _ in 0..n {
            assert_eq!(sdk.get_job("job_1").expect("SDK get_job").id, "job_1");
        }
    };
    let mut bare_batch = |n: u64| {
        for _ in 0..n {
            assert_eq!(bare_call("job_1").id, "job_1");
        }
    };
    sdk_batch(calls.min(500));
    bare_batch(calls.min(500));
    paired(rounds, calls, &mut sdk_batch, &mut bare_batch, "Client")
}

/// In the pinned child: the async pairs against the server at `base`, one runtime (1 worker).
fn async_pairs(base: &str, calls: u64, rounds: u64) -> (f64, f64, f64) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("tokio runtime");
    let sdk = AsyncClient::builder(API_KEY).base_url(base).build().expect("async client");
    let bare = bare_async_client();
    let mut sdk_batch = |n: u64| {
        runtime.block_on(async {
            for _ in 0..n {
                assert_eq!(sdk.get_job("job_1").await.expect("SDK get_job").id, "job_1");
            }
        })
    };
    let mut bare_batch = |n: u64| {
        runtime.block_on(async {
            for _ in 0..n {
                assert_eq!(bare_get_job(&bare, base).await.id, "job_1");
            }
        })
    };
    if let Ok(side) = std::env::var("BENCH_SIDE") {
        let (sdk_size, bare_size) =
            (std::mem::size_of_val(&sdk.get_job("job_1")), std::mem::size_of_val(&bare_get_job(&bare, base)));
        eprintln!("call future: SDK {sdk_size} bytes, bare {bare_size} bytes");
        match side.as_str() {
            "sdk" => sdk_batch(calls),
            "bare" => bare_batch(calls),
            _ => panic!("BENCH_SIDE={side:?}: use sdk or bare"),
        }
        return (0.0, 0.0, 0.0);
    }
    sdk_batch(calls.min(500));
    bare_batch(calls.min(500));
    paired(rounds, calls, &mut sdk_batch, &mut bare_batch, "AsyncClient")
}

fn call_cost(calls: u64, rounds: u64, only: Option<&str>) -> Vec<Row> {
    let mut rows = Vec::new();
    let cpu = bench_cpu();

    if only.is_none_or(|only| only == "blocking" || only == "calls") {
        println!(
            "\n[1a] get_job CPU time per call: blocking client vs bare reqwest::blocking \
             (client and server each in a process of its own, {})",
            placement(cpu)
        );
        let (s, b, ratio) = pinned_comparison("blocking", calls, rounds, cpu);
        rows.push(row(
            "blocking get_job CPU/call (median of pair ratios)",
            format!("{s:.1} µs"),
            format!("{b:.1} µs reqwest::blocking"),
            format!("{ratio:.3}"),
            "<= 1.00",
            Some(ratio <= 1.00),
        ));
    }

    if only.is_none_or(|only| only == "async" || only == "calls") {
        println!(
            "\n[1b] get_job CPU time per call: AsyncClient vs bare async reqwest, one runtime (1 worker), {}",
            placement(cpu)
        );
        let (s, b, ratio) = pinned_comparison("async", calls, rounds, cpu);
        rows.push(row(
            "async get_job CPU/call (median of pair ratios)",
            format!("{s:.1} µs"),
            format!("{b:.1} µs async reqwest"),
            format!("{ratio:.3}"),
            "<= 1.00",
            Some(ratio <= 1.00),
        ));
    }

    if only.is_some_and(|only| only != "calls") {
        return rows;
    }
    let server = ServerProcess::start();
    let base = server.base_url.clone();
    let sdk = AsyncClient::builder(API_KEY).base_url(&base).build().expect("async client");
    let bare = bare_async_client();
    let bare_get = |bare: reqwest::Client, base: String| async move { bare_get_job(&bare, &base).await };
    println!("\n[1c] 64 get_job calls in flight on one AsyncClient vs bare async reqwest (2 workers)");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let per_task = (calls / 64).max(10);
    let total = per_task * 64;
    // (calls per second, µs of this process's CPU time per call)
    let throughput = |sdk_side: bool| -> (f64, f64) {
        let started = Instant::now();
        let cpu_before = measure::process_cpu_ns();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let (sdk, bare, base) = (sdk.clone(), bare.clone(), base.clone());
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            if sdk_side {
                                assert_eq!(sdk.get_job("job_1").await.expect("SDK get_job").id, "job_1");
                            } else {
                                assert_eq!(bare_get(bare.clone(), base.clone()).await.id, "job_1");
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
        });
        let cpu_us = (measure::process_cpu_ns() - cpu_before) as f64 / total as f64 / 1e3;
        (total as f64 / started.elapsed().as_secs_f64(), cpu_us)
    };
    throughput(true);
    throughput(false);
    let (mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
    let (mut sdk_rates, mut bare_rates, mut sdk_cpus, mut bare_cpus) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let ((s, s_cpu), (b, b_cpu)) = if round % 2 == 0 {
            let s = throughput(true);
            (s, throughput(false))
        } else {
            let b = throughput(false);
            (throughput(true), b)
        };
        println!(
            "  pair {}: AsyncClient {s:>8.0} calls/s {s_cpu:>6.1} µs CPU/call   bare {b:>8.0} calls/s {b_cpu:>6.1} µs \
             CPU/call   ratios {:.3} / {:.3}",
            round + 1,
            s / b,
            s_cpu / b_cpu
        );
        sdk_rates.push(s);
        bare_rates.push(b);
        ratios.push(s / b);
        sdk_cpus.push(s_cpu);
        bare_cpus.push(b_cpu);
        cpu_ratios.push(s_cpu / b_cpu);
    }
    let ratio = median(&ratios);
    rows.push(row(
        "64 in flight, calls/s (median of pair ratios)",
        format!("{:.0}/s", median(&sdk_rates)),
        format!("{:.0}/s async reqwest", median(&bare_rates)),
        format!("{ratio:.3}"),
        ">= 1.00",
        Some(ratio >= 1.00),
    ));
    let cpu_ratio = median(&cpu_ratios);
    rows.push(row(
        "64 in flight, CPU/call (median of pair ratios)",
        format!("{:.1} µs", median(&sdk_cpus)),
        format!("{:.1} µs async reqwest", median(&bare_cpus)),
        format!("{cpu_ratio:.3}"),
        "<= 1.00",
        Some(cpu_ratio <= 1.00),
    ));
    rows
}

// ---------------------------------------------------------------------------------------------
// 2. Pool sharing

fn pool_sharing() -> Vec<Row> {
    println!("\n[2] connection pool shared by a client, its clones and its admin clients");
    let server = Server::start();
    let client = sdk_client(&server.base_url);
    let clone = client.clone();
    let admin = client.admin("bench-admin-token").expect("admin client");
    let admin_from = client.clone().admin("bench-admin-token").expect("admin client");
    let per_client = 300;
    for index in 0..per_client {
        client.get_job(&format!("job_{index}")).expect("client get_job");
        clone.get_job(&format!("job_{index}")).expect("clone get_job");
        admin.list_keys().expect("admin list_keys");
        admin_from.list_keys().expect("admin list_keys");
    }
    let sequential = server.stats.connections.load(Ordering::Relaxed);
    let sequential_requests = server.stats.requests.load(Ordering::Relaxed);
    println!(
        "  sequential: {sequential_requests} calls through client, clone and two client.admin() \
         handles -> {sequential} connection(s)"
    );

    // Two threads at once: at most two connections, reused by everyone afterwards.
    let threads: Vec<_> = [client.clone(), clone.clone()]
        .into_iter()
        .map(|client| {
            thread::spawn(move || {
                let admin = client.admin("bench-admin-token").expect("admin client");
                for index in 0..per_client {
                    client.get_job(&format!("job_{index}")).expect("threaded get_job");
                    admin.list_keys().expect("threaded list_keys");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("pool thread");
    }
    let total = server.stats.connections.load(Ordering::Relaxed);
    let total_requests = server.stats.requests.load(Ordering::Relaxed);
    println!(
        "  then 2 threads x {} calls (each a clone plus its admin client) -> {} connection(s) in all, {} calls",
        per_client * 2,
        total,
        total_requests
    );
    vec![
        row(
            "connections, 1 thread, 4 handles",
            format!("{sequential} for {sequential_requests} calls"),
            "-".into(),
            "-".into(),
            "1",
            Some(sequential == 1),
        ),
        row(
            "connections, + 2 threads",
            format!("{total} for {total_requests} calls"),
            "-".into(),
            "-".into(),
            "<= 2",
            Some(total <= 2),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// 3. Uploads and downloads

fn write_input(path: &Path, bytes: u64) {
    let mut file = BufWriter::with_capacity(4 << 20, File::create(path).expect("create the input file"));
    let block: Vec<u8> = (0..1 << 20).map(|index: u32| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut left = bytes;
    while left > 0 {
        let now = block.len().min(left as usize);
        file.write_all(&block[..now]).expect("write the input file");
        left -= now as u64;
    }
    file.flush().expect("flush the input file");
}

/// One transfer's measurements.
struct Transfer {
    mib_per_s: f64,
    peak_mib: f64,
    /// From spawn to exit, as the parent saw it.
    process_secs: f64,
}

impl Transfer {
    /// One line for run `round` (counted from 0) of the tool `label`.
    fn print(&self, round: u64, label: &str) {
        println!(
            "  run {}: {label:<4} {:>6.0} MiB/s, peak RSS {:>6.1} MiB, process {:.2} s",
            round + 1,
            self.mib_per_s,
            self.peak_mib,
            self.process_secs
        );
    }
}

fn summarize(name: &str, runs: &[Transfer]) -> (f64, f64) {
    let speeds: Vec<f64> = runs.iter().map(|run| run.mib_per_s).collect();
    let peak = runs.iter().map(|run| run.peak_mib).fold(0.0, f64::max);
    println!(
        "  {name}: best {:.0} MiB/s, median {:.0} MiB/s, peak RSS {:.1} MiB (highest of the runs)",
        best(&speeds),
        median(&speeds),
        peak
    );
    (best(&speeds), peak)
}

fn self_exe() -> PathBuf {
    std::env::current_exe().expect("path of the benchmark binary")
}

fn sdk_transfer(args: &[&str], expected: u64) -> Transfer {
    let run = run_polled(Command::new(self_exe()).arg("--child").args(args), CHILD_LIMIT);
    assert!(run.status.success(), "SDK child {args:?} failed: {}\n{}", run.stdout, run.stderr);
    let seconds = result_field(&run.stdout, "secs").expect("child reports secs");
    let moved = result_field(&run.stdout, "bytes").expect("child reports bytes") as u64;
    assert_eq!(moved, expected, "SDK child {args:?} moved the wrong number of bytes");
    let own_peak = result_field(&run.stdout, "hwm_kib").unwrap_or(0.0) as u64;
    let peak_kib = run.peak_kib.max(own_peak);
    Transfer {
        mib_per_s: expected as f64 / MIB / seconds,
        peak_mib: peak_kib as f64 / 1024.0,
        process_secs: run.wall.as_secs_f64(),
    }
}

fn curl_transfer(args: &[&str], expected_min: u64) -> Transfer {
    let run = run_polled(
        Command::new(CURL)
            .args(["--silent", "--show-error", "--noproxy", "*", "--max-time", "600"])
            .args([
                "--write-out",
                "RESULT code=%{http_code} secs=%{time_total} up=%{size_upload} down=%{size_download}\n",
            ])
            .args(args),
        CHILD_LIMIT,
    );
    assert!(run.status.success(), "curl {args:?} failed: {}\n{}", run.stdout, run.stderr);
    assert_eq!(result_field(&run.stdout, "code"), Some(200.0), "curl {args:?}: {}", run.stdout);
    let seconds = result_field(&run.stdout, "secs").expect("curl reports time_total");
    let moved = result_field(&run.stdout, "up").unwrap_or(0.0).max(result_field(&run.stdout, "down").unwrap_or(0.0));
    assert!(moved as u64 >= expected_min, "curl {args:?} moved {moved} bytes, expected {expected_min}");
    Transfer {
        mib_per_s: expected_min as f64 / MIB / seconds,
        peak_mib: run.peak_kib as f64 / 1024.0,
        process_secs: run.wall.as_secs_f64(),
    }
}

fn uploads(server: &Server, input: &Path, bytes: u64, rounds: u64, have_curl: bool) -> Vec<Row> {
    println!("\n[3a] upload of the {} MiB file, each run in its own process", bytes >> 20);
    let input_text = input.to_str().expect("UTF-8 temp path");
    let url = format!("{}/v1/uploads", server.base_url);
    let (mut sdk_runs, mut curl_runs, mut bare_runs, mut async_runs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let async_run = sdk_transfer(&["upload-async", &server.base_url, input_text], bytes);
        async_run.print(round, "AsyncClient");
        async_runs.push(async_run);
        let before = server.stats.upload_bytes.load(Ordering::Relaxed);
        let sdk = sdk_transfer(&["upload", &server.base_url, input_text], bytes);
        let received = server.stats.upload_bytes.load(Ordering::Relaxed) - before;
        assert!(received > bytes, "the server got {received} bytes of a {bytes}-byte file");
        sdk.print(round, "SDK");
        sdk_runs.push(sdk);
        let bare = sdk_transfer(&["upload-reqwest", &server.base_url, input_text], bytes);
        bare.print(round, "bare reqwest blocking");
        bare_runs.push(bare);
        if have_curl {
            let form = format!("file=@{input_text};type=video/mp4");
            let curl = curl_transfer(
                &["--header", &format!("X-Api-Key: {API_KEY}"), "--form", &form, "--output", "/dev/null", &url],
                bytes,
            );
            curl.print(round, "curl");
            curl_runs.push(curl);
        }
    }
    let mut rows = transfer_rows("upload", "curl -F", &sdk_runs, &curl_runs);
    rows.extend(transfer_rows("async upload", "curl -F", &async_runs, &curl_runs));
    // For context: what reqwest's blocking multipart upload (the SDK's path before its own
    // transfer path) does on the same file.
    let (bare_speed, bare_peak) = summarize("bare reqwest blocking upload", &bare_runs);
    let sdk_speed = best(&sdk_runs.iter().map(|run| run.mib_per_s).collect::<Vec<_>>());
    rows.push(row(
        "upload throughput vs reqwest blocking",
        format!("{sdk_speed:.0} MiB/s"),
        format!("{bare_speed:.0} MiB/s reqwest blocking, {bare_peak:.1} MiB RSS"),
        format!("{:.3}", sdk_speed / bare_speed),
        "(info)",
        None,
    ));
    rows
}

fn downloads(server: &Server, dir: &Path, bytes: u64, rounds: u64, have_curl: bool) -> Vec<Row> {
    println!("\n[3b] download of a {} MiB output to disk, each run in its own process", bytes >> 20);
    let url = format!("{}/download/{bytes}", server.base_url);
    let output = dir.join("output.webm");
    let output_text = output.to_str().expect("UTF-8 temp path");
    let (mut sdk_runs, mut curl_runs, mut async_runs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let async_run = sdk_transfer(&["download-async", &server.base_url, &url, output_text], bytes);
        assert_eq!(fs::metadata(&output).map(|meta| meta.len()).ok(), Some(bytes), "async output file size");
        let _ = fs::remove_file(&output);
        async_run.print(round, "AsyncClient");
        async_runs.push(async_run);
        let sdk = sdk_transfer(&["download", &server.base_url, &url, output_text], bytes);
        assert_eq!(fs::metadata(&output).map(|meta| meta.len()).ok(), Some(bytes), "SDK output file size");
        let _ = fs::remove_file(&output);
        sdk.print(round, "SDK");
        sdk_runs.push(sdk);
        if have_curl {
            let curl = curl_transfer(&["--output", output_text, &url], bytes);
            assert_eq!(fs::metadata(&output).map(|meta| meta.len()).ok(), Some(bytes), "curl output file size");
            let _ = fs::remove_file(&output);
            curl.print(round, "curl");
            curl_runs.push(curl);
        }
    }
    let mut rows = transfer_rows("download", "curl -o", &sdk_runs, &curl_runs);
    rows.extend(transfer_rows("async download", "curl -o", &async_runs, &curl_runs));
    rows
}

/// The threads of a process that made one call, one upload and one download with a blocking client.
fn thread_count(server: &Server, dir: &Path) -> Row {
    println!("\n[5] threads of a process after one call, one upload and one download (blocking Client)");
    let input = dir.join("small.mp4");
    fs::write(&input, vec![7u8; 1 << 20]).expect("small input");
    let run = run_polled(
        Command::new(self_exe()).args(["--child", "threads", &server.base_url, input.to_str().expect("UTF-8")]),
        CHILD_LIMIT,
    );
    assert!(run.status.success(), "threads child failed: {}\n{}", run.stdout, run.stderr);
    let names = run.stdout.lines().find_map(|line| line.strip_prefix("THREADS ")).unwrap_or_default().to_owned();
    let count = result_field(&run.stdout, "threads").unwrap_or(0.0) as u64;
    println!("  {count} threads: {names}");
    row("threads after a call and two transfers", format!("{count}: {names}"), "-".into(), "-".into(), "(info)", None)
}

fn transfer_rows(what: &str, curl_name: &str, sdk_runs: &[Transfer], curl_runs: &[Transfer]) -> Vec<Row> {
    let (sdk_speed, sdk_peak) = summarize(&format!("SDK {what}"), sdk_runs);
    let mut rows = Vec::new();
    if curl_runs.is_empty() {
        rows.push(row(
            &format!("{what} throughput"),
            format!("{sdk_speed:.0} MiB/s"),
            "curl not found".into(),
            "-".into(),
            ">= 0.8 x curl",
            None,
        ));
        rows.push(row(
            &format!("{what} peak RSS"),
            format!("{sdk_peak:.1} MiB"),
            "-".into(),
            "-".into(),
            "< 32 MiB",
            Some(sdk_peak < 32.0),
        ));
        return rows;
    }
    let (curl_speed, curl_peak) = summarize(curl_name, curl_runs);
    let ratio = sdk_speed / curl_speed;
    rows.push(row(
        &format!("{what} throughput (best run)"),
        format!("{sdk_speed:.0} MiB/s"),
        format!("{curl_speed:.0} MiB/s {curl_name}"),
        format!("{ratio:.3}"),
        ">= 0.8",
        Some(ratio >= 0.8),
    ));
    rows.push(row(
        &format!("{what} peak RSS"),
        format!("{sdk_peak:.1} MiB"),
        format!("{curl_peak:.1} MiB {curl_name}"),
        format!("{:.2}", sdk_peak / curl_peak),
        "< 32 MiB",
        Some(sdk_peak < 32.0),
    ));
    rows
}

// ---------------------------------------------------------------------------------------------
// 4. Waiting

fn start_wait_child(server: &Server, wait_secs: u64) -> thread::JoinHandle<measure::Polled> {
    // The job completes `wait_secs` after now, by the server's clock.
    let job_id = format!("wait-{}", server.elapsed_ms() + wait_secs * 1000);
    let base_url = server.base_url.clone();
    thread::spawn(move || {
        run_polled(Command::new(self_exe()).args(["--child", "wait", &base_url, &job_id]), CHILD_LIMIT)
    })
}

fn finish_wait(handle: thread::JoinHandle<measure::Polled>, server: &Server, wait_secs: u64) -> Row {
    println!("\n[4] wait_for_completion (default options: 2 s interval) on a job done after {wait_secs} s");
    let run = handle.join().expect("wait thread");
    assert!(run.status.success(), "wait child failed: {}\n{}", run.stdout, run.stderr);
    let seconds = result_field(&run.stdout, "secs").expect("child reports secs");
    let cpu = result_field(&run.stdout, "cpu_ns").expect("child reports cpu_ns") / 1e9;
    let polls = server.stats.job_polls.load(Ordering::Relaxed);
    println!(
        "  waited {seconds:.1} s, {polls} polls over {} connection(s), CPU {:.2} ms (all threads of the process), \
         peak RSS {:.1} MiB",
        server.stats.connections.load(Ordering::Relaxed),
        cpu * 1e3,
        run.peak_kib as f64 / 1024.0
    );
    row(
        &format!("wait_for_completion CPU, {seconds:.0} s wait"),
        format!("{:.2} ms CPU, {polls} polls", cpu * 1e3),
        "-".into(),
        format!("{:.4}% of wall", cpu / seconds * 100.0),
        "< 100 ms",
        Some(cpu < 0.1),
    )
}

// ---------------------------------------------------------------------------------------------
// Child processes: each does one thing and prints `RESULT key=value ...`.

fn child(args: &[String]) {
    let arg = |index: usize| args.get(index).map(String::as_str).expect("child argument");
    match arg(0) {
        "upload" => {
            let client = sdk_client(arg(1));
            let bytes = fs::metadata(arg(2)).expect("input file").len();
            let started = Instant::now();
            let upload = client.upload(arg(2)).send().expect("SDK upload");
            let seconds = started.elapsed().as_secs_f64();
            assert!(upload.video_url.starts_with("https://cdn.invalid/uploads/"), "{upload:?}");
            println!("RESULT bytes={bytes} secs={seconds} hwm_kib={}", own_hwm());
        }
        "upload-reqwest" => {
            let http = reqwest::blocking::Client::builder().timeout(None).build().expect("build reqwest");
            let bytes = fs::metadata(arg(2)).expect("input file").len();
            let started = Instant::now();
            let file = File::open(arg(2)).expect("open the input file");
            let part = reqwest::blocking::multipart::Part::reader_with_length(file, bytes)
                .file_name("input.mp4")
                .mime_str("video/mp4")
                .expect("mime");
            let response = http
                .post(format!("{}/v1/uploads", arg(1)))
                .header(reqwest::header::USER_AGENT, user_agent())
                .header("X-Api-Key", API_KEY)
                .multipart(reqwest::blocking::multipart::Form::new().part("file", part))
                .send()
                .and_then(|response| response.error_for_status())
                .and_then(|response| response.json::<serde_json::Value>())
                .expect("bare reqwest upload");
            let seconds = started.elapsed().as_secs_f64();
            assert!(response["video_url"].as_str().is_some(), "{response}");
            println!("RESULT bytes={bytes} secs={seconds} hwm_kib={}", own_hwm());
        }
        "download" => {
            let client = sdk_client(arg(1));
            let started = Instant::now();
            let bytes = client.download(arg(2)).to_path(arg(3)).expect("SDK download");
            let seconds = started.elapsed().as_secs_f64();
            println!("RESULT bytes={bytes} secs={seconds} hwm_kib={}", own_hwm());
        }
        "wait" => {
            let client = sdk_client(arg(1));
            let cpu_before = measure::process_cpu_ns();
            let started = Instant::now();
            let job = client.wait_for_completion(arg(2), WaitOptions::default()).expect("SDK wait");
            let seconds = started.elapsed().as_secs_f64();
            let cpu = measure::process_cpu_ns() - cpu_before;
            assert!(job.is_completed());
            println!("RESULT secs={seconds} cpu_ns={cpu} hwm_kib={}", own_hwm());
        }
        // For profiling one side alone: `--child calls <async|bare-async> <base_url> <n>`.
        "calls" => {
            let n: u64 = arg(3).parse().expect("number of calls");
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let base = arg(2).to_owned();
            let sdk = sdk_async_client(&base);
            let bare = bare_async_client();
            let cpu_before = measure::process_cpu_ns();
            runtime.block_on(async {
                for _ in 0..n {
                    let job = match arg(1) {
                        "async" => sdk.get_job("job_1").await.expect("SDK get_job"),
                        _ => bare_get_job(&bare, &base).await,
                    };
                    assert_eq!(job.id, "job_1");
                }
            });
            println!("RESULT cpu_us_per_call={}", (measure::process_cpu_ns() - cpu_before) as f64 / n as f64 / 1e3);
        }
        // One per-call comparison, pinned with its server to one CPU:
        // `--child percall <blocking|async> <calls> <rounds> <cpu|none>`.
        "percall" => {
            let number = |index: usize| -> u64 { arg(index).parse().expect("a number") };
            if arg(4) != "none" {
                let cpu = usize::try_from(number(4)).expect("CPU number");
                // Before any thread or process is started, so that all of them inherit it.
                measure::pin_to_cpu(cpu).unwrap_or_else(|error| panic!("could not pin to CPU {cpu}: {error}"));
            }
            let server = ServerProcess::start();
            let (s, b, ratio) = match arg(1) {
                "blocking" => blocking_pairs(&server.base_url, number(2), number(3)),
                "async" => async_pairs(&server.base_url, number(2), number(3)),
                other => panic!("unknown per-call comparison {other:?}"),
            };
            println!("RESULT sdk_us={s} bare_us={b} ratio={ratio}");
        }
        "serve" => {
            let server = Server::start();
            println!("SERVING {}", server.base_url);
            std::io::stdout().flush().expect("flush");
            // Serve until the parent closes stdin.
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        }
        "upload-async" => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let client = sdk_async_client(arg(1));
            let bytes = fs::metadata(arg(2)).expect("input file").len();
            let started = Instant::now();
            let upload = runtime.block_on(client.upload(arg(2)).send()).expect("SDK async upload");
            let seconds = started.elapsed().as_secs_f64();
            assert!(upload.video_url.starts_with("https://cdn.invalid/uploads/"), "{upload:?}");
            println!("RESULT bytes={bytes} secs={seconds} hwm_kib={}", own_hwm());
        }
        "download-async" => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let client = sdk_async_client(arg(1));
            let started = Instant::now();
            let bytes = runtime.block_on(client.download(arg(2)).to_path(arg(3))).expect("SDK async download");
            let seconds = started.elapsed().as_secs_f64();
            println!("RESULT bytes={bytes} secs={seconds} hwm_kib={}", own_hwm());
        }
        "threads" => {
            // One call and one transfer each way, then the threads of this process.
            let client = sdk_client(arg(1));
            client.get_job("job_1").expect("get_job");
            client.upload(arg(2)).send().expect("upload");
            let mut sink = Vec::new();
            client.download(&format!("{}/download/1024", arg(1))).to_writer(&mut sink).expect("download");
            let names = thread_names();
            println!("THREADS {}", names.join(","));
            println!("RESULT threads={}", names.len());
        }
        other => panic!("unknown child command {other:?}"),
    }
}

/// The names of this process's threads, from /proc.
fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|task| fs::read_to_string(task.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn own_hwm() -> u64 {
    measure::vm_hwm_kib("self").unwrap_or(0)
}
