//! A running ffmpeg: progress from its stdout, the tail of its stderr, cancellation, and the
//! partial output moved into place on success or removed otherwise.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::{io, ComposeError};
use super::output::Output;
use super::plan::Plan;
use super::progress::{Progress, ProgressReader};
use super::temp::TempDir;

/// How many of ffmpeg's last stderr lines an error quotes.
const TAIL_LINES: usize = 12;
/// How many characters of them at most.
const TAIL_CHARS: usize = 2_000;

/// A composition in progress, from [`Composer::spawn`](super::Composer::spawn).
///
/// Wait for it with [`wait`](Rendering::wait) or [`wait_with_progress`](Rendering::wait_with_progress);
/// stop it from anywhere with a [`Canceller`]. Dropping it before it has finished stops
/// ffmpeg and removes the partial output.
///
/// ```no_run
/// use removebgvideo::compose::{Composer, ComposeError, Input, Output};
///
/// let rendering = Composer::new(Input::detect("person.webm")?, Output::detect("person.mov")?).spawn()?;
/// let stop = rendering.canceller();
/// ctrlc_like_hook(move || stop.cancel());
/// match rendering.wait_with_progress(|progress| println!("{:?} of {:?}", progress.done, progress.total)) {
///     Err(ComposeError::Cancelled) => println!("stopped; nothing left behind"),
///     other => println!("{:?}", other?),
/// }
/// # fn ctrlc_like_hook(_: impl Fn() + Send + 'static) {}
/// # Ok::<(), ComposeError>(())
/// ```
pub struct Rendering {
    child: Arc<Mutex<Child>>,
    cancelled: Arc<AtomicBool>,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    total: Option<Duration>,
    output: Output,
    /// Set once the output is in place (or already removed): nothing is left for `drop`.
    settled: bool,
    _unpacked: Option<TempDir>,
}

/// Stops a [`Rendering`] from another thread (a Ctrl-C handler, a UI button); cheap to clone.
#[derive(Clone)]
pub struct Canceller {
    child: Arc<Mutex<Child>>,
    cancelled: Arc<AtomicBool>,
}

impl fmt::Debug for Rendering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendering").field("output", &self.output).field("total", &self.total).finish_non_exhaustive()
    }
}

impl fmt::Debug for Canceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canceller").field("cancelled", &self.cancelled.load(Ordering::Relaxed)).finish()
    }
}

impl Canceller {
    /// Stops ffmpeg; the waiting side returns [`ComposeError::Cancelled`] and removes the
    /// partial output. Cancelling a finished composition does nothing.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // Killing an exited (or already reaped) child is harmless: std refuses to signal a
        // process it has reaped, so no other process can be hit.
        let _ = self.child.lock().unwrap_or_else(PoisonError::into_inner).kill();
    }
}

