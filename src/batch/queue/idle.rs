//! One idle poller per process: when a worker thread finds nothing to claim (the items left
//! are held by other workers), one thread polls the table, a pause apart, for an item that
//! came free or for the end of the batch; the others wait for its word instead of polling too.

use std::sync::{Condvar, Mutex, PoisonError};

use super::store::{self, Connection};
use crate::batch::error::BatchError;

/// The process's idle poller.
#[derive(Debug, Default)]
pub(crate) struct Idle {
    state: Mutex<State>,
    told: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// A thread is polling now.
    polling: bool,
    /// Bumped each time the poller has news.
    news: u64,
    /// Its news: whether there may be work (an item came free) rather than none left.
    work: bool,
}

impl Idle {
    /// Waits until an item may be claimed (`true`) or none is left open (uncertain ones
    /// counted when `uncertain` is set), or `pause` returned `false` (`false`: the thread
    /// stops). `pause` waits between two polls and says whether to go on.
    pub(crate) fn wait(
        &self,
        conn: &mut Connection,
        uncertain: bool,
        pause: impl Fn() -> bool,
    ) -> Result<bool, BatchError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.polling {
            let seen = state.news;
            while state.news == seen {
                state = self.told.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            return Ok(state.work);
        }
        state.polling = true;
        drop(state);
        let found = loop {
            match store::open_items(conn, uncertain) {
                Ok((0, _)) => break Ok(false),
                Ok((_, free)) if free > 0 => break Ok(true),
                Ok(_) if pause() => {}
                Ok(_) => break Ok(false),
                Err(error) => break Err(error),
            }
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.polling = false;
        state.news += 1;
        state.work = matches!(found, Ok(true));
        self.told.notify_all();
        found
    }
}
