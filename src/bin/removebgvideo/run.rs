//! `run <FILE|URL>`: one video end to end, with progress (upload, queue, processing, download).

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use removebgvideo::client::{ProcessOptions, ProcessProgress};
use removebgvideo::{Client, Job};

use crate::connect::connect;
use crate::manifest::JobFlags;
use crate::{error_chain, print_json, Failure};

/// `removebgvideo run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A video file, or an http(s) URL the service fetches itself.
    input: String,
    /// Where the output goes (default `<name>-nobg.<ext>` in the current folder).
    #[arg(short, long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    job: JobFlags,
    /// Give up waiting for the job after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Print the finished job and the output's path as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let connection = connect(5)?;
    if connection.offline() && !is_url(&args.input) && !Path::new(&args.input).is_file() {
        return Err(Failure::usage(format!("{} is not a file", args.input)));
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {wide_bar} {percent:>3}%")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let done = process(&connection.client, args, &bar);
    bar.finish_and_clear();
    let (job, path, size) = done?;
    if args.json {
        print_json(&serde_json::json!({ "job": job, "output": path, "size": size }))?;
    } else {
        println!("{} completed: {} ({size} bytes)", job.id, path.display());
    }
    Ok(0)
}

/// Whether an input is a URL rather than a local file.
pub(crate) fn is_url(input: &str) -> bool {
    input.starts_with("http://") || input.starts_with("https://")
}

/// Upload (for a file), create, wait, download: the library's `process`, its stages on the bar.
fn process(client: &Client, args: &Args, bar: &ProgressBar) -> Result<(Job, PathBuf, u64), Failure> {
    let path = args.out.clone().unwrap_or_else(|| default_output(&args.input, args.job.output_format.as_deref()));
    let flags = args.job.clone();
    let shown = bar.clone();
    let options = ProcessOptions::new()
        .job(move |request| flags.apply(request))
        .timeout(Duration::from_secs(args.timeout))
        .on_progress(move |progress: &ProcessProgress| {
            let job = progress.job_id.as_deref().map(|id| format!("{id} ")).unwrap_or_default();
            shown.set_message(format!("{job}{}", progress.stage));
            if let Some(bytes) = progress.bytes.filter(|bytes| bytes.total.is_some_and(|total| total > 0)) {
                shown.set_length(bytes.total.unwrap_or(1));
                shown.set_position(bytes.done);
            } else if let Some(percent) = progress.percent {
                // A percentage from 0 to 100; anything else is shown at its nearest end.
                shown.set_length(100);
                shown.set_position(percent.clamp(0.0, 100.0).round() as u64);
            }
        });
    match client.process(args.input.as_str(), &options, &path) {
        Ok(done) => Ok((done.job, done.path, done.bytes)),
        Err(failed) => {
            let status = match failed.error {
                removebgvideo::Error::Config(_) | removebgvideo::Error::InvalidInput { .. } => 2,
                _ => 1,
            };
            Err(Failure(error_chain(&failed), status))
        }
    }
}

/// `<input's name>-nobg.<ext>` in the current folder, the extension from the output format.
fn default_output(input: &str, output_format: Option<&str>) -> PathBuf {
    let name = input.split('?').next().unwrap_or(input);
    let stem =
        Path::new(name).file_stem().and_then(|stem| stem.to_str()).filter(|stem| !stem.is_empty()).unwrap_or("video");
    let ext = match output_format.unwrap_or("webm") {
        "png_sequence" => "zip",
        format if !format.is_empty() && format.bytes().all(|b| b.is_ascii_alphanumeric()) => format,
        _ => "webm",
    };
    PathBuf::from(format!("{stem}-nobg.{ext}"))
}
