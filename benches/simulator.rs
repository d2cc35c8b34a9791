//! The simulator as a server: its speed, its memory within its bounds, and its webhook
//! deliveries' independence.
//!
//! ```text
//! cargo bench --bench simulator
//! BENCH_SIM_CALLS=50000 BENCH_SIM_THREADS=4 cargo bench --bench simulator
//! ```
//!
//! 1. `GET /v1/jobs/{id}` per second over kept-alive connections, from `BENCH_SIM_THREADS`
//!    threads (default 2) making `BENCH_SIM_CALLS` calls in all (default 40,000), in this
//!    process alongside the simulator: raw HTTP/1.1 requests (one connection per thread), then
//!    the SDK's blocking `Client` decoding each `Job`. Target: twice 0.3's raw rate (about
//!    17,800 calls per second on the reference 2-core machine), so at least 35,600.
//! 2. This process's resident memory (simulator and clients) after 10,000 jobs, 4,000 junk
//!    requests without a key (128 KiB bodies each) and 12 uploads of 60 MiB, printed beside the
//!    simulator's bounds: the request log (10,000 entries, 64 MiB of bodies) and the upload
//!    budget (256 MiB); then again after the same load once more, to show it stays put.
//! 3. How long a receiver waits for its `job.completed` while another receiver never answers.
//!    Target: under 100 ms.
//!
//! Nothing is asserted: a missed target is printed as FAIL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use removebgvideo::simulator::Simulator;
use removebgvideo::CreateJob;

