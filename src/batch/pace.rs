//! Every clock read and every pause of the batch code, through the crate's [`Clock`], so that
//! tests can run a batch on a fast or virtual clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::runtime::CrateRuntime;
use crate::clock::Clock;

/// The longest single pause: a cancel is seen within this.
const SLICE: Duration = Duration::from_millis(100);

/// The batch's clock.
#[derive(Clone)]
pub(crate) struct Pace {
    clock: Arc<dyn Clock>,
    /// The client's runtime, whose timers the clock's pauses run on: batch threads have none.
    runtime: CrateRuntime,
}

impl Pace {
    pub(crate) fn new(clock: Arc<dyn Clock>, runtime: CrateRuntime) -> Self {
        Self { clock, runtime }
    }

    /// The current instant.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Pauses for `duration`, in slices, returning early (with `false`) once `cancelled` is set.
    pub(crate) fn sleep(&self, duration: Duration, cancelled: &AtomicBool) -> bool {
        let end = self.now().checked_add(duration);
        loop {
            if cancelled.load(Ordering::SeqCst) {
                return false;
            }
            let now = self.now();
            let left = match end {
                Some(end) if end > now => end - now,
                Some(_) => return true,
                None => SLICE,
            };
            let pause = left.min(SLICE);
            let slept = self.runtime.block_on(async {
                self.clock.sleep(pause).await;
                Ok(())
            });
            if slept.is_err() {
                // No runtime could start, so no timer: pause the thread itself.
                std::thread::sleep(pause);
            }
        }
    }

    /// Seconds since the Unix epoch on the wall clock: journal times, compared with the jobs'
    /// `created_at` when looking for a lost create.
    pub(crate) fn wall_seconds() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
    }
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace").field("clock", &self.clock).finish_non_exhaustive()
    }
}
