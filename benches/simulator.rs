//! How many `GET /v1/jobs/{id}` the simulator answers per second over kept-alive connections,
//! so that batch tests and benchmarks measure the client and not the simulator (target: at
//! least 10,000 per second on a 2-core machine).
//!
//! ```text
//! cargo bench --bench simulator
//! BENCH_SIM_CALLS=50000 BENCH_SIM_THREADS=4 cargo bench --bench simulator
//! ```
//!
//! Two figures, each from `BENCH_SIM_THREADS` threads (default 2) making `BENCH_SIM_CALLS`
//! calls in all (default 40,000), in this process alongside the simulator:
//! 1. raw HTTP/1.1 requests, one kept-alive connection per thread (the simulator's own cost,
//!    plus a minimal client);
//! 2. the SDK's blocking `Client` (one clone per thread, sharing its pool), decoding each `Job`.
//!
//! Nothing is asserted: a missed target is printed as FAIL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use removebgvideo::simulator::Simulator;
use removebgvideo::CreateJob;

const TARGET_PER_SECOND: f64 = 10_000.0;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// One request and its answer on a kept-alive connection; false when the answer is not a 200.
fn raw_get(stream: &mut BufReader<TcpStream>, request: &[u8]) -> bool {
    if stream.get_mut().write_all(request).is_err() {
        return false;
    }
    let mut line = String::new();
    if stream.read_line(&mut line).is_err() {
        return false;
    }
    let ok = line.starts_with("HTTP/1.1 200");
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    ok && stream.read_exact(&mut body).is_ok()
}

fn rate(threads: usize, calls: usize, each: impl Fn(usize) -> usize + Sync) -> (f64, usize) {
    let started = Instant::now();
    let ok: usize = std::thread::scope(|scope| {
        let each = &each;
        let handles: Vec<_> = (0..threads).map(|t| scope.spawn(move || each(t))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    (calls as f64 / elapsed.as_secs_f64(), ok)
}

fn verdict(per_second: f64) -> &'static str {
    if per_second >= TARGET_PER_SECOND {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() {
    let calls = env_number("BENCH_SIM_CALLS", 40_000);
    let threads = env_number("BENCH_SIM_THREADS", 2);
    let per_thread = calls / threads;
    // Time-paced jobs (an hour each): a poll reads the job without finishing it.
    let sim = match Simulator::builder().job_seconds(3600.0).start() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("could not start the simulator: {e}");
            return;
        }
    };
    let client = sim.client().expect("client");
    let job = client.create_job(&CreateJob::new("https://example.com/in.mp4")).expect("create");
    let address = sim.base_url().trim_start_matches("http://").to_owned();
    let request =
        format!("GET /v1/jobs/{} HTTP/1.1\r\nHost: {address}\r\nX-Api-Key: {}\r\n\r\n", job.id, sim.api_key());
    println!("simulator get_job over keep-alive: {calls} calls from {threads} threads");

    let (raw, ok) = rate(threads, per_thread * threads, |_| {
        let Ok(stream) = TcpStream::connect(&address) else { return 0 };
        let _ = stream.set_nodelay(true);
        let mut stream = BufReader::new(stream);
        (0..per_thread).filter(|_| raw_get(&mut stream, request.as_bytes())).count()
    });
    println!(
        "  raw HTTP/1.1 client, one connection per thread: {raw:>9.0} calls/s ({ok} answered 200)  target >= {TARGET_PER_SECOND:.0}: {}",
        verdict(raw)
    );

    let (sdk, ok) = rate(threads, per_thread * threads, |_| {
        let client = client.clone();
        (0..per_thread).filter(|_| client.get_job(&job.id).is_ok()).count()
    });
    println!(
        "  SDK blocking Client (clones share the pool):     {sdk:>9.0} calls/s ({ok} answered 200)  target >= {TARGET_PER_SECOND:.0}: {}",
        verdict(sdk)
    );
    drop(sim);
}
