//! Processing many videos: bounded concurrency, one poller, a shared back-off, a crash-safe
//! journal, credit estimates before spending, and a stable split across machines.
//!
//! ```no_run
//! use removebgvideo::batch::{Batch, Item, JobOptions};
//! use removebgvideo::{BgType, Client, Model};
//!
//! let client = Client::from_env()?;
//! let items = vec![
//!     Item::file("videos/intro.mp4"),
//!     Item::url("promo", "https://cdn.example.com/promo.mp4"),
//! ];
//! let batch = Batch::new(client, "out")
//!     .concurrency(4)
//!     .options(JobOptions::new().model(Model::Human).bg_type(BgType::Transparent))
//!     .max_credits(500.0);
//! let report = batch.run(items)?;
//! for item in &report.items {
//!     println!("{} {:?} {:?}", item.item, item.status, item.output);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a run goes
//!
//! - **Workers.** [`concurrency`](Batch::concurrency) threads upload files, create jobs and
//!   download outputs. **One poller** thread polls every job in flight, as the vendor advises:
//!   a job's first poll comes [`poll_interval`](Batch::poll_interval)'s first value (2 s) after
//!   its create, and the pause grows by half each poll up to the second value (10 s): the
//!   schedule of [`WaitOptions`](crate::WaitOptions), the same as `wait_for_completion`'s.
//! - **The client's clock.** Every pause and time reading of the batch goes through the
//!   client's [`Clock`] ([`ClientBuilder::clock`](crate::client::ClientBuilder::clock)):
//!   a client on `ManualClock` runs a batch with no real sleep.
//! - **One back-off for all.** A 429 (honouring `Retry-After`, up to 10 minutes), or three 5xx
//!   answers or broken connections in a row, pause every thread of the batch before its next
//!   request, not only the one that saw it. Each item retries such a failure up to
//!   [`max_attempts`](Batch::max_attempts) times.
//! - **Out of credits.** A 402 on a create stops every later create at once: items not yet
//!   created are [`NotStarted`](ItemStatus::NotStarted), the jobs already running are still
//!   polled and downloaded, and the run ends with [`Outcome::StoppedForCredits`].
//! - **A wrong key stops the run.** A 401 (a wrong, missing or disabled key) on any call stops
//!   the run at once with [`BatchError::Unauthorized`]; no item is marked failed by it, so a
//!   run with the right key carries on.
//! - **Failures stay local.** Any other failure ends that item only, listed with its stage,
//!   status, code, message and request id.
//! - **Outputs** go to `<out>/<item id>.<ext>` (the extension of the output URL, else of the
//!   output format), written to `<name>.part` first (a later run resumes it), renamed into
//!   place once complete, then synced to disk, before the journal records it.
//!
//! The steps of an item (upload, create and the search for a lost create, the reading of a
//! polled job, download) and what each failure means for it are written once, for the journal
//! and for the PostgreSQL `Queue` (feature `postgres`) alike: the same answer gives the same status
//! with either.
//!
//! # The journal and what it guarantees
//!
//! Every step of every item is one JSON line appended to the journal (default
//! `<out>/journal.jsonl`), written, flushed and `fsync`ed (`sync_data`) **before** the batch
//! acts on it or reports it: `uploaded {video_url}`, `create_sent {attempt, video_url}` (written
//! *before* the create request goes), `created {job_id}`, `create_refused {status, code}` (the
//! server answered the create with an error), `finished {job_id, status, output_url, error}`
//! (the output URL without its query), `downloaded {path, size}` (written after the file is
//! renamed into place and synced), and `failed {stage, status, code, message, request_id}`.
//!
//! Run the batch again with the same journal, after it returned, was cancelled, crashed or was
//! killed (`kill -9`, power loss) at any instant, and it carries on. Exactly:
//!
//! 1. **No item is created twice by the batch** unless you ask for it. A create is sent only
//!    after its `create_sent` line is on disk. An item whose journal shows a `create_sent`
//!    with no answer recorded is first looked for among the account's jobs (`list_jobs`, newest
//!    first, back to an hour before the create was sent): a job that echoes the same
//!    `video_url` and the item id and attempt number the batch puts in `metadata`
//!    (`removebgvideo_batch_item`, `removebgvideo_batch_attempt`) is adopted. When none
//!    matches, the item is [`Uncertain`](ItemStatus::Uncertain) and is not created again,
//!    unless [`recreate_uncertain`](Batch::recreate_uncertain) is set. (A crash in the instant
//!    between that line and the request reaching the server leaves exactly this state: the
//!    job most likely does not exist, but without an idempotency key in the API only you can
//!    decide to create it; a cancel never leaves it, as it lets a sent create finish.) The same search runs
//!    during a run when a create gets a 5xx or no answer; after a 5xx *answer* with no
//!    matching job, the create is sent again (the server answered, so a job it made would be
//!    listed); after *no answer*, the item is uncertain.
//! 2. **A job already created is polled, not created again**; a completed job whose output is
//!    not recorded as downloaded is downloaded again (from a fresh `get_job`, as output URLs
//!    expire).
//! 3. **An output recorded as downloaded whose file still exists with the recorded size is
//!    skipped** ([`AlreadyCompleted`](ItemStatus::AlreadyCompleted)); anything else about it is
//!    redone. An output file is never half-written under its final name.
//! 4. **Failed items stay failed** unless [`retry_failed`](Batch::retry_failed) is set; then an
//!    item is retried from where it failed (a failed *job* gets a new job, which costs credits;
//!    a failed download is downloaded again).
//! 5. A last line cut off by a crash (no final newline) is ignored and removed; a damaged line
//!    anywhere else stops the run with [`BatchError::Journal`] rather than guess. When a
//!    journal line cannot be written, the run stops at once with that error.
//!
//! 6. **A journal is one run's at a time.** A run holds an advisory lock on it (`flock` on
//!    `<journal>.lock`, which names the holder's process id and host) from before its first
//!    request to its end; the operating system drops the lock when the process ends, however
//!    it ends, so a lock is never stale. A second run on the same journal (a cron overlap, a
//!    retried CI job) is refused with [`BatchError::JournalLocked`] before it sends anything,
//!    or waits for the lock with [`wait_for_lock`](Batch::wait_for_lock). The lock is
//!    advisory: it holds between runs of this crate on one machine, or on a network file
//!    system whose locks reach every machine (for many machines, use a [`Shard`] each, or the
//!    queue).
//! 7. **Files that are not the batch's are left alone.** The journal is opened without
//!    following a symlink at its path; a file whose complete lines are not journal lines (a
//!    manifest given as the journal by mistake) is refused before a byte of it changes;
//!    [`BatchReport::write_jsonl`] writes a new file and renames it over the old one.
//!
//! What it does **not** guarantee: a job created by a lost create on a server that neither
//! echoes `video_url` nor lists the job cannot be found. The journal records upload URLs as
//! the API returned them.
//!
//! # Before spending
//!
//! [`Batch::estimate`] reads each local file's duration from its mp4/mov container (its index
//! only, found by seeking past the video data, so large files are cheap) and prices
//! it with `GET /api/pricing` (minutes × the model's credits per minute); URL items and files
//! whose duration cannot be read are counted as unknown. [`Batch::max_credits`] refuses to
//! start a run whose items still to be created are estimated above the budget
//! ([`BatchError::OverBudget`]); unknown items are not counted in that sum, and the error says
//! how many there were.
//!
//! Within the crate, the batch sits on top of the blocking [`Client`] and the
//! `models`; it uses the client's runtime, clock and download helpers, and nothing uses it.

