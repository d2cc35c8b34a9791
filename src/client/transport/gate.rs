//! The client's shared back-off: a 429 or a run of 5xx answers seen by any call pauses every
//! call through the client and its clones, instead of each task finding the limit on its own.
//!
//! A client that has seen nothing of the kind pays one atomic load per attempt: the lock is
//! taken only while a pause or a run of failures is pending.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::RetryPolicy;

/// How many 5xx answers (or failed connections) in a row make every call back off.
const SERVER_ERROR_RUN: u32 = 3;
/// The longest `Retry-After` the gate stays closed for, so that a broken header cannot park a
/// service for days.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(600);

/// When the next request may go. One per transport, shared by clones.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Set (under the lock) while the state is not the default one: a pause or a run of
    /// failures is pending. Cleared (under the lock) once it is again.
    pending: AtomicBool,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open_at: Option<Instant>,
    rate_limits: u32,
    server_errors: u32,
}

impl Gate {
    /// Whether a pause may hold calls: when `false`, the gate is open and
    /// [`remaining`](Self::remaining) is zero, read without the lock.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// How long calls must still wait at `now`; zero when the gate is open.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        if !self.is_pending() {
            return Duration::ZERO;
        }
        self.lock().open_at.map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
    }

    /// A 429: every call waits `retry_after` when the server said, else the policy's back-off,
    /// growing with each 429 in a row.
    pub(crate) fn rate_limited(&self, now: Instant, retry_after: Option<Duration>, policy: &RetryPolicy) {
        let mut state = self.lock_pending();
        state.rate_limits = state.rate_limits.saturating_add(1);
        let pause = match retry_after {
            Some(asked) => asked,
            None => policy.pause(state.rate_limits),
        };
        close_for(&mut state, now, pause);
    }

    /// A 5xx or a failed connection: after a run of them, every call backs off.
    pub(crate) fn server_error(&self, now: Instant, policy: &RetryPolicy) {
        let mut state = self.lock_pending();
        state.server_errors = state.server_errors.saturating_add(1);
        if state.server_errors >= SERVER_ERROR_RUN {
            let pause = policy.pause(state.server_errors - SERVER_ERROR_RUN + 1);
            close_for(&mut state, now, pause);
        }
    }

    /// An answer at `now` that was neither: the runs start again, and a pause that is over
    /// is forgotten. (Only called while [`is_pending`](Self::is_pending): otherwise there is
    /// nothing to reset.)
    pub(crate) fn success(&self, now: Instant) {
        let mut state = self.lock();
        state.rate_limits = 0;
        state.server_errors = 0;
        if state.open_at.is_some_and(|at| at <= now) {
            state.open_at = None;
        }
        self.settle(&state);
    }

    /// The lock, with `pending` raised: a caller that takes it for a failure changes the state.
    fn lock_pending(&self) -> MutexGuard<'_, GateState> {
        let state = self.lock();
        self.pending.store(true, Ordering::Release);
        state
    }

    /// Lowers `pending` when the state (under its lock) is the default one again.
    fn settle(&self, state: &GateState) {
        if state.open_at.is_none() && state.rate_limits == 0 && state.server_errors == 0 {
            self.pending.store(false, Ordering::Release);
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the gate until `now + pause` (capped), never opening it earlier than it was.
fn close_for(state: &mut GateState, now: Instant, pause: Duration) {
    if let Some(until) = now.checked_add(pause.min(MAX_PAUSE)) {
        state.open_at = Some(state.open_at.map_or(until, |at| at.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_closes_the_gate_for_its_retry_after_and_no_longer() {
        let gate = Gate::default();
        let now = Instant::now();
        let policy = RetryPolicy::default();
        gate.rate_limited(now, Some(Duration::from_secs(7)), &policy);
        assert_eq!(gate.remaining(now), Duration::from_secs(7));
        assert_eq!(gate.remaining(now + Duration::from_secs(7)), Duration::ZERO);
        // A shorter pause asked later does not open the gate earlier.
        gate.rate_limited(now, Some(Duration::from_secs(1)), &policy);
        assert_eq!(gate.remaining(now), Duration::from_secs(7));
        gate.rate_limited(now, Some(Duration::MAX), &policy);
        assert_eq!(gate.remaining(now), MAX_PAUSE);
    }

    #[test]
    fn a_run_of_server_errors_closes_the_gate_and_a_success_resets_it() {
        let gate = Gate::default();
        let now = Instant::now();
        let policy = RetryPolicy::default();
        gate.server_error(now, &policy);
        gate.server_error(now, &policy);
        assert_eq!(gate.remaining(now), Duration::ZERO, "two 5xx are not a run yet");
        gate.server_error(now, &policy);
        assert!(gate.remaining(now) >= Duration::from_secs(1));
        gate.success(now);
        let later = now + Duration::from_secs(60);
        gate.server_error(later, &policy);
        assert_eq!(gate.remaining(later), Duration::ZERO);
    }

    #[test]
    fn the_lock_free_check_says_pending_exactly_while_a_pause_or_a_run_is_held() {
        let gate = Gate::default();
        let now = Instant::now();
        let policy = RetryPolicy::default();
        assert!(!gate.is_pending());
        gate.server_error(now, &policy);
        assert!(gate.is_pending(), "a 5xx starts a run");
        gate.success(now);
        assert!(!gate.is_pending(), "a success ends it");
        gate.rate_limited(now, Some(Duration::from_secs(5)), &policy);
        gate.success(now + Duration::from_secs(4));
        assert!(gate.is_pending(), "the pause still holds after the run is reset");
        assert_eq!(gate.remaining(now + Duration::from_secs(4)), Duration::from_secs(1));
        gate.success(now + Duration::from_secs(5));
        assert!(!gate.is_pending(), "a success after the pause opens the gate for good");
        assert_eq!(gate.remaining(now), Duration::ZERO);
    }
}
