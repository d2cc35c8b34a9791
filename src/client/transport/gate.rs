//! The client's shared back-off: a 429 or a run of 5xx answers seen by any call pauses every
//! call through the client and its clones, instead of each task finding the limit on its own.

use std::sync::{Mutex, PoisonError};
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
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open_at: Option<Instant>,
    rate_limits: u32,
    server_errors: u32,
}

impl Gate {
    /// How long calls must still wait at `now`; zero when the gate is open.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.lock().open_at.map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
    }

    /// A 429: every call waits `retry_after` when the server said, else the policy's back-off,
    /// growing with each 429 in a row.
    pub(crate) fn rate_limited(&self, now: Instant, retry_after: Option<Duration>, policy: &RetryPolicy) {
        let mut state = self.lock();
        state.rate_limits = state.rate_limits.saturating_add(1);
        let pause = match retry_after {
            Some(asked) => asked,
            None => policy.pause(state.rate_limits),
        };
        close_for(&mut state, now, pause);
    }

    /// A 5xx or a failed connection: after a run of them, every call backs off.
    pub(crate) fn server_error(&self, now: Instant, policy: &RetryPolicy) {
        let mut state = self.lock();
        state.server_errors = state.server_errors.saturating_add(1);
        if state.server_errors >= SERVER_ERROR_RUN {
            let pause = policy.pause(state.server_errors - SERVER_ERROR_RUN + 1);
            close_for(&mut state, now, pause);
        }
    }

    /// An answer that was neither: the runs start again.
    pub(crate) fn success(&self) {
        let mut state = self.lock();
        state.rate_limits = 0;
        state.server_errors = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
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
        gate.success();
        let later = now + Duration::from_secs(60);
        gate.server_error(later, &policy);
        assert_eq!(gate.remaining(later), Duration::ZERO);
    }
}
