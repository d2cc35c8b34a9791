//! [`CancelHandle`]: stops a running batch from another thread.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Cancels a running batch from another thread: no new request starts, the requests under way
/// finish and their answers are journaled, then [`Batch::run`](crate::batch::Batch::run)
/// returns with [`Outcome::Cancelled`](crate::batch::Outcome::Cancelled). A cancelled
/// [`Batch`](crate::batch::Batch) stays cancelled; make a new one to run again.
#[derive(Clone, Default)]
pub struct CancelHandle {
    inner: Arc<CancelInner>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").field("cancelled", &self.is_cancelled()).finish()
    }
}

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    wake: Mutex<Option<Weak<dyn Fn() + Send + Sync>>>,
}

impl CancelHandle {
    /// Cancels the batch.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let wake = self.inner.wake.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(Weak::upgrade);
        if let Some(wake) = wake {
            wake();
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.inner.cancelled
    }

    /// Registers what wakes the running batch's waiting threads.
    pub(crate) fn on_cancel(&self, wake: &Arc<dyn Fn() + Send + Sync>) {
        *self.inner.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::downgrade(wake));
    }
}
