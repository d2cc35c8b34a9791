//! The batch's wait at the client's shared back-off. The back-off itself lives in the
//! transport: every call of the batch's client (and of its clones) records the 429s and runs of
//! 5xx it meets there, and waits there. The batch waits here as well, before taking the next
//! step, so that a cancel is seen while the pause lasts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::client::Client;

/// The longest single pause: a cancel is seen within this.
const SLICE: Duration = Duration::from_millis(100);

/// The back-off of the batch's client.
#[derive(Debug)]
pub(crate) struct Gate {
    client: Client,
}

impl Gate {
    pub(crate) fn new(client: &Client) -> Self {
        Self { client: client.clone() }
    }

    /// Waits until the client's back-off is over; `false` when cancelled meanwhile. Pauses on
    /// the client's clock, the one its back-off is measured on.
    pub(crate) fn wait(&self, cancelled: &AtomicBool) -> bool {
        let transport = &self.client.inner.transport;
        loop {
            if cancelled.load(Ordering::SeqCst) {
                return false;
            }
            let left = transport.backoff_remaining();
            if left.is_zero() {
                return true;
            }
            let pause = left.min(SLICE);
            let clock = transport.clock().clone();
            let slept = self.client.runtime.block_on(async move {
                clock.sleep(pause).await;
                Ok(())
            });
            if slept.is_err() {
                // No runtime could start, so no timer: pause the thread itself.
                std::thread::sleep(pause);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn an_open_back_off_does_not_wait_and_a_cancel_ends_the_wait() {
        let client = Client::builder("key").clock(ManualClock::new()).build().unwrap();
        let gate = Gate::new(&client);
        assert!(gate.wait(&AtomicBool::new(false)));
        assert!(!gate.wait(&AtomicBool::new(true)));
    }
}
