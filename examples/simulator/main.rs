//! Serves the built-in API simulator on 127.0.0.1 so every example (and your own code) can run
//! offline against it.
//!
//! ```text
//! cargo run --example simulator
//! cargo run --example simulator -- --port 8080 --credits 100 --job-seconds 2 --concurrency 1 \
//!     --fault rate-limit=5,method=POST,path=/v1/jobs,after=3
//! cargo run --example simulator -- --help       # every flag, and the fault syntax
//! ```
//!
//! Jobs move with real time: `pending` while `--concurrency` jobs are processing, then
//! `processing` for `--job-seconds`, then `completed` (or `failed` for a `video_url` containing
//! `simulate-failure`), with a signed webhook at each step, whether or not anyone polls.
//!
//! It prints the `export` line to paste into another shell (on standard output; everything else
//! goes to standard error), then serves until Ctrl-C or SIGTERM (`--stop-on-eof` also stops it
//! at the end of its standard input). For example, in a second shell:
//!
//! ```text
//! export REMOVEBGVIDEO_API_KEY=sim_test_key REMOVEBGVIDEO_BASE_URL=http://127.0.0.1:PORT REMOVEBGVIDEO_ADMIN_TOKEN=sim_admin_token
//! cargo run --example basic
//! ```
//!
//! The simulator keeps everything in memory: jobs, uploads and credits are gone when it stops.
//! Webhooks go only to loopback addresses, signed with the secret it prints.

mod flags;

use std::process::ExitCode;

use clap::Parser;

/// Serves the RemoveBGVideo API simulator on 127.0.0.1 until stopped.
#[derive(Debug, Parser)]
#[command(name = "simulator")]
struct Args {
    #[command(flatten)]
    flags: flags::SimulatorFlags,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let simulator = match args.flags.builder().start() {
        Ok(simulator) => simulator,
        Err(error) => {
            eprintln!("error: could not start the simulator on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    match flags::serve(simulator, &args.flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
