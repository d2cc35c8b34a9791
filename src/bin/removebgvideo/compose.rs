//! `compose`: a transparent output drawn on a colour, an image or a video with the system's
//! ffmpeg, locally, spending no credits (over `removebgvideo::compose`). SIGINT and SIGTERM
//! stop ffmpeg through the library's cancel (its partial output removed; exit status 130).

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressStyle};
use removebgvideo::compose::{AudioFrom, Backdrop, Canceller, ComposeError, Composer, Input, Output, Quality};
use removebgvideo::models::{Anchor, Canvas, Offset};

use crate::failure::{error_chain, Failure};
use crate::ui;

/// The exit status of a composition stopped by SIGINT or SIGTERM (128 + SIGINT, as shells do).
const INTERRUPTED: u8 = 130;

/// `removebgvideo compose`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The transparent foreground: VP9 WebM with alpha, ProRes 4444 MOV, GIF, WebP, or a folder
    /// or .zip of PNG frames.
    input: PathBuf,
    /// The output (an earlier spelling of --output).
    #[arg(hide = true, conflicts_with = "output")]
    output_positional: Option<PathBuf>,
    /// The output: .mp4, .webm, .mov, or a folder for PNG frames.
    #[arg(long, short, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The background: `#RRGGBB`, `r,g,b` (0 to 1), an image or video file or http(s) URL, or
    /// `none`. A URL is fetched by ffmpeg from this machine.
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
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
    /// The foreground has no alpha channel, and that is intended (it hides the background).
    #[arg(long)]
    opaque: bool,
    /// Print the ffmpeg command (quoted for a POSIX shell) and run nothing.
    #[arg(long)]
    dry_run: bool,
}

fn usage(error: ComposeError) -> Failure {
    failure(&error)
}

/// The error, with the flag that allows what was refused, and its exit status.
fn failure(error: &ComposeError) -> Failure {
    let flag = match error {
        ComposeError::InvalidInput { field: "output", reason } if reason.contains("allow overwriting") => " (--force)",
        ComposeError::InvalidInput { field: "foreground", reason } if reason.contains("allow an opaque") => {
            " (--opaque)"
        }
        _ => "",
    };
    Failure(format!("{}{flag}", error_chain(error)), exit_status(error))
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let Some(output) = args.output.as_ref().or(args.output_positional.as_ref()) else {
        return Err(Failure::usage("give the output with -o/--output OUT"));
    };
    let mut composer =
        Composer::new(Input::detect(&args.input).map_err(usage)?, Output::detect(output).map_err(usage)?)
            .background(args.background.parse::<Backdrop>().map_err(usage)?)
            .overwrite(args.force)
            .allow_opaque(args.opaque);
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
        let mut line = Vec::new();
        if let Output::PngFrames(folder) = Output::detect(output).map_err(usage)? {
            // ffmpeg writes frames into a folder that exists.
            line.extend(quoted(&["mkdir".into(), "-p".into(), "--".into(), folder.into_os_string()])?);
            line.extend(b" && ");
        }
        line.extend(quoted(&command)?);
        line.push(b'\n');
        std::io::stdout().write_all(&line).map_err(|e| Failure(format!("could not write the command: {e}"), 1))?;
        return Ok(0);
    }
    compose(&composer)
}

/// `words` joined into one line a POSIX shell reads back as the same words.
fn quoted(words: &[OsString]) -> Result<Vec<u8>, Failure> {
    shlex::bytes::try_join(words.iter().map(|word| word.as_encoded_bytes()))
        .map_err(|error| Failure(format!("the command cannot be quoted for a shell: {error}"), 1))
}

/// What the signal handler and the run share.
#[derive(Default)]
struct Interrupt {
    signalled: AtomicBool,
    canceller: Mutex<Option<Canceller>>,
}

impl Interrupt {
    fn signal(&self) {
        let again = self.signalled.swap(true, Ordering::SeqCst);
        match &*self.canceller.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(canceller) => canceller.cancel(),
            // Still reading the inputs (ffprobe on a slow URL may take a while): a second signal
            // ends at once; ffprobe dies with this process.
            None if again => std::process::exit(i32::from(INTERRUPTED)),
            None => ui::note("stopping once the inputs are read; Ctrl-C again stops at once"),
        }
    }

    /// From now on a signal stops this run; one that came before stops it at once.
    fn watch(&self, canceller: Canceller) {
        let mut slot = self.canceller.lock().unwrap_or_else(PoisonError::into_inner);
        if self.signalled.load(Ordering::SeqCst) {
            canceller.cancel();
        }
        *slot = Some(canceller);
    }
}

/// Runs the composition with a progress bar; SIGINT and SIGTERM cancel it (ffmpeg is stopped
/// and reaped, the partial output removed) and end the command with status 130.
fn compose(composer: &Composer) -> Result<u8, Failure> {
    let interrupt = Arc::new(Interrupt::default());
    let handler = Arc::clone(&interrupt);
    if let Err(error) = ctrlc::set_handler(move || handler.signal()) {
        ui::note(format!("note: Ctrl-C will stop ffmpeg abruptly ({error}); its partial output may be left behind"));
    }
    let interrupted = || Failure("stopped: ffmpeg was stopped and the partial output removed".to_owned(), INTERRUPTED);
    let rendering = match composer.spawn() {
        Ok(rendering) => rendering,
        Err(_) if interrupt.signalled.load(Ordering::SeqCst) => return Err(interrupted()),
        Err(error) => return Err(failure(&error)),
    };
    interrupt.watch(rendering.canceller());
    let bar = if ui::quiet() { ProgressBar::hidden() } else { ProgressBar::new(1000) };
    bar.set_style(
        ProgressStyle::with_template("composing {wide_bar} {percent:>3}%")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Off a terminal no bar is drawn: a log gets a line at each tenth instead.
    let plain = !ui::quiet() && !std::io::stderr().is_terminal();
    let mut tenths_shown = None;
    let done = rendering.wait_with_progress(|progress| {
        let Some(fraction) = progress.fraction() else { return };
        // A fraction from 0 to 1, shown in thousandths.
        let thousandths = (fraction.clamp(0.0, 1.0) * 1000.0).round() as u64;
        bar.set_position(thousandths);
        if plain && tenths_shown < Some(thousandths / 100) {
            tenths_shown = Some(thousandths / 100);
            eprintln!("composing: {}%", thousandths / 10);
        }
    });
    bar.finish_and_clear();
    match done {
        Ok(path) => {
            println!("{}", path.display());
            Ok(0)
        }
        Err(ComposeError::Cancelled) => Err(interrupted()),
        Err(error) => Err(failure(&error)),
    }
}

/// 2 for a refused setting or input, 1 for the rest.
fn exit_status(error: &ComposeError) -> u8 {
    match error {
        ComposeError::InvalidInput { .. } | ComposeError::UnknownAnchor(_) => 2,
        _ => 1,
    }
}