pub(crate) mod duration;
mod error;
mod estimate;
mod event;
mod gate;
mod item;
mod journal;
mod lifecycle;
mod lookup;
mod pace;
#[cfg(feature = "postgres")]
mod queue;
mod report;
mod run;
mod shard;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

pub use error::BatchError;
pub use estimate::{Estimate, ItemEstimate};
pub use event::Event;
pub use item::{Item, JobOptions, Source};
#[cfg(feature = "postgres")]
pub use queue::{CertificateCheck, ItemState, Queue, QueueBuilder, QueueStats, QueueStep, DEFAULT_POOL_SIZE};
pub use report::{BatchReport, ItemError, ItemReport, ItemStatus, Outcome, Stage};
pub use shard::Shard;

use crate::client::Client;
use crate::clock::Clock;

/// The most worker threads a batch starts.
const MAX_CONCURRENCY: usize = 256;
/// The longest poll interval or back-off accepted.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A batch of videos to process: settings, then [`run`](Batch::run).
///
/// See the [module documentation](self) for what a run does and what its journal guarantees.
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
    pub(crate) fn emit(&self, event: &event::Event) {
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
    /// (default `false`: they are reported [`Uncertain`](ItemStatus::Uncertain)). This may
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

    /// Lists the items (after ids and the shard are applied) with each one's duration and
    /// credits. Sends only `GET /api/pricing`.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for bad items or settings; [`BatchError::Client`] when the
    /// pricing cannot be read.
    pub fn estimate(&self, items: Vec<Item>) -> Result<Estimate, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        let pricing = self.client.pricing()?;
        Ok(estimate::estimate(&planned.iter().collect::<Vec<_>>(), &pricing))
    }

    /// Runs the items to an end and reports on each (see the [module documentation](self)).
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for bad items or settings, [`BatchError::JournalLocked`]
    /// when another run holds the journal, [`BatchError::OverBudget`] and
    /// [`BatchError::Client`] (pricing) before anything is sent; [`BatchError::Journal`] when
    /// the journal cannot be read or written (the run stops at once);
    /// [`BatchError::Unauthorized`] when the API refuses the key (the run stops at once);
    /// [`BatchError::Io`] when the output folder cannot be created. One item's failure is never
    /// an error: see the report.
    pub fn run(&self, items: Vec<Item>) -> Result<BatchReport, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        run::run(self, planned)
    }

    fn select(&self, items: Vec<Item>) -> Result<Vec<item::Planned>, BatchError> {
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

    fn check(&self) -> Result<(), BatchError> {
        use error::invalid;
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

/// Cancels a running batch from another thread: no new request starts, the requests under way
/// finish and their answers are journaled, then [`Batch::run`] returns with
/// [`Outcome::Cancelled`]. A cancelled [`Batch`] stays cancelled; make a new one to run again.
#[derive(Clone, Default)]
pub struct CancelHandle {
    inner: Arc<CancelInner>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").field("cancelled", &self.is_cancelled()).finish()
    }
}

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    wake: Mutex<Option<Weak<dyn Fn() + Send + Sync>>>,
}

impl CancelHandle {
    /// Cancels the batch.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let wake = self.inner.wake.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(Weak::upgrade);
        if let Some(wake) = wake {
            wake();
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.inner.cancelled
    }

    /// Registers what wakes the running batch's waiting threads.
    pub(crate) fn on_cancel(&self, wake: &Arc<dyn Fn() + Send + Sync>) {
        *self.inner.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::downgrade(wake));
    }
}
