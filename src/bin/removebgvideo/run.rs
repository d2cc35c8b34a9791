//! `run <FILE|URL>`: one video end to end, with progress (upload, queue, processing,
//! download); `run --job ID` carries on with a job already made. Everything that can be
//! checked here is checked before the upload: the job's settings, the output's folder, the
//! input's container.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use removebgvideo::client::process::{ProcessOptions, ProcessProgress, Stage};
use removebgvideo::{BgType, Client, Error, Job, JobStatus, OutputFormat, WaitOptions};

use crate::checks::{self, output_path, Input};
use crate::connect::connect;
use crate::failure::{error_chain, print_json, status_of, Failure};
use crate::flags::JobFlags;
use crate::progress::StageBar;
use crate::ui::{self, Interrupted};
use crate::values::refuse_lost_alpha;

const DEFAULTS: &str = "\
Defaults: a transparent background (--bg-type transparent) in a WebM with alpha (--output-format \
webm), which is what removing a background means to most people. This differs from what a \
request without a choice gets: the official SDKs, and the crate's CreateJob, send a green \
(chroma-key) background, for editors that key it out; pass --bg-type green for that. A \
transparent background needs a format that keeps alpha: webm, mov, gif, webp or png_sequence \
(not mp4).

The job id is printed as soon as the job exists. A job keeps running (and costs its credits) \
even if this command stops: `removebgvideo run --job ID` waits for it and downloads its output, \
creating nothing.";

/// `removebgvideo run`.
#[derive(Debug, clap::Args)]
#[command(after_help = DEFAULTS)]
pub(crate) struct Args {
    /// A video file (MP4, MOV, WebM or AVI), or an http(s) URL the service fetches itself.
    #[arg(required_unless_present = "job")]
    input: Option<String>,
    /// Carry on with a job already created (by a run that was stopped or timed out): wait for
    /// it and download its output. Creates nothing.
    #[arg(long, value_name = "JOB_ID", conflicts_with_all = ["input", "JobFlags"])]
    job: Option<String>,
    /// Where the output goes: a file, or a folder for `<name>-nobg.<ext>` (default: that name in
    /// the current folder).
    #[arg(short, long = "output", visible_alias = "out", value_name = "OUT")]
    output: Option<PathBuf>,
    /// Overwrite OUT when it exists (without it, an existing OUT is refused before the upload).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    settings: JobFlags,
    /// Give up waiting for the job after this many seconds (the job carries on; the message
    /// says how to fetch it later).
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    timeout: u64,
    /// Print JSON lines on standard output: `{"event":"created","job_id"}` as soon as the job
    /// exists, then `{"event":"completed","job","output","size"}` (or `"failed"` with its
    /// `"error"`, or `"interrupted"`).
    #[arg(long)]
    json: bool,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    if let Some(job_id) = &args.job {
        return carry_on(args, job_id);
    }
    let input = checks::input(args.input.as_deref().unwrap_or_default())?;
    let settings = settings(&args.settings)?;
    let format = settings.output_format.clone().unwrap_or_default();
    let name = format!("{}-nobg.{}", input.stem(), extension(&format));
    let out = output_path(args.output.as_deref(), &name, args.force)?;

    let connection = connect(5)?;
    let client = &connection.client;
    ui::exit_on_ctrl_c();
    ui::on_interrupt(Interrupted {
        message: "stopped before a job was created: nothing was charged".to_owned(),
        json: args.json.then(|| serde_json::json!({ "event": "interrupted", "job_id": null })),
    });
    ui::discard_partial_download_of(&out);
    let bar = Arc::new(StageBar::new());
    let done = process(client, &input, &settings, &out, args, connection.offline(), &bar);
    bar.finish();
    let (job, path, size) = failed_as_json(done, args.json)?;
    report(&job, &path, size, args.json)
}

/// The run's job settings: the command's defaults (transparent, WebM) where none is given,
/// refused when a transparent background goes into a format without alpha.
fn settings(flags: &JobFlags) -> Result<JobFlags, Failure> {
    let mut settings = flags.clone();
    settings.bg_type.get_or_insert(BgType::Transparent);
    settings.output_format.get_or_insert(OutputFormat::Webm);
    refuse_lost_alpha(settings.bg_type.as_ref(), settings.output_format.as_ref())?;
    Ok(settings)
}

