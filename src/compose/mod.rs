//! Local composition: a transparent output of the API put on a colour, an image or a video with
//! the system's `ffmpeg`, on the user's machine, spending no credits.
//!
//! Holds the ffmpeg driver (finding it, probing a foreground, building the argument list,
//! running it with progress and cancellation) and the geometry of a [`Composition`](crate::Composition). It may use
//! std, the crate's models and, for zipped PNG frames, the `zip` crate; it needs no HTTP client
//! (it builds with `default-features = false, features = ["compose"]`) and runs ffmpeg through
//! [`std::process::Command`] only. With the `client` feature (which brings tokio) there is also
//! `Composer::run_async`, a thin layer over the blocking run.
//!
//! One direction through the tool, as ffmpeg-sidecar: `plan` (the [`Composer`] builder and the
//! argument list) uses `probe` and `run`; `run` (a started ffmpeg) and `probe` (ffprobe) use
//! `ffmpeg` (finding the programs) and `tail` (the end of their stderr); nothing points back.
//!
//! ```no_run
//! use removebgvideo::compose::{Backdrop, Composer, Input, Output};
//! use removebgvideo::models::Anchor;
//! use removebgvideo::Composition;
//!
//! // A finished transparent job, previewed on two backgrounds.
//! let layout = Composition::new(1280, 720).anchor(Anchor::BottomCenter).scale(0.8).offset(0, -20);
//! for (background, out) in [("#1E90FF", "blue.mp4"), ("beach.jpg", "beach.mp4")] {
//!     Composer::new(Input::detect("person.webm")?, Output::detect(out)?)
//!         .background(background.parse::<Backdrop>()?)
//!         .composition(layout.clone())
//!         .run_with_progress(|progress| eprint!("\r{:.0} %", progress.fraction().unwrap_or(0.0) * 100.0))?;
//! }
//! # Ok::<(), removebgvideo::compose::ComposeError>(())
//! ```
//!
//! # Geometry
//!
//! The API's docs do not define where a [`Composition`](crate::Composition) puts the foreground; this module defines
//! it (see [`Placement`]), and a local preview follows it exactly:
//!
//! - **scale** is relative to the foreground's own size: the drawn size is
//!   `max(1, round(width × scale))` by `max(1, round(height × scale))`;
//! - **anchor** makes the same named point of the canvas and of the scaled foreground coincide
//!   (`top-left` puts the corners together, `center` the centres, `bottom-center` the middles of
//!   the bottom edges); a centre that falls between two pixels is rounded towards the top-left;
//! - **offset** is in canvas pixels, added after: `x` to the right, `y` down.
//!
//! Parts of the foreground that fall outside the canvas are cut off.
//!
//! # What ffmpeg needs
//!
//! ffmpeg and ffprobe (tested with 5.1, Debian 12's), found on `PATH` or set with [`Ffmpeg::at`], with the decoders and
//! encoders the job uses: `libvpx-vp9` to read WebM with alpha (ffmpeg's own VP9 decoder drops
//! the alpha channel without a word), `libx264` for MP4, `libvpx-vp9` for WebM, `prores_ks` for
//! MOV, `png` for frames. Debian's and Homebrew's `ffmpeg` packages have them all. A missing one
//! is a [`ComposeError::Missing`] naming it, before anything runs.
//!
//! # Untrusted input
//!
//! A job's settings and the files a service composes may come from anyone. A job's
//! [`Background`](crate::Background) converts to a [`Backdrop`] only with an `http`/`https` URL,
//! which ffmpeg fetches from the machine that composes (with the `http,https,tcp,tls` protocols
//! only: it reaches what that machine reaches). Local inputs and outputs reach ffmpeg as `file:`
//! and an absolute path with `-protocol_whitelist file`, never as a protocol or a pattern. Inputs
//! are read from ffprobe's JSON and PNG headers, their first frame decoded before a run; zips,
//! pixels and stalls are bounded by [`Limits`]; a foreground without alpha is refused unless
//! [`Composer::allow_opaque`]; an existing output is kept unless [`Composer::overwrite`].

mod backdrop;
mod error;
mod ffmpeg;
mod frames;
mod input;
mod limits;
mod location;
mod output;
mod placement;
mod plan;
mod png;
mod probe;
mod progress;
mod run;
#[cfg(feature = "client")]
mod run_async;
mod spec;
mod tail;
mod temp;
mod zipped;

pub use backdrop::{Backdrop, VideoFit};
pub use error::ComposeError;
pub use ffmpeg::Ffmpeg;
pub use input::Input;
pub use limits::Limits;
pub use output::{Output, Quality};
pub use placement::Placement;
pub use plan::{AudioFrom, Composer};
pub use progress::Progress;
pub use run::{Canceller, Rendering};
