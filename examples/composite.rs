//! Composite a foreground onto a colour background: upload a video, create a draft, start it
//! with a background and a composition, wait, and download the result.
//!
//! ```text
//! cargo run --example composite                      # offline, against the built-in simulator
//! REMOVEBGVIDEO_API_KEY=... cargo run --example composite -- my-video.mp4   # the real API
//! cargo run --example composite -- my-video.mp4 person.webm   # preview a transparent output
//! ```
//!
//! Then it previews the same layout locally on two backgrounds, a colour and a video, with the
//! system's ffmpeg (`removebgvideo::compose`, no job, no credits): on the transparent output given
//! as the second argument (a WebM or MOV from a finished transparent job), or else on the
//! transparent WebM that a finished job downloads from the simulator (a tiny 64x48 clip with
//! alpha). Without ffmpeg the preview is skipped with a note on what to install.
//!
//! The docs pass `composition` when a draft is started, so the job is created with
//! `auto_start(false)` and started with the layout. A colour background suits mp4 output;
//! transparency needs webm, mov, gif, webp or png_sequence. Without `REMOVEBGVIDEO_API_KEY` it
//! runs against [`removebgvideo::simulator::Simulator`] on 127.0.0.1 and says so first.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use removebgvideo::client::API_KEY_ENV;
use removebgvideo::compose::{Backdrop, ComposeError, Composer, Ffmpeg, Input, Output, Quality};
use removebgvideo::models::Anchor;
use removebgvideo::simulator::Simulator;
use removebgvideo::{Background, Client, Composition, CreateJob, Error, Model, OutputFormat, StartJob, WaitOptions};

const SAMPLE_VIDEO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");

fn main() -> ExitCode {
    if let Err(error) = run() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    match preview(std::env::args_os().nth(2).map(PathBuf::from)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ (ComposeError::FfmpegNotFound { .. } | ComposeError::Missing { .. })) => {
            println!("skipped the local preview: {error}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    // The simulator, when used, must outlive the client's calls.
    let (_simulator, client) = connect()?;
    let video = std::env::args_os().nth(1).map_or_else(|| PathBuf::from(SAMPLE_VIDEO), PathBuf::from);

    let upload = client.upload(&video).send()?;
    println!("uploaded {} -> {}", video.display(), upload.video_url);

    // A draft: nothing is processed (or charged) until it is started.
    let draft = client.create_job(
        &CreateJob::new(&upload.video_url).model(Model::Human).output_format(OutputFormat::Mp4).auto_start(false),
    )?;
    println!("created draft {} ({})", draft.id, draft.status.as_ref().map_or("no status", |status| status.as_str()));

    // A 1080p canvas in dodger blue, the person at 80 % size standing on the bottom edge.
    let layout = layout();
    let started =
        client.start_job(&draft.id, &StartJob::new().background(Background::hex("#1E90FF")).composition(layout))?;
    println!("started {}", started.id);

    let done = client.wait_for_completion(&draft.id, WaitOptions::default().interval(Duration::from_millis(500)))?;
    let output = PathBuf::from(format!("removebgvideo-composite-{}.mp4", done.id.replace(['/', '\\'], "_")));
    let bytes = client.download_output(&done)?.to_path(&output)?;
    println!("downloaded {} ({bytes} bytes)", output.display());
    Ok(())
}

/// The real API when a key is set, the built-in simulator otherwise; the first line printed
/// says which.
fn connect() -> Result<(Option<Simulator>, Client), Error> {
    if std::env::var_os(API_KEY_ENV).is_some() {
        let client = Client::from_env()?;
        println!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url());
        return Ok((None, client));
    }
    let simulator = Simulator::builder().polls_to_complete(3).start().map_err(|source| Error::Io {
        action: "could not start the simulator on",
        path: PathBuf::from("127.0.0.1"),
        source,
    })?;
    println!("No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.", simulator.base_url());
    let client = simulator.client()?;
    Ok((Some(simulator), client))
}

/// The layout of the job, which the local preview follows too.
fn layout() -> Composition {
    Composition::new(1920, 1080).anchor(Anchor::BottomCenter).scale(0.8).offset(0, -40)
}

/// The job's layout on two backgrounds, composed locally: no job, no credits.
fn preview(transparent: Option<PathBuf>) -> Result<(), ComposeError> {
    let ffmpeg = Ffmpeg::locate()?;
    let (_folder, foreground) = match transparent {
        Some(path) => (None, Input::detect(path)?),
        None => {
            let folder = tempfile::tempdir().map_err(|source| ComposeError::Io {
                action: "create a temporary folder in",
                path: std::env::temp_dir(),
                source,
            })?;
            let path = folder.path().join("simulator-output.webm");
            let bytes = removebgvideo::simulator::output_asset("webm").unwrap_or_default();
            std::fs::write(&path, bytes).map_err(|source| ComposeError::Io {
                action: "write the simulator's transparent output to",
                path: path.clone(),
                source,
            })?;
            (Some(folder), Input::Webm(path))
        }
    };
    let backgrounds = [
        (Backdrop::hex("#1E90FF")?, "removebgvideo-preview-blue.mp4"),
        (Backdrop::video(SAMPLE_VIDEO), "removebgvideo-preview-video.mp4"),
    ];
    for (background, name) in backgrounds {
        let composer = Composer::new(foreground.clone(), Output::Mp4(name.into()))
            .ffmpeg(ffmpeg.clone())
            .background(background)
            .composition(layout())
            .quality(Quality::Draft)
            // The example's own preview files, replaced from run to run.
            .overwrite(true);
        let written = composer.run_with_progress(|progress| {
            if let Some(fraction) = progress.fraction() {
                print!("\rpreviewing {name}: {:3.0} %", fraction * 100.0);
                let _ = std::io::Write::flush(&mut std::io::stdout());
            }
        })?;
        println!("\rpreviewed locally (no credits) -> {}", written.display());
    }
    Ok(())
}
