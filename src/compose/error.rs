//! What can go wrong in a local composition.

use std::path::PathBuf;

/// How to get an ffmpeg that has everything this module uses.
const INSTALL: &str =
    "Debian/Ubuntu: `apt-get install ffmpeg`, macOS: `brew install ffmpeg`, Windows: `winget install ffmpeg`";

/// A local composition that could not be planned, run or finished.
///
/// Each message says what to do about it; [`Failed`](ComposeError::Failed) carries the end of
/// ffmpeg's own error output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComposeError {
    /// No ffmpeg on `PATH` (or at the path given).
    #[error("ffmpeg was not found ({searched}); install it ({INSTALL}) or give its path with Ffmpeg::at")]
    FfmpegNotFound {
        /// Where it was looked for.
        searched: String,
    },

    /// The ffmpeg found could not be run, or did not answer like ffmpeg.
    #[error("{} could not be run as ffmpeg", path.display())]
    FfmpegUnusable {
        /// The program that was tried.
        path: PathBuf,
        /// Why it could not be run.
        #[source]
        source: std::io::Error,
    },

    /// The ffmpeg found lacks a decoder or encoder the composition needs.
    #[error("this ffmpeg has no {component}, which {needed_for} needs; install an ffmpeg built with it ({INSTALL})")]
    Missing {
        /// The missing part, such as "libvpx-vp9 decoder".
        component: String,
        /// What needs it, such as "reading WebM with alpha".
        needed_for: &'static str,
    },

    /// A setting or an input that cannot work or is refused (a local path given as a job's
    /// background URL, a zip over its limits, a canvas over its pixel cap, a foreground without
    /// alpha, an output that exists), refused before ffmpeg runs.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The setting.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },

    /// A [`Composition`](crate::Composition) anchor this version of the crate does not know.
    #[error(
        "unknown anchor {0:?}: local composition knows center, top-left, top-center, top-right, center-left, \
         center-right, bottom-left, bottom-center and bottom-right"
    )]
    UnknownAnchor(String),

    /// A file or folder could not be read or written.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A zip of PNG frames could not be read.
    #[error("could not read the zip of PNG frames {}", path.display())]
    Zip {
        /// The zip file.
        path: PathBuf,
        /// What the zip reader said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// ffprobe could not read a foreground or a background: no video stream, no size, no frame
    /// it can decode, or no answer in time.
    #[error("ffprobe could not read {}: {reason}{}", path.display(), said("ffprobe", stderr_tail))]
    Probe {
        /// The foreground or background.
        path: PathBuf,
        /// What was missing.
        reason: String,
        /// The end of ffprobe's error output (may be empty).
        stderr_tail: String,
    },

    /// ffmpeg wrote no new frame for the stall limit ([`Limits::stall`](super::Limits::stall));
    /// it was stopped and the partial output removed.
    #[error(
        "ffmpeg wrote no new frame for {} s, so it was stopped and the partial output removed{}",
        after.as_secs_f64(),
        said("ffmpeg", stderr_tail)
    )]
    Stalled {
        /// The stall limit that ran out.
        after: std::time::Duration,
        /// The last lines ffmpeg wrote to stderr.
        stderr_tail: String,
    },

    /// ffmpeg ran and failed; the partial output was removed.
    #[error("ffmpeg failed ({status}); the partial output was removed; ffmpeg said: {stderr_tail}")]
    Failed {
        /// How it ended, such as "exit status: 1".
        status: String,
        /// The last lines ffmpeg wrote to stderr.
        stderr_tail: String,
    },

    /// The composition was cancelled (or its [`Rendering`](super::Rendering) dropped); ffmpeg
    /// was stopped and the partial output removed.
    #[error("the composition was cancelled; ffmpeg was stopped and the partial output removed")]
    Cancelled,
}

/// `; ffmpeg said: …`, or nothing when it said nothing.
fn said(tool: &str, stderr_tail: &str) -> String {
    if stderr_tail.trim().is_empty() {
        String::new()
    } else {
        format!("; {tool} said: {stderr_tail}")
    }
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ComposeError {
    ComposeError::InvalidInput { field, reason: reason.into() }
}

/// The refusal of an output that exists.
pub(crate) fn exists(path: &std::path::Path) -> ComposeError {
    invalid("output", format!("{} exists; allow overwriting to replace it", path.display()))
}

pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ComposeError {
    let path = path.into();
    move |source| ComposeError::Io { action, path, source }
}
