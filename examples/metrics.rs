//! Counts the client's HTTP attempts per route and status with `ClientBuilder::on_attempt`,
//! as a metrics exporter would (Prometheus labels `route` and `status`), then prints them.
//!
//! ```text
//! cargo run --example metrics     # offline, against the built-in simulator
//! ```
//!
//! The routes are templates (`/v1/jobs/{id}`), so the label set stays small whatever the job
//! ids; no credential, id or query ever reaches the observer.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use removebgvideo::client::AttemptInfo;
use removebgvideo::simulator::{Fault, FaultRule, Simulator};
use removebgvideo::{CreateJob, WaitOptions};

/// Attempts counted per (method and route, status or error kind).
type Counts = Arc<Mutex<BTreeMap<(String, String), u64>>>;

fn count(counts: &Counts, info: &AttemptInfo) {
    let route = format!("{} {}", info.method, info.route);
    let outcome = match (info.status, info.error) {
        (Some(status), _) => status.as_u16().to_string(),
        (None, Some(kind)) => kind.to_owned(),
        (None, None) => "unknown".to_owned(),
    };
    *counts.lock().unwrap_or_else(PoisonError::into_inner).entry((route, outcome)).or_default() += 1;
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::builder().polls_to_complete(3).start()?;
    let counts = Counts::default();
    let observed = Arc::clone(&counts);
    let client = sim.client_builder().on_attempt(move |info| count(&observed, info)).build()?;

    // One rate limit on the way, to see a retried attempt counted.
    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 1 }).path_prefix("/v1/jobs").times(1));
    for n in 0..3 {
        let job = client.create_job(&CreateJob::new(format!("https://videos.example/{n}.mp4")))?;
        client.wait_for_completion(&job.id, WaitOptions::default())?;
    }

    println!("{:<28} {:>8} {:>6}", "route", "status", "count");
    for ((route, status), n) in counts.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        println!("{route:<28} {status:>8} {n:>6}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