/// The output file's extension for `format`.
pub(crate) fn extension(format: &OutputFormat) -> &str {
    match format {
        OutputFormat::PngSequence => "zip",
        OutputFormat::Other(other) if other.is_empty() || !other.bytes().all(|b| b.is_ascii_alphanumeric()) => "out",
        format => format.as_str(),
    }
}

/// The command that carries on with `job_id`, writing to `out` when given.
fn carry_on_command(job_id: &str, out: Option<&Path>) -> String {
    match out {
        Some(out) => format!("removebgvideo run --job {job_id} -o {}", out.display()),
        None => format!("removebgvideo run --job {job_id}"),
    }
}

/// Upload (for a file), create, wait, download: the library's `process`, its stages on the
/// bar. The job id is said as soon as the job exists, and what Ctrl-C says follows it.
fn process(
    client: &Client,
    input: &Input,
    settings: &JobFlags,
    out: &Path,
    args: &Args,
    offline: bool,
    bar: &Arc<StageBar>,
) -> Result<(Job, PathBuf, u64), Failure> {
    let flags = settings.clone();
    let shown = Arc::clone(bar);
    let announced = AtomicBool::new(false);
    let (json, out_path) = (args.json, out.to_owned());
    let options = ProcessOptions::new()
        .job(move |request| flags.apply(request))
        .timeout(Duration::from_secs(args.timeout))
        .on_progress(move |progress: &ProcessProgress| {
            if let Some(job_id) = &progress.job_id
                && !announced.swap(true, Ordering::SeqCst)
            {
                job_created(job_id, &out_path, json, offline, &shown);
            }
            if progress.stage == Stage::Creating {
                ui::on_interrupt(Interrupted {
                    message: "stopped while creating the job: it may exist; `removebgvideo jobs list` shows it"
                        .to_owned(),
                    json: json.then(|| serde_json::json!({ "event": "interrupted", "job_id": null })),
                });
            }
            shown.show(progress.stage, progress.percent, progress.bytes);
        });
    let request = match input {
        Input::File(path) => removebgvideo::client::process::Input::File(path.clone()),
        Input::Url(url) => removebgvideo::client::process::Input::Url(url.clone()),
    };
    match client.process(request, &options, out) {
        Ok(done) => Ok((done.job, done.path, done.bytes)),
        Err(failed) => {
            let status = status_of(&failed.error);
            let mut message = error_chain(&failed);
            if let Some(job_id) = &failed.job_id {
                message.push_str(&after_failure(&failed.error, job_id, Some(out)));
            }
            Err(Failure(message, status))
        }
    }
}

/// Says on standard error (and in a JSON line) that the job exists, and what Ctrl-C will say.
fn job_created(job_id: &str, out: &Path, json: bool, offline: bool, bar: &StageBar) {
    let command = carry_on_command(job_id, Some(out));
    // What Ctrl-C says is in place before anyone can read the job id.
    let note = if offline {
        // The job lives in this command's own simulator: nothing can carry it on.
        ui::on_interrupt(Interrupted {
            message: format!("stopped: job {job_id} ended with this command's offline simulator"),
            json: json.then(|| serde_json::json!({ "event": "interrupted", "job_id": job_id })),
        });
        format!("job {job_id} created (offline: it ends with this command)")
    } else {
        ui::on_interrupt(Interrupted {
            message: format!(
                "stopped waiting: job {job_id} is still running and will be charged; wait for it and download \
                 its output with: {command}"
            ),
            json: json.then(|| serde_json::json!({ "event": "interrupted", "job_id": job_id, "carry_on": command })),
        });
        format!("job {job_id} created; if this command stops, carry on with: {command}")
    };
    bar.note(&note);
    if json {
        println!("{}", serde_json::json!({ "event": "created", "job_id": job_id }));
    }
}

