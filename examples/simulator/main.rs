//! Serves the built-in API simulator on 127.0.0.1 so every example (and your own code) can run
//! offline against it: a [`SimulatorBuilder`] from a few flags, served until Ctrl-C.
//!
//! ```text
//! cargo run --example simulator
//! cargo run --example simulator -- --port 8080 --credits 100 --job-seconds 2 --concurrency 1 \
//!     --fault rate-limit=5,method=POST,path=/v1/jobs,after=3
//! ```
//!
//! Jobs move with real time: `pending` while `--concurrency` jobs are processing, then
//! `processing` for `--job-seconds`, then `completed` (or `failed` for a `video_url` containing
//! `simulate-failure`), with a signed webhook at each step, whether or not anyone polls.
//!
//! It prints the `export` line to paste into another shell (on standard output; everything else
//! goes to standard error), then serves until Ctrl-C. For example, in a second shell:
//!
//! ```text
//! export REMOVEBGVIDEO_API_KEY=sim_test_key REMOVEBGVIDEO_BASE_URL=http://127.0.0.1:PORT REMOVEBGVIDEO_ADMIN_TOKEN=sim_admin_token
//! cargo run --example basic
//! ```
//!
//! The simulator keeps everything in memory: jobs, uploads and credits are gone when it stops.
//! Webhooks go only to loopback addresses, signed with the secret it prints. The
//! `removebgvideo simulator` command serves the same simulator with every setting as a flag
//! (keys, limits, `--port-file`, `--stop-on-eof`; see its `--help`).

use std::process::ExitCode;

use clap::Parser;
use removebgvideo::simulator::{FaultRule, Simulator, SimulatorBuilder, FAULT_SYNTAX};

/// Serves the RemoveBGVideo API simulator on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "simulator", after_long_help = FAULT_SYNTAX)]
struct Args {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Each key's credit balance; a job beyond it answers 402. Unlimited when not given.
    #[arg(long)]
    credits: Option<f64>,
    /// How long each job processes, in seconds of real time.
    #[arg(long, default_value_t = 5.0)]
    job_seconds: f64,
    /// How many jobs process at once; the others stay pending. Unlimited when not given.
    #[arg(long)]
    concurrency: Option<usize>,
    /// A fault to show on matching requests (repeatable), such as
    /// `status=503,method=POST,path=/v1/jobs,times=2`; see the syntax below (`--help`).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<FaultRule>,
}

impl Args {
    fn builder(&self) -> SimulatorBuilder {
        let mut builder = Simulator::builder().port(self.port).job_seconds(self.job_seconds);
        if let Some(credits) = self.credits {
            builder = builder.credits(credits);
        }
        if let Some(concurrency) = self.concurrency {
            builder = builder.concurrency(concurrency);
        }
        for rule in &self.faults {
            builder = builder.fault(rule.clone());
        }
        builder
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let simulator = match args.builder().start() {
        Ok(simulator) => simulator,
        Err(error) => {
            eprintln!("error: could not start the simulator on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (stop, stopped) = std::sync::mpsc::channel();
    if let Err(error) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("error: could not listen for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("The RemoveBGVideo API simulator is serving at {}.", simulator.base_url());
    eprintln!("Paste this into the shell that runs your code:");
    println!("{}", simulator.export_line());
    if let Some(secret) = simulator.webhook_secret() {
        eprintln!("Webhooks (to 127.0.0.1 or localhost only) are signed with the secret {secret}.");
    }
    eprintln!("Stop with Ctrl-C.");
    let _ = stopped.recv();
    let served = simulator.requests().len();
    simulator.shutdown();
    eprintln!("Stopped after {served} requests.");
    ExitCode::SUCCESS
}
