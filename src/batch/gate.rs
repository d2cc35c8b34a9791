//! The shared back-off: a 429 or a run of 5xx answers seen by any thread pauses every thread
//! of the batch before its next request.

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::pace::Pace;

/// How many 5xx answers (or broken connections) in a row make every thread back off.
const SERVER_ERROR_RUN: u32 = 3;
/// The longest `Retry-After` honoured, so that a broken header cannot park a batch for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// When the next request may go.
#[derive(Debug)]
pub(crate) struct Gate {
    pace: Pace,
    base: Duration,
    max: Duration,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open_at: Option<Instant>,
    rate_limits: u32,
    server_errors: u32,
}

impl Gate {
    /// A gate whose own back-off (without `Retry-After`) starts at `base` and doubles up to `max`.
    pub(crate) fn new(pace: Pace, base: Duration, max: Duration) -> Self {
        Self { pace, base, max, state: Mutex::new(GateState::default()) }
    }

    /// Waits until the gate is open; `false` when cancelled meanwhile.
    pub(crate) fn wait(&self, cancelled: &AtomicBool) -> bool {
        loop {
            let open_at = self.lock().open_at;
            let now = self.pace.now();
            match open_at {
                Some(at) if at > now => {
                    if !self.pace.sleep(at - now, cancelled) {
                        return false;
                    }
                }
                _ => return true,
            }
        }
    }

    /// A 429: every thread waits `retry_after` when the server said, else the gate's own
    /// back-off, growing with each 429 in a row.
    pub(crate) fn rate_limited(&self, retry_after: Option<Duration>) {
        let mut state = self.lock();
        state.rate_limits = state.rate_limits.saturating_add(1);
        let pause = match retry_after {
            Some(asked) => asked.min(MAX_RETRY_AFTER),
            None => self.backoff(state.rate_limits),
        };
        self.close_for(&mut state, pause);
    }

    /// A 5xx or a broken connection: after a run of them, every thread backs off.
    pub(crate) fn server_error(&self) {
        let mut state = self.lock();
        state.server_errors = state.server_errors.saturating_add(1);
        if state.server_errors >= SERVER_ERROR_RUN {
            let pause = self.backoff(state.server_errors - SERVER_ERROR_RUN + 1);
            self.close_for(&mut state, pause);
        }
    }

    /// An answer that was neither: the runs start again.
    pub(crate) fn success(&self) {
        let mut state = self.lock();
        state.rate_limits = 0;
        state.server_errors = 0;
    }

    /// `base × 2^(n-1)` capped at `max`, with up to half of it added as jitter so that several
    /// batches do not come back at the same instant.
    fn backoff(&self, n: u32) -> Duration {
        let doubled = self.base.saturating_mul(1u32 << n.saturating_sub(1).min(20));
        let pause = doubled.min(self.max);
        pause.saturating_add(pause.mul_f64(fastrand::f64() / 2.0)).min(self.max.max(self.base))
    }

    fn close_for(&self, state: &mut GateState, pause: Duration) {
        let until = self.pace.now().checked_add(pause);
        if let Some(until) = until {
            state.open_at = Some(state.open_at.map_or(until, |at| at.max(until)));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn gate(clock: &ManualClock) -> Gate {
        Gate::new(
            Pace::new(Arc::new(clock.clone()), crate::client::runtime::CrateRuntime::default()),
            Duration::from_secs(1),
            Duration::from_secs(16),
        )
    }

    #[test]
    fn a_429_pauses_every_waiter_for_retry_after() {
        let clock = ManualClock::new();
        let gate = gate(&clock);
        let start = clock.now();
        gate.rate_limited(Some(Duration::from_secs(7)));
        assert!(gate.wait(&AtomicBool::new(false)));
        assert!(clock.now() - start >= Duration::from_secs(7));
        // A second waiter (another worker) is not held again once the time has passed.
        let before = clock.now();
        assert!(gate.wait(&AtomicBool::new(false)));
        assert_eq!(clock.now(), before);
    }

    #[test]
    fn a_run_of_server_errors_closes_the_gate_and_a_success_resets_it() {
        let clock = ManualClock::new();
        let gate = gate(&clock);
        let start = clock.now();
        gate.server_error();
        gate.server_error();
        assert!(gate.wait(&AtomicBool::new(false)));
        assert_eq!(clock.now(), start, "two 5xx are not a run yet");
        gate.server_error();
        assert!(gate.wait(&AtomicBool::new(false)));
        assert!(clock.now() - start >= Duration::from_secs(1));
        gate.success();
        let after = clock.now();
        gate.server_error();
        assert!(gate.wait(&AtomicBool::new(false)));
        assert_eq!(clock.now(), after);
    }

    #[test]
    fn extreme_retry_after_is_capped_and_a_cancel_ends_the_wait() {
        let clock = ManualClock::new();
        let gate = gate(&clock);
        gate.rate_limited(Some(Duration::MAX));
        let start = clock.now();
        assert!(gate.wait(&AtomicBool::new(false)));
        assert!(clock.now() - start <= MAX_RETRY_AFTER + Duration::from_millis(100));
        gate.rate_limited(Some(Duration::from_secs(60)));
        assert!(!gate.wait(&AtomicBool::new(true)));
    }
}