/// What to do after a failure once the job exists: a failed job is over; otherwise the job
/// may still finish, and this is how to get its output.
pub(crate) fn after_failure(error: &Error, job_id: &str, out: Option<&Path>) -> String {
    match error {
        Error::JobFailed(_) => String::new(),
        _ => {
            format!("\nthe job carries on without this command; get its output with: {}", carry_on_command(job_id, out))
        }
    }
}

/// With `--json`, a failure is also a `{"event":"failed","error"}` line on standard output.
fn failed_as_json<T>(done: Result<T, Failure>, json: bool) -> Result<T, Failure> {
    if let (Err(Failure(message, _)), true) = (&done, json) {
        println!("{}", serde_json::json!({ "event": "failed", "error": message }));
    }
    done
}

fn report(job: &Job, path: &Path, size: u64, json: bool) -> Result<u8, Failure> {
    if json {
        print_json(&serde_json::json!({ "event": "completed", "job": job, "output": path, "size": size }))?;
    } else {
        println!("{} completed: {} ({size} bytes)", job.id, path.display());
    }
    Ok(0)
}

/// `run --job ID`: waits for an existing job and downloads its output; creates nothing.
fn carry_on(args: &Args, job_id: &str) -> Result<u8, Failure> {
    // An output named by the user is checked before waiting; a default name needs the job.
    if let Some(out) = args.output.as_deref().filter(|out| !out.is_dir()) {
        output_path(Some(out), "", args.force)?;
    }
    let connection = connect(5)?;
    let client = &connection.client;
    ui::exit_on_ctrl_c();
    let bar = Arc::new(StageBar::new());
    ui::on_interrupt(Interrupted {
        message: format!(
            "stopped waiting: job {job_id} carries on; run again to wait for it: {}",
            carry_on_command(job_id, args.output.as_deref())
        ),
        json: args.json.then(|| serde_json::json!({ "event": "interrupted", "job_id": job_id })),
    });
    let done = wait_and_download(client, job_id, args.output.as_deref(), args.force, args.timeout, &bar);
    bar.finish();
    let (job, path, size) = failed_as_json(done, args.json)?;
    report(&job, &path, size, args.json)
}

/// Waits for `job_id` (showing its progress on `bar`), then downloads its output to `out`
/// (or its default name). Shared by `run --job` and `jobs download --wait`.
pub(crate) fn wait_and_download(
    client: &Client,
    job_id: &str,
    out: Option<&Path>,
    force: bool,
    timeout: u64,
    bar: &StageBar,
) -> Result<(Job, PathBuf, u64), Failure> {
    // Queued until seen running or finished; never back (as `process` reports).
    let mut started = false;
    let options = WaitOptions::default().timeout(Duration::from_secs(timeout)).on_update(|job: &Job| {
        started |= matches!(job.status, JobStatus::Processing | JobStatus::Completed | JobStatus::Failed);
        bar.show(if started { Stage::Processing } else { Stage::Queued }, job.progress, None);
    });
    let job = client.wait_for_completion(job_id, options).map_err(|error| {
        let hint = after_failure(&error, job_id, out);
        Failure(format!("{}{hint}", error_chain(&error)), status_of(&error))
    })?;
    let (path, size) = download(client, &job, out, force, bar)?;
    Ok((job, path, size))
}

/// Downloads a completed job's output to `out` (a file, or a folder for its default name),
/// resuming after breaks, with bytes and rate on `bar`.
pub(crate) fn download(
    client: &Client,
    job: &Job,
    out: Option<&Path>,
    force: bool,
    bar: &StageBar,
) -> Result<(PathBuf, u64), Failure> {
    let name = format!(
        "{}-nobg.{}",
        job.id.replace(['/', '\\'], "_"),
        extension(&job.output_format.clone().unwrap_or_default())
    );
    let path = output_path(out, &name, force)?;
    ui::discard_partial_download_of(&path);
    let download = client.download_output(job)?;
    let size =
        download.progress(|bytes| bar.show(Stage::Downloading, None, Some(bytes))).to_path(&path).map_err(|error| {
            let again = format!("removebgvideo jobs download {} -o {}", job.id, path.display());
            Failure(format!("{}\nthe job's output is still there; fetch it with: {again}", error_chain(&error)), 1)
        })?;
    Ok((path, size))
}
