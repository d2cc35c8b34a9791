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
//!   client's [`Clock`](crate::clock::Clock) ([`ClientBuilder::clock`](crate::client::ClientBuilder::clock)):
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
//! Within the crate, the batch sits on top of the blocking [`Client`](crate::Client) and the
//! `models`; it uses the client's runtime, clock and download helpers, and nothing uses it.
//!
//! Its files, from the top: `run.rs` (the journal's engine) and `queue/` (PostgreSQL's) drive
//! `lifecycle.rs` (one item's steps, written once for both) and `estimate.rs`; they read a
//! run's settings from `setup.rs` ([`Batch`]); below those are the journal, the items, the
//! events and reports, and the leaves (`error.rs`, `cancel.rs`, `pace.rs`, `gate.rs`). A
//! file's length comes from the crate's `video_duration`, which the simulator reads too. Each
//! file imports only from below it; this file only names what is public.

mod cancel;
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
mod setup;
mod shard;

pub use cancel::CancelHandle;
pub use error::BatchError;
pub use estimate::{Estimate, ItemEstimate};
pub use event::Event;
pub use item::{Item, JobOptions, Source};
#[cfg(feature = "postgres")]
pub use queue::{CertificateCheck, ItemState, Queue, QueueBuilder, QueueStats, QueueStep, DEFAULT_POOL_SIZE};
pub use report::{BatchReport, ItemError, ItemReport, ItemStatus, Outcome, Stage};
pub use setup::Batch;
pub use shard::Shard;
