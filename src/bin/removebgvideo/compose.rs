//! `compose`: a transparent output drawn on a colour, an image or a video with the system's
//! ffmpeg, locally, spending no credits (over `removebgvideo::compose`).

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use removebgvideo::compose::{AudioFrom, Backdrop, ComposeError, Composer, Input, Output, Quality};
use removebgvideo::models::{Anchor, Canvas, Offset};

use crate::{error_chain, Failure};

/// `removebgvideo compose`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The transparent foreground: VP9 WebM with alpha, ProRes 4444 MOV, GIF, WebP, or a folder
    /// or .zip of PNG frames.
    input: PathBuf,
    /// The output: .mp4, .webm, .mov, or a folder for PNG frames.
    output: PathBuf,
    /// The background: `#RRGGBB`, `r,g,b` (0 to 1), an image or video file, or `none`.
    #[arg(long, short)]
    background: String,
    /// The canvas, WIDTHxHEIGHT (default the foreground's size).
    #[arg(long)]
    canvas: Option<String>,
    /// Where the foreground sits: center, top-left, bottom-center, …
    #[arg(long)]
    anchor: Option<String>,
    /// The foreground's size relative to its own (default 1).
    #[arg(long)]
    scale: Option<f64>,
    /// X,Y in canvas pixels, added after the anchor (y down).
    #[arg(long, allow_hyphen_values = true)]
    offset: Option<String>,
    /// draft, standard or high.
    #[arg(long, default_value = "standard")]
    quality: String,
    /// Whose sound to keep: none, foreground or background.
    #[arg(long, default_value = "none")]
    audio: String,
    /// Print the ffmpeg command and run nothing.
    #[arg(long)]
    dry_run: bool,
}

fn usage(error: ComposeError) -> Failure {
    Failure::usage(error_chain(&error))
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let mut composer =
        Composer::new(Input::detect(&args.input).map_err(usage)?, Output::detect(&args.output).map_err(usage)?)
            .background(args.background.parse::<Backdrop>().map_err(usage)?);
    if let Some(canvas) = &args.canvas {
        composer = composer.canvas(canvas.parse::<Canvas>().map_err(usage)?);
    }
    if let Some(anchor) = &args.anchor {
        composer = composer.anchor(Anchor::from(anchor.as_str()));
    }
    if let Some(scale) = args.scale {
        composer = composer.scale(scale);
    }
    if let Some(offset) = &args.offset {
        composer = composer.offset(offset.parse::<Offset>().map_err(usage)?);
    }
    composer = composer.quality(match args.quality.as_str() {
        "draft" => Quality::Draft,
        "standard" => Quality::Standard,
        "high" => Quality::High,
        other => return Err(Failure::usage(format!("--quality {other:?}: expected draft, standard or high"))),
    });
    composer = composer.audio(match args.audio.as_str() {
        "none" => AudioFrom::Nothing,
        "foreground" => AudioFrom::Foreground,
        "background" => AudioFrom::Background,
        other => return Err(Failure::usage(format!("--audio {other:?}: expected none, foreground or background"))),
    });
    if args.dry_run {
        let command = composer.dry_run().map_err(usage)?;
        println!("{}", command.iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" "));
        return Ok(0);
    }
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("composing {wide_bar} {percent:>3}%")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let done = composer.run_with_progress(|progress| {
        if let Some(fraction) = progress.fraction() {
            // A fraction from 0 to 1, shown in thousandths.
            bar.set_position((fraction.clamp(0.0, 1.0) * 1000.0).round() as u64);
        }
    });
    bar.finish_and_clear();
    let path = done.map_err(|error| Failure(error_chain(&error), 1))?;
    println!("{}", path.display());
    Ok(0)
}