impl Rendering {
    pub(crate) fn start(plan: Plan) -> Result<Self, ComposeError> {
        let partial = plan.output.partial();
        if let Output::PngFrames(_) = plan.output {
            // A frames folder left by a crashed run is this composer's own: start it afresh.
            let _ = std::fs::remove_dir_all(&partial);
            std::fs::create_dir(&partial).map_err(io("create the frames folder", &partial))?;
        }
        let spawned = plan
            .ffmpeg
            .command()
            .args(&plan.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ComposeError::FfmpegUnusable { path: plan.ffmpeg.program().to_owned(), source });
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                remove_partial(&plan.output);
                return Err(error);
            }
        };
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().map(|stderr| {
            std::thread::Builder::new().name("removebgvideo-ffmpeg".into()).spawn(move || read_tail(stderr))
        });
        let mut rendering = Self {
            child: Arc::new(Mutex::new(child)),
            cancelled: Arc::new(AtomicBool::new(false)),
            stdout,
            stderr: None,
            total: plan.total,
            output: plan.output,
            settled: false,
            _unpacked: plan.unpacked,
        };
        match stderr {
            Some(Ok(reader)) => rendering.stderr = Some(reader),
            Some(Err(source)) => {
                return Err(io("start a thread to read ffmpeg's errors for", rendering.output.path())(source))
            }
            None => {}
        }
        Ok(rendering)
    }

    /// A handle that stops this composition from elsewhere.
    #[must_use]
    pub fn canceller(&self) -> Canceller {
        Canceller { child: Arc::clone(&self.child), cancelled: Arc::clone(&self.cancelled) }
    }

    /// The output time to write (the foreground's length), when known.
    #[must_use]
    pub fn total(&self) -> Option<Duration> {
        self.total
    }

    /// Waits for ffmpeg and returns the output's path.
    ///
    /// # Errors
    ///
    /// [`ComposeError::Failed`] with the end of ffmpeg's error output,
    /// [`ComposeError::Cancelled`], or [`ComposeError::Io`] when the output cannot be moved into
    /// place. In every case the partial output is gone.
    pub fn wait(self) -> Result<PathBuf, ComposeError> {
        self.wait_with_progress(|_| {})
    }

    /// As [`wait`](Rendering::wait), calling `on_progress` for each progress report ffmpeg
    /// writes (about twice a second, and once at the end).
    ///
    /// # Errors
    ///
    /// As [`wait`](Rendering::wait).
    pub fn wait_with_progress(mut self, mut on_progress: impl FnMut(Progress)) -> Result<PathBuf, ComposeError> {
        if let Some(stdout) = self.stdout.take() {
            let mut reader = ProgressReader::new(self.total);
            // Ends when ffmpeg exits or is killed (its end of the pipe closes). Every byte is
            // read, so ffmpeg never blocks on a full pipe while this side waits for it below.
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if let Some(progress) = reader.line(&String::from_utf8_lossy(&line)) {
                    on_progress(progress);
                }
            }
        }
        let status = self.child.lock().unwrap_or_else(PoisonError::into_inner).wait();
        let stderr_tail = self.stderr.take().and_then(|reader| reader.join().ok()).unwrap_or_default();
        let status = match status {
            Ok(status) => status,
            Err(source) => {
                self.discard();
                return Err(io("wait for ffmpeg writing", self.output.path())(source));
            }
        };
        if self.cancelled.load(Ordering::SeqCst) {
            self.discard();
            return Err(ComposeError::Cancelled);
        }
        if !status.success() {
            self.discard();
            return Err(ComposeError::Failed { status: status.to_string(), stderr_tail });
        }
        let (partial, path) = (self.output.partial(), self.output.path().to_owned());
        if let Output::PngFrames(_) = self.output {
            // An empty folder may stand where the frames go (checked before the run).
            let _ = std::fs::remove_dir(&path);
        }
        let moved = std::fs::rename(&partial, &path).map_err(io("move the finished output to", &path));
        if moved.is_err() {
            self.discard();
        }
        self.settled = true;
        moved.map(|()| path)
    }

    /// Stops ffmpeg if it still runs and removes the partial output.
    fn discard(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
        drop(child);
        remove_partial(&self.output);
        self.settled = true;
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        if !self.settled {
            self.cancelled.store(true, Ordering::SeqCst);
            self.discard();
        }
    }
}

fn remove_partial(output: &Output) {
    let partial = output.partial();
    let _ = match output {
        Output::PngFrames(_) => std::fs::remove_dir_all(&partial),
        _ => std::fs::remove_file(&partial),
    };
}

/// Reads ffmpeg's stderr to the end (so that it never blocks on a full pipe), keeping the end.
fn read_tail(stderr: impl Read) -> String {
    let mut last: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    for line in BufReader::new(stderr).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line).trim_end().to_owned();
        if line.is_empty() {
            continue;
        }
        if last.len() == TAIL_LINES {
            last.pop_front();
        }
        last.push_back(line);
    }
    tail(&Vec::from(last).join("\n"))
}

/// The last lines of `text`, at most [`TAIL_CHARS`] characters.
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let kept = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    let chars = kept.chars().count();
    if chars <= TAIL_CHARS {
        kept
    } else {
        let cut: String = kept.chars().skip(chars - TAIL_CHARS).collect();
        format!("…{cut}")
    }
}

#[cfg(test)]
mod tests {
    use super::{read_tail, tail};

    #[test]
    fn the_tail_keeps_the_last_lines_and_bounds_their_length() {
        let text: String = (0..30).map(|n| format!("line {n}\n")).collect();
        let kept = read_tail(text.as_bytes());
        assert!(kept.starts_with("line 18\n") && kept.ends_with("line 29"));
        let long = "x".repeat(5_000);
        assert_eq!(tail(&long).chars().count(), 2_001);
    }
}
