//! The whole pipeline in one run: upload a video, create a background-removal job, wait for
//! it with a progress bar, download the result into the current directory.
//!
//! ```text
//! cargo run --example quickstart                      # offline, against the built-in simulator
//! REMOVEBGVIDEO_API_KEY=... cargo run --example quickstart -- my-video.mp4   # the real API
//! ```
//!
//! Without `REMOVEBGVIDEO_API_KEY` it starts [`removebgvideo::simulator::Simulator`] on
//! 127.0.0.1, so it needs no key and no network. `REMOVEBGVIDEO_BASE_URL` points a real run at
//! another server (staging). With no path argument it uploads the small sample video shipped
//! in `examples/assets/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use removebgvideo::client::{TransferProgress, API_KEY_ENV};
use removebgvideo::simulator::Simulator;
use removebgvideo::{BgType, Client, CreateJob, Error, Job, Model, OutputFormat, WaitOptions};

const SAMPLE_VIDEO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if matches!(error, Error::Config(_) | Error::InvalidInput { .. }) { 2 } else { 1 })
        }
    }
}

/// Where the run happens: the simulator lives as long as the client talks to it.
enum Target {
    Simulator(Simulator),
    RealApi,
}

fn run() -> Result<(), Error> {
    let started = Instant::now();
    let (target, client) = connect()?;
    let video = std::env::args_os().nth(1).map_or_else(|| PathBuf::from(SAMPLE_VIDEO), PathBuf::from);

    let upload = upload(&client, &video)?;
    let job = client.create_job(
        &CreateJob::new(&upload.video_url)
            .model(Model::Human)
            .bg_type(BgType::Transparent)
            .output_format(OutputFormat::Webm),
    )?;
    println!("created job {}", job.id);

    let done = wait(&client, &job.id, &target)?;
    let (output, bytes) = download(&client, &done)?;

    println!();
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    println!("  job      {} ({})", done.id, done.status);
    println!("  input    {} ({})", video.display(), size_of_file(&video));
    println!("  output   {} ({bytes} bytes)", output.display());
    if let Target::Simulator(simulator) = &target {
        println!("  server   the simulator answered {} requests", simulator.requests().len());
        println!("  (the simulator's output is a real, tiny VP9 WebM with alpha; set {API_KEY_ENV} for a real run)");
    }
    Ok(())
}

/// The real API when a key is set, the built-in simulator otherwise. The first line printed
/// always says which.
fn connect() -> Result<(Target, Client), Error> {
    if std::env::var_os(API_KEY_ENV).is_some() {
        let client = Client::from_env()?;
        println!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url());
        return Ok((Target::RealApi, client));
    }
    // Ten polls to finish, so the progress bar has something to show.
    let simulator = Simulator::builder().polls_to_complete(10).start().map_err(|source| Error::Io {
        action: "could not start the simulator on",
        path: PathBuf::from("127.0.0.1"),
        source,
    })?;
    println!("No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.", simulator.base_url());
    let client = simulator.client()?;
    Ok((Target::Simulator(simulator), client))
}

fn upload(client: &Client, video: &Path) -> Result<removebgvideo::models::Upload, Error> {
    let bar = bytes_bar(&format!("uploading {}", file_name(video)));
    let upload = client.upload(video).progress(shown_on(&bar)).send()?;
    bar.finish_and_clear();
    println!("uploaded {} -> {}", video.display(), upload.video_url);
    Ok(upload)
}

fn wait(client: &Client, job_id: &str, target: &Target) -> Result<Job, Error> {
    let bar = ProgressBar::new(100).with_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos:>3}% {elapsed}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message("waiting");
    let interval = match target {
        Target::Simulator(_) => Duration::from_millis(250),
        Target::RealApi => Duration::from_secs(2),
    };
    let options = WaitOptions::default().interval(interval).on_update(|job| {
        bar.set_message(job.status.to_string());
        // Progress is a percentage; a negative or NaN value from the server shows as 0.
        bar.set_position(job.progress.unwrap_or(0.0).clamp(0.0, 100.0) as u64);
    });
    let outcome = client.wait_for_completion(job_id, options);
    match &outcome {
        Ok(_) => bar.finish_with_message("completed"),
        Err(_) => bar.abandon_with_message("stopped"),
    }
    outcome
}

fn download(client: &Client, job: &Job) -> Result<(PathBuf, u64), Error> {
    let output = PathBuf::from(output_file_name(job));
    let bar = bytes_bar(&format!("downloading {}", output.display()));
    let bytes = client.download_output(job)?.progress(shown_on(&bar)).to_path(&output)?;
    bar.finish_and_clear();
    Ok((output, bytes))
}

fn bytes_bar(message: &str) -> ProgressBar {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A transfer progress callback that moves `bar`.
fn shown_on(bar: &ProgressBar) -> impl FnMut(TransferProgress) + Send + 'static + use<> {
    let bar = bar.clone();
    move |progress| {
        if let Some(total) = progress.total {
            bar.set_length(total);
        }
        bar.set_position(progress.done);
    }
}

/// The output URL's own file name (`job_123.webm`), so a rerun never overwrites another job's.
fn output_file_name(job: &Job) -> String {
    let from_url = job
        .output_url
        .as_deref()
        .and_then(|url| url.split(['?', '#']).next())
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty() && !name.starts_with('.'));
    match from_url {
        Some(name) => format!("removebgvideo-{name}"),
        None => format!("removebgvideo-{}.out", job.id.replace(['/', '\\'], "_")),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

fn size_of_file(path: &Path) -> String {
    std::fs::metadata(path).map_or_else(|_| "size unknown".to_owned(), |meta| format!("{} bytes", meta.len()))
}
