//! The `removebgvideo` command (feature `cli`): one video end to end, a batch on a file
//! journal or a PostgreSQL queue, jobs, usage, pricing, credit estimates, webhook deliveries,
//! the simulator and local composition. Holds the argument parsing and the exit statuses; each
//! subcommand is one file, and every call goes through the library.
//!
//! Without `REMOVEBGVIDEO_API_KEY` every command runs offline against the built-in simulator
//! and says so (on standard error, so that `--json` output stays clean).
//!
//! Exit statuses: 0 success, 1 a failure (some items failed, are uncertain or unfinished; a
//! call failed), 2 bad usage or configuration, 3 stopped for credits.

mod account;
mod batch;
mod compose;
mod connect;
mod estimate;
mod jobs;
mod manifest;
mod progress;
mod run;
mod simulator;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Remove the background of videos with the RemoveBGVideo API.
#[derive(Debug, Parser)]
#[command(name = "removebgvideo", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One video end to end: upload, create, wait (with progress), download.
    Run(run::Args),
    /// Many videos: a resumable batch on a journal, or one batch shared by many workers
    /// through PostgreSQL (--queue).
    Batch(Box<batch::Args>),
    /// The account's jobs.
    #[command(subcommand)]
    Jobs(jobs::Command),
    /// Usage over the last days.
    Usage(account::UsageArgs),
    /// Credits per minute of each model.
    Pricing(account::PricingArgs),
    /// Credits the videos would cost, from their own durations; sends only GET /api/pricing.
    Estimate(estimate::Args),
    /// Send a signed test delivery, or verify one.
    #[command(subcommand)]
    Webhook(webhook::Command),
    /// Serve the built-in API simulator on 127.0.0.1 until Ctrl-C or SIGTERM.
    Simulator(simulator::Args),
    /// Draw a transparent output on a colour, an image or a video with the system's ffmpeg,
    /// locally, spending no credits.
    Compose(compose::Args),
}

/// A failure: the message and the exit status.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String, pub(crate) u8);

impl Failure {
    /// Bad usage or configuration (exit status 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure(message.into(), 2)
    }
}

impl From<removebgvideo::Error> for Failure {
    fn from(error: removebgvideo::Error) -> Self {
        let status = match error {
            removebgvideo::Error::Config(_) | removebgvideo::Error::InvalidInput { .. } => 2,
            _ => 1,
        };
        Failure(error_chain(&error), status)
    }
}

impl From<removebgvideo::batch::BatchError> for Failure {
    fn from(error: removebgvideo::batch::BatchError) -> Self {
        use removebgvideo::batch::BatchError;
        let status = if matches!(error, BatchError::InvalidInput(_) | BatchError::OverBudget { .. }) { 2 } else { 1 };
        Failure(error_chain(&error), status)
    }
}

impl From<removebgvideo::webhook::WebhookError> for Failure {
    fn from(error: removebgvideo::webhook::WebhookError) -> Self {
        Failure(error_chain(&error), 1)
    }
}

/// The error and each source it keeps, once each (a message that already quotes its source is
/// not followed by it again).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// Prints `value` as one line of JSON.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(value).map_err(|e| Failure(format!("could not write JSON: {e}"), 1))?;
    println!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::main(&args),
        Command::Batch(args) => batch::main(&args),
        Command::Jobs(command) => jobs::main(&command),
        Command::Usage(args) => account::usage(&args),
        Command::Pricing(args) => account::pricing(&args),
        Command::Estimate(args) => estimate::main(&args),
        Command::Webhook(command) => webhook::main(&command),
        Command::Simulator(args) => simulator::main(&args),
        Command::Compose(args) => compose::main(&args),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(Failure(message, status)) => {
            eprintln!("error: {message}");
            ExitCode::from(status)
        }
    }
}
