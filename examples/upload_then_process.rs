//! Upload a local video, create a job for it and wait (the official SDK's
//! `examples/upload_then_process.py`).
//!
//! ```text
//! REMOVEBGVIDEO_API_KEY=... cargo run --example upload_then_process -- ./input.mp4
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use removebgvideo::{Client, CreateJob, Error, Model, OutputFormat, WaitOptions};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --example upload_then_process -- <video file>");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if matches!(error, Error::Config(_)) { 2 } else { 1 })
        }
    }
}

fn run(path: &std::path::Path) -> Result<(), Error> {
    let client = Client::from_env()?;

    let upload = client.upload(path).send()?;
    println!("uploaded {} -> {}", path.display(), upload.video_url);

    let job =
        client.create_job(&CreateJob::new(&upload.video_url).model(Model::Light).output_format(OutputFormat::Webm))?;
    println!("created job {}", job.id);

    let done = client.wait_for_completion(&job.id, WaitOptions::default())?;
    println!("{} {}", done.status, done.output_url.as_deref().unwrap_or("(no output URL)"));
    Ok(())
}
