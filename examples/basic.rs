//! Create a job from a video URL and wait for it (the official SDK's `examples/basic.py`).
//!
//! ```text
//! REMOVEBGVIDEO_API_KEY=... cargo run --example basic -- https://cdn.example.com/input.mp4
//! ```
//!
//! `REMOVEBGVIDEO_BASE_URL` points it at another server (staging, a simulator).

use std::process::ExitCode;

use removebgvideo::{BgType, Client, CreateJob, Error, Model, OutputFormat, WaitOptions};

const DEFAULT_VIDEO_URL: &str = "https://cdn.example.com/input.mp4";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if matches!(error, Error::Config(_)) { 2 } else { 1 })
        }
    }
}

fn run() -> Result<(), Error> {
    let video_url = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_VIDEO_URL.to_owned());
    let client = Client::from_env()?;

    let job = client.create_job(
        &CreateJob::new(video_url)
            .model(Model::Original)
            .bg_type(BgType::Transparent)
            .output_format(OutputFormat::Webm),
    )?;
    println!("created job {} ({})", job.id, job.status.as_ref().map_or("?", |status| status.as_str()));

    let done = client.wait_for_completion(
        &job.id,
        WaitOptions::default().on_update(|job| println!("  {} {:.0}%", job.status, job.progress.unwrap_or(0.0))),
    )?;
    println!("{} {}", done.status, done.output_url.as_deref().unwrap_or("(no output URL)"));
    Ok(())
}
