//! A clock whose pauses last until the test moves it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use removebgvideo::clock::{Clock, Sleep};

/// A clock whose pauses last until the test moves it: with it a test can see which tasks are
/// held, and that no request goes before the clock is moved.
#[derive(Debug, Clone)]
pub struct HeldClock(Arc<HeldState>);

#[derive(Debug)]
struct HeldState {
    start: Instant,
    inner: Mutex<Held>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Held {
    elapsed: Duration,
    /// Every pause asked for, in order.
    asked: Vec<Duration>,
    sleepers: usize,
    wakers: Vec<Waker>,
}

impl HeldClock {
    pub fn new() -> Self {
        Self(Arc::new(HeldState { start: Instant::now(), inner: Mutex::default(), changed: Condvar::new() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn advance(&self, by: Duration) {
        let wakers = {
            let mut held = self.lock();
            held.elapsed += by;
            std::mem::take(&mut held.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        self.0.changed.notify_all();
    }

    /// Waits (30 s at most, a bound against a hang, not a synchronisation) until `count` pauses
    /// are pending; false when they never are.
    pub fn until_sleeping(&self, count: usize) -> bool {
        let held = self.lock();
        let (held, _) = self
            .0
            .changed
            .wait_timeout_while(held, Duration::from_secs(10), |held| held.sleepers < count)
            .unwrap_or_else(PoisonError::into_inner);
        held.sleepers >= count
    }

    pub fn sleepers(&self) -> usize {
        self.lock().sleepers
    }

    /// Waits (30 s at most) until `count` pauses were asked for in all, and returns them.
    pub fn until_asked(&self, count: usize) -> Vec<Duration> {
        let held = self.lock();
        let (held, _) = self
            .0
            .changed
            .wait_timeout_while(held, Duration::from_secs(30), |held| held.asked.len() < count)
            .unwrap_or_else(PoisonError::into_inner);
        held.asked.clone()
    }
}

struct HeldSleep {
    clock: HeldClock,
    until: Instant,
    counted: bool,
}

impl Future for HeldSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut held = this.clock.lock();
        if this.clock.0.start + held.elapsed >= this.until {
            if this.counted {
                held.sleepers -= 1;
                this.counted = false;
            }
            return Poll::Ready(());
        }
        held.wakers.push(context.waker().clone());
        if !this.counted {
            held.sleepers += 1;
            this.counted = true;
            drop(held);
            this.clock.0.changed.notify_all();
        }
        Poll::Pending
    }
}

impl Drop for HeldSleep {
    fn drop(&mut self) {
        if self.counted {
            self.clock.lock().sleepers -= 1;
        }
    }
}

impl Clock for HeldClock {
    fn now(&self) -> Instant {
        self.0.start + self.lock().elapsed
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        // The end is fixed with the pause recorded, under one lock: a test that moves the clock
        // as soon as it sees the pause moves it past this end.
        let until = {
            let mut held = self.lock();
            held.asked.push(duration);
            let now = self.0.start + held.elapsed;
            now.checked_add(duration).unwrap_or_else(|| now + Duration::from_secs(1 << 40))
        };
        self.0.changed.notify_all();
        Box::pin(HeldSleep { clock: self.clone(), until, counted: false })
    }
}
