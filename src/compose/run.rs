//! A running ffmpeg: progress from its stdout, the tail of its stderr, cancellation, and the
//! partial output moved into place on success or removed otherwise.

use std::ffi::OsString;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::{exists, io, ComposeError};
use super::ffmpeg::Ffmpeg;
use super::output::Output;
use super::progress::{Progress, ProgressReader};
use super::tail::read_tail;
use super::temp::TempDir;

/// Everything a run needs, made by `Composer::plan`.
pub(crate) struct Plan {
    pub(crate) ffmpeg: Ffmpeg,
    /// The arguments after the program's name, up to the output's target (and without `-y`).
    pub(crate) args: Vec<OsString>,
    pub(crate) output: Output,
    pub(crate) overwrite: bool,
    pub(crate) stall: Duration,
    pub(crate) total: Option<Duration>,
    /// Frames unpacked from a zip; they must outlive ffmpeg.
    pub(crate) unpacked: Option<TempDir>,
}

/// A composition in progress, from [`Composer::spawn`](super::Composer::spawn).
///
/// Wait for it with [`wait`](Rendering::wait) or [`wait_with_progress`](Rendering::wait_with_progress);
/// stop it from anywhere with a [`Canceller`]. Dropping it before it has finished stops
/// ffmpeg and removes the partial output. While it is waited on, ffmpeg that writes no new
/// frame for [`Limits::stall`](super::Limits::stall) is stopped.
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
    /// Each progress report, with when it was read.
    progress: Option<mpsc::Receiver<(Instant, Progress)>>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
    stall: Duration,
    total: Option<Duration>,
    output: Output,
    overwrite: bool,
    /// `None` once the output is in place or removed: nothing is left for `drop`.
    partial: Option<Partial>,
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
        let partial = Partial::create(&plan.output)?;
        let mut command = plan.ffmpeg.command();
        command
            .arg("-y")
            .args(&plan.args)
            .args(plan.output.target_args(&partial.path))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // ffmpeg is started by the thread that reads its stderr, which lives as long as ffmpeg
        // does: on Linux ffmpeg dies with the thread that started it (see `Ffmpeg`).
        let (started, child) = mpsc::channel();
        let stderr =
            std::thread::Builder::new().name("removebgvideo-ffmpeg".into()).spawn(move || match command.spawn() {
                Ok(mut child) => {
                    let stderr = child.stderr.take();
                    let _ = started.send(Ok(child));
                    stderr.map(read_tail).unwrap_or_default()
                }
                Err(error) => {
                    let _ = started.send(Err(error));
                    String::new()
                }
            });
        let stderr = match stderr {
            Ok(stderr) => stderr,
            Err(source) => {
                partial.remove();
                return Err(io("start a thread to run ffmpeg for", plan.output.path())(source));
            }
        };
        let mut child = match child.recv() {
            Ok(Ok(child)) => child,
            Ok(Err(source)) => {
                partial.remove();
                return Err(ComposeError::FfmpegUnusable { path: plan.ffmpeg.program().to_owned(), source });
            }
            Err(_) => {
                partial.remove();
                let source = std::io::Error::other("the thread starting ffmpeg ended");
                return Err(ComposeError::FfmpegUnusable { path: plan.ffmpeg.program().to_owned(), source });
            }
        };
        let (reported, progress) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let total = plan.total;
            // Ends when ffmpeg exits or is killed (its end of the pipe closes). Every byte is
            // read, so ffmpeg never blocks on a full pipe.
            let reader = std::thread::Builder::new().name("removebgvideo-ffmpeg-progress".into()).spawn(move || {
                let mut reader = ProgressReader::new(total);
                for line in BufReader::new(stdout).split(b'\n') {
                    let Ok(line) = line else { break };
                    if let Some(progress) = reader.line(&String::from_utf8_lossy(&line)) {
                        // Read on when no one listens any more, so that ffmpeg never blocks.
                        let _ = reported.send((Instant::now(), progress));
                    }
                }
            });
            if let Err(source) = reader {
                let _ = child.kill();
                let _ = child.wait();
                partial.remove();
                return Err(io("start a thread to read ffmpeg's progress for", plan.output.path())(source));
            }
        }
        Ok(Self {
            child: Arc::new(Mutex::new(child)),
            cancelled: Arc::new(AtomicBool::new(false)),
            progress: Some(progress),
            stderr: Some(stderr),
            started: Instant::now(),
            stall: plan.stall,
            total: plan.total,
            output: plan.output,
            overwrite: plan.overwrite,
            partial: Some(partial),
            _unpacked: plan.unpacked,
        })
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
    /// [`ComposeError::Stalled`] when ffmpeg wrote no new frame for the stall limit,
    /// [`ComposeError::Cancelled`], [`ComposeError::InvalidInput`] when the output appeared
    /// meanwhile and may not be replaced, or [`ComposeError::Io`] when the output cannot be
    /// moved into place. In every case but success the partial output is gone.
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
        let mut stalled = false;
        if let Some(progress) = self.progress.take() {
            let (mut frames, mut moved) = (0, self.started);
            loop {
                let left = (moved + self.stall).saturating_duration_since(Instant::now());
                match progress.recv_timeout(left) {
                    Ok((at, report)) => {
                        if report.frames > frames {
                            (frames, moved) = (report.frames, at);
                        }
                        on_progress(report);
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        stalled = true;
                        let _ = self.child.lock().unwrap_or_else(PoisonError::into_inner).kill();
                        break;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
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
        if stalled {
            self.discard();
            return Err(ComposeError::Stalled { after: self.stall, stderr_tail });
        }
        if !status.success() {
            self.discard();
            return Err(ComposeError::Failed { status: status.to_string(), stderr_tail });
        }
        let Some(partial) = self.partial.take() else { return Err(ComposeError::Cancelled) };
        let path = self.output.path().to_owned();
        match partial.settle(&self.output, self.overwrite) {
            Ok(()) => Ok(path),
            Err(error) => {
                partial.remove();
                Err(error)
            }
        }
    }

    /// Stops ffmpeg if it still runs and removes the partial output.
    fn discard(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
        drop(child);
        if let Some(partial) = self.partial.take() {
            partial.remove();
        }
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        if self.partial.is_some() {
            self.cancelled.store(true, Ordering::SeqCst);
            self.discard();
        }
    }
}

/// Where ffmpeg writes until it has finished: a hidden file or folder beside the output, created
/// here under a name no one else holds, so removing it never removes anyone's data.
#[derive(Debug)]
struct Partial {
    path: PathBuf,
    folder: bool,
}

impl Partial {
    fn create(output: &Output) -> Result<Self, ComposeError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = output.path();
        let name = path.file_name().map_or_else(|| "output".into(), |name| name.to_string_lossy().into_owned());
        let folder = matches!(output, Output::PngFrames(_));
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let partial = path.with_file_name(format!(".{name}.removebgvideo-{}-{n}.part", std::process::id()));
            let created = if folder {
                std::fs::create_dir(&partial)
            } else {
                std::fs::OpenOptions::new().write(true).create_new(true).open(&partial).map(drop)
            };
            match created {
                Ok(()) => return Ok(Self { path: std::path::absolute(&partial).unwrap_or(partial), folder }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io("create the partial output", partial)(error)),
            }
        }
    }

    /// Moves the finished output into place, replacing an existing one only when `overwrite`
    /// (an empty folder stands in for frames in any case).
    fn settle(&self, output: &Output, overwrite: bool) -> Result<(), ComposeError> {
        let path = output.path();
        let moved = if self.folder {
            // Only an empty folder is removed (remove_dir refuses any other).
            let _ = std::fs::remove_dir(path);
            std::fs::rename(&self.path, path)
        } else if overwrite {
            std::fs::rename(&self.path, path)
        } else {
            // A link fails when the output exists, so nothing written meanwhile is replaced.
            match std::fs::hard_link(&self.path, path) {
                Ok(()) => std::fs::remove_file(&self.path),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Err(error),
                // A file system without hard links: look, then move.
                Err(_) if path.symlink_metadata().is_ok() => {
                    Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
                }
                Err(_) => std::fs::rename(&self.path, path),
            }
        };
        moved.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                exists(path)
            } else {
                io("move the finished output to", path)(source)
            }
        })
    }

    fn remove(self) {
        let _ = if self.folder { std::fs::remove_dir_all(&self.path) } else { std::fs::remove_file(&self.path) };
    }
}
