//! Serves the built-in API simulator on 127.0.0.1 so every example (and your own code) can run
//! offline against it.
//!
//! ```text
//! cargo run --example simulator
//! ```
//!
//! It prints the `export` line to paste into another shell, then serves until Ctrl-C or the end
//! of its standard input (Ctrl-D). For example, in a second shell:
//!
//! ```text
//! export REMOVEBGVIDEO_API_KEY=sim_test_key REMOVEBGVIDEO_BASE_URL=http://127.0.0.1:PORT REMOVEBGVIDEO_ADMIN_TOKEN=sim_admin_token
//! cargo run --example basic
//! ```
//!
//! The simulator keeps everything in memory: jobs, uploads and credits are gone when it stops.
//! Webhooks go only to loopback addresses, signed with the secret it prints.

use std::io::Read;
use std::process::ExitCode;

use removebgvideo::client::{ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
use removebgvideo::simulator::Simulator;

fn main() -> ExitCode {
    // Five polls per job, so a waiting example has progress to show.
    let simulator = match Simulator::builder().polls_to_complete(5).start() {
        Ok(simulator) => simulator,
        Err(error) => {
            eprintln!("error: could not start the simulator on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("The RemoveBGVideo API simulator is serving at {}.", simulator.base_url());
    println!("Paste this into the shell that runs your code:");
    println!();
    println!(
        "export {API_KEY_ENV}={} {BASE_URL_ENV}={} {ADMIN_TOKEN_ENV}={}",
        simulator.api_key(),
        simulator.base_url(),
        simulator.admin_token()
    );
    println!();
    if let Some(secret) = simulator.webhook_secret() {
        println!("Webhooks (to 127.0.0.1 or localhost only) are signed with the secret {secret}.");
    }
    println!("Stop with Ctrl-C or Ctrl-D.");

    // Serve until standard input ends; Ctrl-C ends the process, and the server with it.
    let _ = std::io::copy(&mut std::io::stdin().lock().by_ref(), &mut std::io::sink());
    let served = simulator.requests().len();
    simulator.shutdown();
    println!("Stopped after {served} requests.");
    ExitCode::SUCCESS
}
