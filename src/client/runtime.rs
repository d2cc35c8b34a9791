//! The crate's own runtime, on which the blocking clients drive the async core.
//!
//! One tokio worker thread, started on the first call (a client that is built and never used
//! costs no thread), shared by every clone of a blocking client and its admin client, and shut
//! down in the background when the last of them is dropped.
//!
//! Why not `Runtime::block_on`: it panics when the calling thread is inside another runtime (a
//! `#[tokio::test]`, an axum handler). Here the caller's own thread polls the future, with the
//! crate runtime's context entered so that sockets and timers register with it; the worker
//! drives the I/O and timers and wakes the caller, which sleeps in between (`thread::park`).
//! A caller on a runtime thread is therefore blocked, as by any blocking call, never crashed.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::client::error::{ConfigError, Error};

/// Cheap to clone: clones share one runtime.
#[derive(Clone, Default)]
pub(crate) struct CrateRuntime {
    shared: Arc<Lazy>,
}

#[derive(Default)]
struct Lazy {
    /// The error of a runtime that could not start is kept and given to every call.
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
}

impl CrateRuntime {
    /// Runs `future` to completion on the calling thread, its I/O and timers driven by the
    /// crate runtime (started here on first use).
    ///
    /// # Errors
    /// [`ConfigError::Runtime`] when the runtime cannot start (no thread could be spawned).
    pub(crate) fn block_on<F: Future<Output = Result<T, Error>>, T>(&self, future: F) -> Result<T, Error> {
        let _context = self.runtime()?.enter();
        park_on(future)
    }

    /// Runs `future` as a task on the runtime's worker and waits for it on the calling thread.
    ///
    /// For an API call this beats [`block_on`](Self::block_on): the worker that drives the
    /// connection runs the whole call, as reqwest's blocking client does, so the connection is
    /// back in the pool before the caller's next call starts (polled from the caller's thread,
    /// the next call can win that race and open a second connection), and the caller's thread
    /// is woken once per call.
    ///
    /// # Errors
    /// As [`block_on`](Self::block_on); a panic of the call goes on in the caller's thread.
    pub(crate) fn run<F, T>(&self, future: F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        // The caller's tracing subscriber and span go with the call to the worker, so the call's
        // spans land where they would on the caller's own thread.
        #[cfg(feature = "tracing")]
        let future = {
            use tracing::instrument::{Instrument, WithSubscriber};
            future.instrument(tracing::Span::current()).with_current_subscriber()
        };
        let task = self.runtime()?.spawn(future);
        match park_on(task) {
            Ok(outcome) => outcome,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // Not a panic: the task was cancelled, which only the runtime's shutdown does.
            Err(_) => Err(Error::Cancelled),
        }
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        self.shared
            .runtime
            .get_or_init(start)
            .as_ref()
            .map_err(|reason| Error::Config(ConfigError::Runtime { reason: reason.clone() }))
    }
}

/// Polls `future` on this thread until it is ready, sleeping in between.
fn park_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    // Unconstrained: a caller inside a task of another runtime carries that task's
    // cooperative budget, which is never refilled while it waits here, and would make every
    // poll answer `Pending` for ever.
    let mut future = pin!(tokio::task::unconstrained(future));
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::park();
    }
}

fn start() -> Result<tokio::runtime::Runtime, String> {
    // One worker: calls and transfers are bound by the network or the disk, not the CPU, and
    // each caller's own thread does its share of the work while it waits.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("removebgvideo")
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
}

impl Drop for Lazy {
    fn drop(&mut self) {
        // A plain drop waits for the worker, which panics when the last client is dropped
        // inside an async task.
        if let Some(Ok(runtime)) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
