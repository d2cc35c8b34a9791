//! `simulator`: the built-in API simulator, served as the `simulator` example serves it.

use std::io::Read;

use removebgvideo::client::{ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
use removebgvideo::simulator::Simulator;

use crate::Failure;

/// `removebgvideo simulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Polls before a job completes.
    #[arg(long, default_value_t = 5)]
    polls_to_complete: u32,
    /// The account's credits.
    #[arg(long)]
    credits: Option<f64>,
    /// The API key it accepts.
    #[arg(long)]
    api_key: Option<String>,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let mut builder = Simulator::builder().polls_to_complete(args.polls_to_complete);
    if let Some(credits) = args.credits {
        builder = builder.credits(credits);
    }
    if let Some(key) = &args.api_key {
        builder = builder.api_key(key.clone());
    }
    let simulator =
        builder.start().map_err(|e| Failure(format!("could not start the simulator on 127.0.0.1: {e}"), 1))?;
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
