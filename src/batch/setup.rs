//! [`Batch`]: a run's settings, checked before anything is sent, and what the two engines read
//! of them. The run itself is in `run.rs` (a journal) and `queue/` (PostgreSQL); the estimate
//! in `estimate.rs`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::batch::cancel::CancelHandle;
use crate::batch::error::{invalid, BatchError};
use crate::batch::event::Event;
use crate::batch::item::{self, Item, JobOptions};
use crate::batch::shard::Shard;
use crate::client::Client;
use crate::clock::Clock;

/// The most worker threads a batch starts.
const MAX_CONCURRENCY: usize = 256;
/// The longest poll interval or back-off accepted.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A batch of videos to process: settings, then [`run`](Batch::run).
///
/// See the [module documentation](crate::batch) for what a run does and what its journal guarantees.
#[derive(Clone)]
#[must_use]
pub struct Batch {
    pub(crate) client: Client,
    pub(crate) out_dir: PathBuf,
    pub(crate) journal: Option<PathBuf>,
    pub(crate) concurrency: usize,
    pub(crate) defaults: JobOptions,
    pub(crate) retry_failed: bool,
    pub(crate) recreate_uncertain: bool,
    pub(crate) max_credits: Option<f64>,
    pub(crate) shard: Option<Shard>,
    pub(crate) first_poll: Duration,
    pub(crate) max_poll: Duration,
    pub(crate) wait_for_lock: bool,
    pub(crate) max_attempts: u32,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) on_event: Option<EventSink>,
    pub(crate) cancel: CancelHandle,
}

impl Batch {
    /// Hands `event` to the `on_event` callback, if any. A panicking callback must not leave an
    /// item unfinished and the run waiting for it; the panic hook has already reported it.
    pub(crate) fn emit(&self, event: &Event) {
        if let Some(on_event) = &self.on_event {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_event(event)));
        }
    }

    /// A batch on `client` writing its outputs (and, by default, its journal) into `out_dir`.
    pub fn new(client: Client, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            clock: Arc::clone(client.inner.transport.clock()),
            client,
            out_dir: out_dir.into(),
            journal: None,
            concurrency: 4,
            defaults: JobOptions::default(),
            retry_failed: false,
            recreate_uncertain: false,
            max_credits: None,
            shard: None,
            first_poll: Duration::from_secs(2),
            max_poll: Duration::from_secs(10),
            wait_for_lock: false,
            max_attempts: 5,
            on_event: None,
            cancel: CancelHandle::default(),
        }
    }

    /// The journal file (default `<out_dir>/journal.jsonl`).
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// How many uploads, creates and downloads run at once (default 4, from 1 to 256).
    pub fn concurrency(mut self, workers: usize) -> Self {
        self.concurrency = workers;
        self
    }

    /// The job options of every item, where the item sets none of its own.
    pub fn options(mut self, defaults: JobOptions) -> Self {
        self.defaults = defaults;
        self
    }

    /// Retry the items the journal records as failed (default `false`). A failed job is
    /// created again, which costs credits.
    pub fn retry_failed(mut self, retry: bool) -> Self {
        self.retry_failed = retry;
        self
    }

    /// Create again the items whose create answer was lost and whose job cannot be found
    /// (default `false`: they are reported [`Uncertain`](crate::batch::ItemStatus::Uncertain)). This may
    /// create, and bill, a second job for them.
    pub fn recreate_uncertain(mut self, recreate: bool) -> Self {
        self.recreate_uncertain = recreate;
        self
    }

    /// Refuse to start when the items still to be created are estimated above this many
    /// credits (see [`Batch::estimate`]).
    pub fn max_credits(mut self, credits: f64) -> Self {
        self.max_credits = Some(credits);
        self
    }

    /// Process only the items of this part (see [`Shard`]).
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = Some(shard);
        self
    }

    /// The first poll of a job comes `first` after its create; the pause grows by half each
    /// poll up to `max` (defaults 2 s and 10 s, the vendor's advice). At most an hour each.
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.first_poll = first;
        self.max_poll = max;
        self
    }

    /// When another run holds the journal, wait for it to end instead of refusing at once
    /// with [`BatchError::JournalLocked`] (default `false`). Nothing is sent while waiting, and
    /// the wait is the operating system's: a cancel is seen once it is over.
    pub fn wait_for_lock(mut self, wait: bool) -> Self {
        self.wait_for_lock = wait;
        self
    }

    /// How many times an item tries a step that failed with a 429, a 5xx or a broken
    /// connection before it is failed (default 5, at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Calls `on_event` for every [`Event`], from the batch's threads. Keep it quick: the
    /// thread that calls it waits. A panic in it is caught (and reported by the panic hook);
    /// the run goes on.
    pub fn on_event(mut self, on_event: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(on_event));
        self
    }

    /// A handle that cancels this batch's runs from another thread (for example on Ctrl-C).
    #[must_use]
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// The journal file this batch uses.
    #[must_use]
    pub fn journal_path(&self) -> PathBuf {
        self.journal.clone().unwrap_or_else(|| self.out_dir.join("journal.jsonl"))
    }

    pub(crate) fn select(&self, items: Vec<Item>) -> Result<Vec<item::Planned>, BatchError> {
        let mut planned = item::resolve(items, &self.defaults)?;
        if let Some(shard) = self.shard {
            planned.retain(|item| shard.contains(&item.id));
        }
        Ok(planned)
    }

    /// The poll schedule: [`WaitOptions`](crate::WaitOptions)' own, from the first interval
    /// growing by half up to the longest (a zero interval polls a millisecond apart).
    pub(crate) fn schedule(&self) -> crate::client::WaitOptions<'static> {
        let first = self.first_poll.max(Duration::from_millis(1));
        crate::client::WaitOptions::default().interval(first).backoff(1.5, self.max_poll.max(first))
    }

    pub(crate) fn check(&self) -> Result<(), BatchError> {
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(invalid(
                "concurrency",
                format!("concurrency must be from 1 to {MAX_CONCURRENCY} (got {})", self.concurrency),
            ));
        }
        if self.max_attempts == 0 {
            return Err(invalid("max_attempts", "max_attempts must be at least 1"));
        }
        if let Some(max) = self.max_credits
            && (!max.is_finite() || max < 0.0)
        {
            return Err(invalid(
                "max_credits",
                format!("max_credits must be a finite number of credits, at least 0 (got {max})"),
            ));
        }
        for (name, value) in
            [("the first poll interval", self.first_poll), ("the longest poll interval", self.max_poll)]
        {
            if value > MAX_INTERVAL {
                return Err(invalid("poll_interval", format!("{name} must be at most an hour (got {value:?})")));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("client", &self.client)
            .field("out_dir", &self.out_dir)
            .field("journal", &self.journal_path())
            .field("concurrency", &self.concurrency)
            .field("retry_failed", &self.retry_failed)
            .field("recreate_uncertain", &self.recreate_uncertain)
            .field("max_credits", &self.max_credits)
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}
