//! The async face: the blocking run on tokio's blocking pool, its ffmpeg stopped when the future
//! is dropped. It holds no logic of its own.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::error::ComposeError;
use super::plan::Composer;
use super::progress::Progress;
use super::run::Canceller;

/// What the future and the blocking task share: how to stop ffmpeg, and whether the future is gone.
#[derive(Default)]
struct Shared {
    canceller: Option<Canceller>,
    dropped: bool,
}

/// Stops ffmpeg when the future is dropped before the run has ended.
struct CancelOnDrop {
    shared: Arc<Mutex<Shared>>,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            shared.dropped = true;
            if let Some(canceller) = &shared.canceller {
                canceller.cancel();
            }
        }
    }
}

impl Composer {
    /// As [`run_with_progress`](Composer::run_with_progress), for async code (with the `client`
    /// feature, which brings tokio): planning and ffmpeg run on tokio's blocking pool, and
    /// `on_progress` is called there. Dropping the future stops ffmpeg and removes the partial
    /// output.
    ///
    /// Needs a tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`run`](Composer::run).
    pub async fn run_async(&self, on_progress: impl FnMut(Progress) + Send + 'static) -> Result<PathBuf, ComposeError> {
        let composer = self.clone();
        let mut guard = CancelOnDrop { shared: Arc::default(), armed: true };
        let shared = Arc::clone(&guard.shared);
        let task = tokio::task::spawn_blocking(move || {
            let rendering = composer.spawn()?;
            {
                let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if shared.dropped {
                    // Dropping the rendering stops ffmpeg and removes what it wrote.
                    return Err(ComposeError::Cancelled);
                }
                shared.canceller = Some(rendering.canceller());
            }
            rendering.wait_with_progress(on_progress)
        });
        let ended = task.await;
        guard.armed = false;
        match ended {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(ComposeError::Cancelled),
        }
    }
}
