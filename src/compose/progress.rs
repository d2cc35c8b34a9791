//! How far a composition is, read from ffmpeg's machine-readable `-progress` lines
//! (`frame=…`, `out_time_us=…`, `progress=continue|end`).

use std::time::Duration;

/// The output time ffmpeg has written, of the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Output time written so far.
    pub done: Duration,
    /// The foreground's length, when ffmpeg reported it (a still WebP has none).
    pub total: Option<Duration>,
    /// Whether ffmpeg has written its last progress block.
    pub finished: bool,
    /// Frames written so far.
    pub frames: u64,
}

impl Progress {
    /// `done / total` in 0..=1, when the total is known.
    #[must_use]
    pub fn fraction(&self) -> Option<f64> {
        let total = self.total.filter(|total| !total.is_zero())?;
        Some((self.done.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0))
    }
}

/// Gathers `key=value` lines into one [`Progress`] per block.
#[derive(Debug)]
pub(crate) struct ProgressReader {
    done: Duration,
    total: Option<Duration>,
    frames: u64,
}

impl ProgressReader {
    pub(crate) fn new(total: Option<Duration>) -> Self {
        Self { done: Duration::ZERO, total, frames: 0 }
    }

    /// Reads one line; a block's closing `progress=` line yields its [`Progress`].
    pub(crate) fn line(&mut self, line: &str) -> Option<Progress> {
        let (key, value) = line.trim().split_once('=')?;
        match key {
            "frame" => {
                if let Ok(frames) = value.parse() {
                    self.frames = frames;
                }
                None
            }
            // ffmpeg names it `_ms` for historical reasons; both are microseconds. A value of
            // `N/A` (nothing written yet) keeps the last one.
            "out_time_us" | "out_time_ms" => {
                if let Ok(micros) = value.parse::<u64>() {
                    self.done = Duration::from_micros(micros);
                }
                None
            }
            "progress" => {
                let finished = value == "end";
                let done = match (finished, self.total) {
                    (true, Some(total)) => total.max(self.done),
                    _ => self.done,
                };
                Some(Progress { done, total: self.total, finished, frames: self.frames })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ProgressReader;

    #[test]
    fn blocks_become_progress_and_garbage_is_ignored() {
        let mut reader = ProgressReader::new(Some(Duration::from_secs(4)));
        let lines = ["frame=10", "out_time_us=N/A", "out_time_us=1000000", "garbage", "progress=continue"];
        let seen: Vec<_> = lines.iter().filter_map(|line| reader.line(line)).collect();
        assert_eq!(seen.len(), 1);
        assert_eq!((seen[0].fraction(), seen[0].frames), (Some(0.25), 10));
        let end = reader.line("progress=end").unwrap();
        assert!(end.finished);
        assert_eq!(end.fraction(), Some(1.0));
    }
}
