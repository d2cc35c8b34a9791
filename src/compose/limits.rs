//! The bounds a composition keeps to, whoever made its inputs.

use std::time::Duration;

/// What a composition refuses to take on, so that an input made by anyone (a zip from a user, a
/// background from a job's settings) cannot fill the disk or memory or keep ffmpeg busy forever.
///
/// The defaults suit previews and finished outputs of the API up to 8K; raise a limit for a
/// larger input you trust.
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::compose::Limits;
///
/// let limits = Limits::default().zip_bytes(8 << 30).stall(Duration::from_secs(300));
/// assert_eq!(limits.zip_entries, 20_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct Limits {
    /// The most bytes a zip of PNG frames may unpack to, counted as they are read (a zip's own
    /// figures are not trusted). Default 2 GiB.
    pub zip_bytes: u64,
    /// The most entries a zip of PNG frames may hold. Default 20,000 (11 minutes at 30 fps).
    pub zip_entries: usize,
    /// The most pixels of the canvas, of the foreground and of a background, each. Default
    /// 8192 × 8192.
    pub pixels: u64,
    /// How long ffmpeg may write no new frame (or ffprobe give no answer) before it is stopped
    /// with [`ComposeError::Stalled`](super::ComposeError::Stalled). Default 60 s.
    pub stall: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { zip_bytes: 2 << 30, zip_entries: 20_000, pixels: 8192 * 8192, stall: Duration::from_secs(60) }
    }
}

impl Limits {
    /// The most bytes a zip of frames may unpack to.
    pub fn zip_bytes(mut self, bytes: u64) -> Self {
        self.zip_bytes = bytes;
        self
    }

    /// The most entries a zip of frames may hold.
    pub fn zip_entries(mut self, entries: usize) -> Self {
        self.zip_entries = entries;
        self
    }

    /// The most pixels of the canvas, the foreground and a background.
    pub fn pixels(mut self, pixels: u64) -> Self {
        self.pixels = pixels;
        self
    }

    /// How long ffmpeg may go without a new frame.
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }
}