/// Twice 0.3's raw rate on the reference machine.
const TARGET_PER_SECOND: f64 = 2.0 * 17_800.0;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
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
    let workers = env_number("BENCH_SIM_WORKERS", 2);
    let sim = match Simulator::builder().job_seconds(3600.0).worker_threads(workers).start() {
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
    println!("simulator get_job over keep-alive: {calls} calls from {threads} threads, {workers} server threads");

    let (raw, ok) = rate(threads, per_thread * threads, |_| {
        let Ok(stream) = TcpStream::connect(&address) else { return 0 };
        let _ = stream.set_nodelay(true);
        let mut stream = BufReader::new(stream);
        (0..per_thread).filter(|_| raw_send(&mut stream, &request, 0, |_, _| {})).count()
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

    if std::env::var_os("BENCH_SIM_RATE_ONLY").is_none() {
        memory();
        deliveries();
    }
}

/// Resident memory of this process, in MiB (Linux; `None` elsewhere).
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Writes one raw request (a body of `body_len` bytes from `body`, streamed) on a kept-alive
/// connection and reads its whole answer; true on a 2xx.
fn raw_send(
    stream: &mut BufReader<TcpStream>,
    head: &str,
    body_len: usize,
    mut body: impl FnMut(&mut Vec<u8>, usize),
) -> bool {
    if stream.get_mut().write_all(head.as_bytes()).is_err() {
        return false;
    }
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut sent = 0;
    while sent < body_len {
        chunk.clear();
        body(&mut chunk, (body_len - sent).min(1 << 20));
        if stream.get_mut().write_all(&chunk).is_err() {
            return false;
        }
        sent += chunk.len();
    }
    let mut line = String::new();
    if stream.read_line(&mut line).is_err() {
        return false;
    }
    let ok = line.starts_with("HTTP/1.1 2");
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
    // The whole answer is read, whatever its status, so the next one starts in place.
    let mut answer = vec![0; length];
    stream.read_exact(&mut answer).is_ok() && ok
}

fn memory() {
    const JOBS: usize = 10_000;
    const JUNK: usize = 4_000;
    const JUNK_BODY: usize = 128 * 1024;
    const UPLOADS: usize = 12;
    const UPLOAD: usize = 60 * 1024 * 1024;
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    let address = sim.base_url().trim_start_matches("http://").to_owned();
    let before = rss_mib();
    let connection = TcpStream::connect(&address).expect("connect");
    let _ = connection.set_nodelay(true);
    let mut stream = BufReader::new(connection);
    let job = br#"{"video_url":"https://example.com/in.mp4","metadata":{"bench":true}}"#;
    let head = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: {address}\r\nX-Api-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        sim.api_key(),
        job.len()
    );
    // Twice the load: memory that stays put the second time is bounded, not growing.
    for round in 1..=2 {
        let started = Instant::now();
        let created =
            (0..JOBS).filter(|_| raw_send(&mut stream, &head, job.len(), |c, _| c.extend_from_slice(job))).count();
        let junk_head = format!("POST /v1/jobs HTTP/1.1\r\nHost: {address}\r\nContent-Length: {JUNK_BODY}\r\n\r\n");
        let mut refused = 0;
        for _ in 0..JUNK {
            // A 401 closes nothing: the body is read whole and logged (its first 64 KiB).
            let _ = raw_send(&mut stream, &junk_head, JUNK_BODY, |c, n| c.resize(n, b'x'));
            refused += 1;
        }
        let boundary = "benchboundary7d3";
        let prefix = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n");
        let suffix = format!("\r\n--{boundary}--\r\n");
        let total = prefix.len() + UPLOAD + suffix.len();
        let upload_head = format!(
        "POST /v1/uploads HTTP/1.1\r\nHost: {address}\r\nX-Api-Key: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n",
        sim.api_key()
    );
        let body: Vec<u8> =
            [prefix.as_bytes(), &(0..UPLOAD).map(|i| (i % 251) as u8).collect::<Vec<u8>>(), suffix.as_bytes()].concat();
        let mut uploaded = 0;
        for _ in 0..UPLOADS {
            let mut written = 0usize;
            let ok = raw_send(&mut stream, &upload_head, total, |c, n| {
                c.extend_from_slice(&body[written..written + n]);
                written += n;
            });
            uploaded += usize::from(ok);
        }
        drop(body);
        let elapsed = started.elapsed();
        let after = rss_mib();
        println!(
        "simulator memory, round {round}, after {created} more jobs, {refused} junk requests of {} KiB and {uploaded} uploads of {} MiB ({:.1} s):",
        JUNK_BODY / 1024,
        UPLOAD >> 20,
        elapsed.as_secs_f64()
    );
        match (before, after) {
        (Some(before), Some(after)) => println!(
            "  RSS {after:.0} MiB (from {before:.0} MiB); bounds: request log {} entries and 64 MiB of bodies ({} kept), uploads {} MiB ({} MiB kept)",
            10_000,
            sim.requests().len(),
            256,
            sim.upload_bytes_kept() >> 20
        ),
        _ => println!("  RSS not readable on this platform"),
    }
    }
    drop(sim);
}

fn deliveries() {
    use std::sync::mpsc;
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_url = format!("http://{}/hook", dead.local_addr().expect("address"));
    let (reached_tx, reached) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in dead.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.read(&mut [0; 1024]);
            held.push(stream);
            if reached_tx.send(()).is_err() {
                return;
            }
        }
    });
    let live = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let live_url = format!("http://{}/hook", live.local_addr().expect("address"));
    let (seen_tx, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in live.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let (mut length, mut event) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("x-webhook-event:") {
                    event = v.trim().to_owned();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if seen_tx.send((event, Instant::now())).is_err() {
                return;
            }
        }
    });
    let client = sim.client().expect("client");
    let _ = client.create_job(&CreateJob::new("https://example.com/a.mp4").webhook_url(&dead_url)).expect("create");
    let _ = reached.recv_timeout(Duration::from_secs(10));
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let sent = Instant::now();
        let _ = client.create_job(&CreateJob::new("https://example.com/b.mp4").webhook_url(&live_url)).expect("create");
        loop {
            match seen.recv_timeout(Duration::from_secs(10)) {
                Ok((event, at)) if event == "job.completed" => {
                    worst = worst.max(at - sent);
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    worst = Duration::MAX;
                    break;
                }
            }
        }
    }
    let ms = worst.as_secs_f64() * 1000.0;
    println!(
        "webhooks: another receiver's job.completed, 20 jobs, while one receiver never answers: at worst {ms:.1} ms after the create  target < 100 ms: {}",
        if ms < 100.0 { "PASS" } else { "FAIL" }
    );
    drop(sim);
}
