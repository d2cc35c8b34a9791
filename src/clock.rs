//! Time as the crate sees it, so that tests can replace waiting with a virtual clock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A pause, as a [`Clock`] gives it.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where retries and `wait_for_completion` read the time and how they pause, for both the
/// blocking and the async clients.
///
/// The default is [`TokioClock`]. With the `test-util` feature, `ManualClock` records every
/// pause and returns at once, for tests of either client; pass it through
/// [`ClientBuilder::clock`](crate::client::ClientBuilder::clock). (A paused tokio runtime,
/// `#[tokio::test(start_paused = true)]`, also skips pauses, but it jumps to the next timer
/// whenever the runtime waits for I/O, so with real sockets the call timeouts fire early: use
/// `ManualClock` there.)
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
    /// A pause of `duration` (any value, `Duration::MAX` included).
    fn sleep(&self, duration: Duration) -> Sleep;

    /// Asks the clock to call `wake` after every jump it makes, for as long as the caller keeps
    /// `wake` alive (the clock holds it weakly). Returns whether the clock will: a clock that
    /// moves only when told (`ManualClock`) does and returns `true`; a real clock moves on its
    /// own, calls nothing and returns `false` (the default), so a watcher sets its own timer.
    ///
    /// The simulator uses this so that moving a manual clock moves its jobs.
    fn on_advance(&self, wake: &std::sync::Arc<dyn Fn() + Send + Sync>) -> bool {
        let _ = wake;
        false
    }
}

/// The real clock, through tokio's time: `tokio::time::Instant` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        // tokio clamps a deadline past its range to "far in the future" rather than panicking.
        Box::pin(tokio::time::sleep(duration))
    }
}

#[cfg(feature = "test-util")]
pub use manual::ManualClock;

#[cfg(feature = "test-util")]
mod manual {
    use std::sync::{Arc, Mutex, PoisonError, Weak};
    use std::time::{Duration, Instant};

    use super::{Clock, Sleep};

    /// A virtual clock for tests (feature `test-util`): `sleep` returns at once and moves the
    /// clock forward, and every pause is recorded so a test can assert on the schedule.
    ///
    /// ```
    /// use std::time::Duration;
    /// use removebgvideo::clock::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let start = clock.now();
    /// let _ = clock.sleep(Duration::from_secs(2)); // already over: nothing to wait for
    /// assert_eq!(clock.now() - start, Duration::from_secs(2));
    /// assert_eq!(clock.sleeps(), vec![Duration::from_secs(2)]);
    /// ```
    #[derive(Debug, Clone)]
    pub struct ManualClock {
        state: Arc<Mutex<ManualState>>,
    }

    struct ManualState {
        now: Instant,
        sleeps: Vec<Duration>,
        /// Who [`Clock::on_advance`] asked to hear of jumps; dead entries are dropped as met.
        watchers: Vec<Weak<dyn Fn() + Send + Sync>>,
    }

    impl std::fmt::Debug for ManualState {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ManualState")
                .field("now", &self.now)
                .field("sleeps", &self.sleeps)
                .field("watchers", &self.watchers.len())
                .finish()
        }
    }

    impl ManualClock {
        /// A clock that starts now and moves only when slept on or [`advance`](Self::advance)d.
        #[must_use]
        pub fn new() -> Self {
            Self {
                state: Arc::new(Mutex::new(ManualState {
                    now: Instant::now(),
                    sleeps: Vec::new(),
                    watchers: Vec::new(),
                })),
            }
        }

        /// Moves the clock forward without recording a pause (saturating far in the future).
        ///
        /// Whatever watches the clock (a [`Simulator`](crate::simulator::Simulator) built with
        /// it) catches up before this returns: its jobs move and their webhooks are queued.
        pub fn advance(&self, duration: Duration) {
            let watchers = {
                let mut state = self.lock();
                state.now = super::deadline(state.now, duration);
                state.watchers.retain(|w| w.strong_count() > 0);
                state.watchers.clone()
            };
            // Called with the clock unlocked: a watcher reads the time.
            for watcher in watchers.iter().filter_map(Weak::upgrade) {
                watcher();
            }
        }

        /// Every pause asked for so far, in order.
        #[must_use]
        pub fn sleeps(&self) -> Vec<Duration> {
            self.lock().sleeps.clone()
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    impl Default for ManualClock {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Instant {
            self.lock().now
        }

        fn sleep(&self, duration: Duration) -> Sleep {
            let watchers = {
                let mut state = self.lock();
                state.now = super::deadline(state.now, duration);
                state.sleeps.push(duration);
                state.watchers.retain(|w| w.strong_count() > 0);
                state.watchers.clone()
            };
            for watcher in watchers.iter().filter_map(Weak::upgrade) {
                watcher();
            }
            Box::pin(std::future::ready(()))
        }

        fn on_advance(&self, wake: &Arc<dyn Fn() + Send + Sync>) -> bool {
            self.lock().watchers.push(Arc::downgrade(wake));
            true
        }
    }
}

/// The instant `duration` after `now`, or a century on when that is past what `Instant` holds.
pub(crate) fn deadline(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration).or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600))).unwrap_or(now)
}

pub(crate) fn system() -> std::sync::Arc<dyn Clock> {
    std::sync::Arc::new(TokioClock)
}
