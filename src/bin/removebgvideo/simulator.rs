//! `simulator`: the built-in API simulator, served as the `simulator` example serves it, with
//! the same flags (defined once, in `examples/simulator/flags.rs`).

use std::io::Read;

use removebgvideo::client::{ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};

use crate::Failure;

#[path = "../../../examples/simulator/flags.rs"]
mod flags;

/// `removebgvideo simulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    flags: flags::SimulatorFlags,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let simulator = args
        .flags
        .builder()
        .start()
        .map_err(|e| Failure(format!("could not start the simulator on 127.0.0.1: {e}"), 1))?;
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
    Ok(0)
}
