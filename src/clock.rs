//! Time as the crate sees it, so that tests can replace waiting with a virtual clock.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where retries and [`wait_for_completion`](crate::Client::wait_for_completion) read the time
/// and how they pause. The default is [`SystemClock`]; tests can pass a [`ManualClock`] through
/// [`ClientBuilder::clock`](crate::ClientBuilder::clock) so that no test ever sleeps.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Pauses for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock: [`Instant::now`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A virtual clock for tests: `sleep` returns at once and moves the clock forward, and every
/// pause is recorded so a test can assert on the schedule.
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(2));
/// assert_eq!(clock.now() - start, Duration::from_secs(2));
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(2)]);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: Instant,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock that starts now and moves only when slept on or [`advance`](Self::advance)d.
    #[must_use]
    pub fn new() -> Self {
        Self { state: Arc::new(Mutex::new(ManualState { now: Instant::now(), sleeps: Vec::new() })) }
    }

    /// Moves the clock forward without recording a pause.
    pub fn advance(&self, duration: Duration) {
        self.lock().now += duration;
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

    fn sleep(&self, duration: Duration) {
        let mut state = self.lock();
        state.now += duration;
        state.sleeps.push(duration);
    }
}

pub(crate) fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
