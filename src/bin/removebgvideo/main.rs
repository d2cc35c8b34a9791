//! The `removebgvideo` command (feature `cli`): one video end to end, a batch on a file
//! journal or a PostgreSQL queue, jobs, usage, pricing, credit estimates, webhook deliveries,
//! the simulator and local composition. Holds the argument parsing (`failure.rs`: how a command ends); each
//! subcommand is one file, and every call goes through the library.
//!
//! Without `REMOVEBGVIDEO_API_KEY` every command runs offline against the built-in simulator
//! and says so (on standard error, so that `--json` output stays clean).
//!
//! Exit statuses: 0 success, 1 a failure (some items failed, are uncertain or unfinished; a
//! call failed), 2 bad usage or configuration (nothing was sent), 3 stopped for credits, 130
//! stopped by Ctrl-C.

mod account;
mod batch;
mod checks;
mod compose;
mod connect;
mod estimate;
mod failure;
mod flags;
mod jobs;
mod manifest;
mod progress;
mod run;
mod simulator;
mod ui;
mod values;
mod webhook;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use failure::Failure;

/// Remove the background of videos with the RemoveBGVideo API.
#[derive(Debug, Parser)]
#[command(name = "removebgvideo", version, about, propagate_version = true)]
#[command(after_help = "Exit status: 0 success, 1 a failure, 2 bad usage (nothing was sent), 3 out of credits, \
                        130 stopped by Ctrl-C.")]
struct Cli {
    /// Print only errors and what a stop leaves behind: no progress, no notes.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// No colours (as does setting NO_COLOR).
    #[arg(long, global = true)]
    no_color: bool,
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
    /// Print the completion script for a shell (e.g. `removebgvideo completions bash >
    /// ~/.local/share/bash-completion/completions/removebgvideo`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Runs a command that has nothing to clean up on Ctrl-C: it exits with status 130.
fn with_ctrl_c(command: impl FnOnce() -> Result<u8, Failure>) -> Result<u8, Failure> {
    ui::exit_on_ctrl_c();
    command()
}

fn main() -> ExitCode {
    let no_color = ui::no_color(std::env::args_os().any(|arg| arg == "--no-color"));
    let mut definition = Cli::command();
    if no_color {
        definition = definition.color(clap::ColorChoice::Never);
    }
    let cli = Cli::from_arg_matches(&definition.clone().get_matches())
        .unwrap_or_else(|error| error.format(&mut definition).exit());
    ui::set_quiet(cli.quiet);
    let result = match cli.command {
        Command::Run(args) => run::main(&args),
        Command::Batch(args) => batch::main(&args),
        Command::Jobs(command) => jobs::main(&command),
        Command::Usage(args) => with_ctrl_c(|| account::usage(&args)),
        Command::Pricing(args) => with_ctrl_c(|| account::pricing(&args)),
        Command::Estimate(args) => with_ctrl_c(|| estimate::main(&args)),
        Command::Webhook(command) => with_ctrl_c(|| webhook::main(&command)),
        Command::Simulator(args) => simulator::main(&args),
        Command::Compose(args) => compose::main(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "removebgvideo", &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(Failure(message, status)) => {
            eprintln!("error: {message}");
            ExitCode::from(status)
        }
    }
}
