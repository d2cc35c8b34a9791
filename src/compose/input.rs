//! The foreground of a composition: a file or folder with an alpha channel.

use std::path::{Path, PathBuf};

use super::error::{invalid, ComposeError};

/// The default frame rate of PNG frames, which carry none of their own.
pub(crate) const DEFAULT_FRAME_RATE: f64 = 30.0;

/// A foreground with alpha, as the API delivers transparent outputs.
///
/// [`Input::detect`] goes by the file's extension (or sees a folder); the constructors name the
/// kind outright.
///
/// ```
/// use removebgvideo::compose::Input;
///
/// let webm = Input::detect("person.webm")?;
/// let frames = Input::png_frames("frames/").frame_rate(25.0);
/// # let _ = (webm, frames);
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Input {
    /// VP9 (or VP8) WebM with alpha; read with the `libvpx` decoders, because ffmpeg's own VP9
    /// decoder drops the alpha channel.
    Webm(PathBuf),
    /// A MOV with alpha (ProRes 4444).
    Mov(PathBuf),
    /// Numbered PNG frames (`0001.png`, `frame_0001.png`, …) in a folder or a `.zip`.
    PngFrames {
        /// The folder or zip file.
        path: PathBuf,
        /// Frames per second (default 30).
        frame_rate: f64,
    },
    /// An animated GIF (its transparent colour becomes alpha).
    Gif(PathBuf),
    /// A WebP image. ffmpeg before 7.1 reads still WebP only, not animated.
    Webp(PathBuf),
}

impl Input {
    /// The kind named by the extension: `.webm`, `.mov`, `.zip` (PNG frames), `.gif`, `.webp`,
    /// or a folder of PNG frames.
    ///
    /// # Errors
    ///
    /// [`ComposeError::InvalidInput`] for any other extension.
    pub fn detect(path: impl Into<PathBuf>) -> Result<Self, ComposeError> {
        let path = path.into();
        if path.is_dir() {
            return Ok(Self::png_frames(path));
        }
        Ok(match extension(&path).as_deref() {
            Some("webm") => Self::Webm(path),
            Some("mov") => Self::Mov(path),
            Some("zip") => Self::png_frames(path),
            Some("gif") => Self::Gif(path),
            Some("webp") => Self::Webp(path),
            _ => {
                return Err(invalid(
                    "foreground",
                    format!(
                        "{} is not a WebM, MOV, GIF, WebP, zip of PNG frames or folder of PNG frames",
                        path.display()
                    ),
                ))
            }
        })
    }

    /// Numbered PNG frames in a folder or a `.zip`, at 30 frames per second until
    /// [`frame_rate`](Input::frame_rate) says otherwise.
    #[must_use]
    pub fn png_frames(path: impl Into<PathBuf>) -> Self {
        Self::PngFrames { path: path.into(), frame_rate: DEFAULT_FRAME_RATE }
    }

    /// The frame rate of PNG frames (other kinds carry their own and ignore this).
    #[must_use]
    pub fn frame_rate(mut self, fps: f64) -> Self {
        if let Self::PngFrames { frame_rate, .. } = &mut self {
            *frame_rate = fps;
        }
        self
    }

    /// The file or folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Webm(path) | Self::Mov(path) | Self::Gif(path) | Self::Webp(path) => path,
            Self::PngFrames { path, .. } => path,
        }
    }
}

impl Input {
    /// The only demuxer ffmpeg may read this kind with (`-format_whitelist`), so that a file
    /// that is really a playlist (HLS, concat) never makes ffmpeg open other files or URLs.
    pub(crate) fn demuxers(&self) -> &'static str {
        match self {
            Self::Webm(_) => "matroska",
            Self::Mov(_) => "mov",
            Self::Gif(_) => "gif",
            Self::Webp(_) => "webp_pipe",
            Self::PngFrames { .. } => "image2",
        }
    }
}

/// The lower-case extension of `path`.
pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase)
}
