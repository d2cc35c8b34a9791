//! What the server's tasks, the background thread and the [`Simulator`](super::Simulator)
//! handle share: the settings, the state behind its mutex, the clock, the runtime, and the
//! signals between them.

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::builder::Bounds;
use super::lock::lock;
use super::state::{Pacing, State};

/// The settings the running server uses.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) api_key: String,
    pub(crate) admin_token: String,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) pacing: Pacing,
    pub(crate) webhook_retries: u32,
    pub(crate) output_size: Option<usize>,
    pub(crate) job_duration: Duration,
    pub(crate) max_upload_size: Option<u64>,
    pub(crate) credits: f64,
    pub(crate) bounds: Bounds,
    pub(crate) webhook_max_age: Duration,
}

/// What the server's threads share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) base_url: String,
    pub(crate) clock: Arc<dyn crate::clock::Clock>,
    /// Whether the clock says when it moves (a manual clock): then nothing waits on a timer.
    pub(crate) manual_clock: bool,
    pub(crate) state: Mutex<State>,
    /// Wakes the background thread: deliveries queued, the clock moved, or stopping.
    pub(crate) changed: Condvar,
    /// Wakes [`Simulator::settle`](super::Simulator::settle): deliveries made.
    pub(crate) done: Condvar,
    /// The simulator's own runtime: it serves requests and makes webhook deliveries.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The webhook deliveries' client (`None` if it could not be built), built at the first
    /// delivery: it loads the platform's TLS roots, which would cost every simulator that never
    /// delivers a webhook milliseconds at start (tens in a debug build).
    pub(crate) webhook_client: OnceLock<Option<reqwest::Client>>,
    pub(crate) stop: Mutex<bool>,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        *lock(&self.stop)
    }

    pub(crate) fn signal_stop(&self) {
        *lock(&self.stop) = true;
        let _st = lock(&self.state);
        self.changed.notify_all();
        self.done.notify_all();
    }

    /// The state, with every job moved to the clock's present; the background thread hears of
    /// any delivery this queues when the guard is released through [`Shared::release`].
    pub(crate) fn now_state(&self) -> (std::sync::MutexGuard<'_, State>, Instant) {
        let mut st = lock(&self.state);
        let now = self.clock.now();
        st.advance(now, &self.config.pacing, &self.base_url);
        (st, now)
    }

    /// Releases the state, waking the background thread if deliveries wait.
    pub(crate) fn release(&self, st: std::sync::MutexGuard<'_, State>) {
        let wake = !st.outbox.is_empty();
        drop(st);
        if wake {
            self.changed.notify_all();
        }
    }

    /// Moves every job to the clock's present and wakes the background thread: what a manual
    /// clock's jump calls.
    pub(crate) fn tick(&self) {
        let (st, _) = self.now_state();
        drop(st);
        self.changed.notify_all();
    }
}
