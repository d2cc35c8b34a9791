//! `run <FILE|URL>`: one video end to end, with progress (upload, queue, processing, download).

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use removebgvideo::client::TransferProgress;
use removebgvideo::{Client, Job, WaitOptions};

use crate::connect::connect;
use crate::manifest::JobFlags;
use crate::{print_json, Failure};

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

fn is_url(input: &str) -> bool {
    input.starts_with("http://") || input.starts_with("https://")
}

/// Upload (for a file), create, wait, download: one function, so that a single library call
/// can take its place.
fn process(client: &Client, args: &Args, bar: &ProgressBar) -> Result<(Job, PathBuf, u64), Failure> {
    let video_url = if is_url(&args.input) {
        args.input.clone()
    } else {
        bar.set_message("uploading");
        let shown = bar.clone();
        let upload = client
            .upload(&args.input)
            .progress(move |moved: TransferProgress| {
                if let Some(total) = moved.total.filter(|total| *total > 0) {
                    shown.set_length(total);
                    shown.set_position(moved.done);
                }
            })
            .send()?;
        upload.video_url
    };
    bar.set_message("creating the job");
    let submission = client.create_job(&args.job.create_job(&video_url))?;
    bar.set_message(format!("{} queued", submission.id));
    bar.set_length(100);
    bar.set_position(0);
    let shown = bar.clone();
    let options = WaitOptions::default().timeout(Duration::from_secs(args.timeout)).on_update(move |job: &Job| {
        shown.set_message(format!("{} {}", job.id, job.status));
        if let Some(progress) = job.progress {
            // A percentage from 0 to 100; anything else is shown at its nearest end.
            shown.set_position(progress.clamp(0.0, 100.0).round() as u64);
        }
    });
    let job = match client.wait_for_completion(&submission.id, options) {
        Ok(job) => job,
        Err(removebgvideo::Error::JobFailed(job)) => {
            let reason = job.error.clone().unwrap_or_else(|| "the service gave no reason".into());
            return Err(Failure(format!("job {} failed: {reason}", job.id), 1));
        }
        Err(error) => return Err(error.into()),
    };
    let path = args.out.clone().unwrap_or_else(|| default_output(&args.input, &job));
    bar.set_message("downloading");
    bar.set_position(0);
    let shown = bar.clone();
    let size = client
        .download_output(&job)?
        .progress(move |moved: TransferProgress| {
            if let Some(total) = moved.total.filter(|total| *total > 0) {
                shown.set_length(total);
                shown.set_position(moved.done);
            }
        })
        .to_path(&path)?;
    Ok((job, path, size))
}

/// `<input's name>-nobg.<ext>`, the extension from the output URL, else the output format.
fn default_output(input: &str, job: &Job) -> PathBuf {
    let name = input.split('?').next().unwrap_or(input);
    let stem =
        Path::new(name).file_stem().and_then(|stem| stem.to_str()).filter(|stem| !stem.is_empty()).unwrap_or("video");
    let from_url = job.output_url.as_deref().and_then(|url| {
        let file = url.split('?').next()?.rsplit('/').next()?;
        let (_, ext) = file.rsplit_once('.')?;
        (!ext.is_empty() && ext.len() <= 10 && ext.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| ext.to_owned())
    });
    let ext = from_url
        .or_else(|| job.output_format.as_ref().map(|format| format.as_str().to_owned()))
        .filter(|ext| !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or_else(|| "webm".to_owned());
    PathBuf::from(format!("{stem}-nobg.{ext}"))
}
