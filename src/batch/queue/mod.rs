//! The PostgreSQL queue behind [`Queue`] (feature `postgres`): the schema, the statements and
//! the worker loop. Uses the batch's items, lookup, pace and report, and the `postgres` crate,
//! never in a public signature. What it guarantees is in [`Queue`]'s documentation.

mod schema;
mod store;
mod worker;

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use store::Connection;

use super::report::{BatchReport, ItemStatus, Outcome};
use super::{Batch, BatchError, Item};

/// A batch's work queue: one batch worked by any number of processes on any number of
/// machines, through PostgreSQL (feature `postgres`).
///
/// ```no_run
/// use removebgvideo::batch::{Batch, Item, Queue};
/// use removebgvideo::Client;
///
/// let queue = Queue::connect("postgres://batch@db.internal/videos")?;
/// let batch = Batch::new(Client::from_env()?, "/mnt/shared/out").concurrency(8);
/// // On one machine, once (enqueuing the same items again adds nothing):
/// let added = batch.enqueue(&queue, vec![Item::url("promo", "https://cdn.example.com/promo.mp4")])?;
/// // On every machine: work until the batch is done.
/// let report = batch.work(&queue)?;
/// println!("{added} added; {} completed", report.count(removebgvideo::batch::ItemStatus::Completed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # What it guarantees
///
/// Each worker thread claims one item at a time under a lease (`FOR UPDATE SKIP LOCKED`: two
/// workers never wait on, or take, the same row), renewed a third of a lease apart while it
/// works. Every step (`uploaded`, `create_sent`, `created`, `finished`, `completed`, `failed`,
/// `uncertain`) is committed, under a check that the lease is still this worker's, **before**
/// the worker acts on it; a worker whose lease was taken stops touching the item. The steps
/// themselves are the file journal's, written once for both, so the same answer gives the
/// same status (a 402 leaves an item not started, a 401 stops the worker without failing any
/// item). So, as with the file journal:
///
/// - **No item is created twice** unless you ask (see the fenced create below). A create is
///   sent only once its `create_sent` step is committed. A worker that finds an item at
///   `create_sent` (its sender died, or stalled, before recording the answer) looks for the
///   job among the account's jobs, by the `video_url`, item id and attempt number the batch
///   puts in `metadata`, and adopts it; when none matches, the item is `uncertain` and is not
///   created again, unless [`recreate_uncertain`](Batch::recreate_uncertain) is set, which
///   also reaches the items already `uncertain` (looked up once more, then created).
/// - **A dead worker's items are taken over** once its leases expire (default 30 s), from their
///   last committed step: a created job is polled, not created again; a finished one is
///   downloaded.
/// - **Outputs** go to `<out>/<item id>.<ext>`, downloaded under a name of the worker's own and
///   renamed into place, so a file under its final name is always whole. With workers on
///   several machines, `<out>` and the input files must be at the same paths on each (a shared
///   volume).
/// - **One id, one item.** Enqueuing an id the queue holds with another input or other options
///   is [`BatchError::Conflict`] (nothing is added) unless you replace it
///   ([`Batch::enqueue_replacing`]); identical items are left as they are.
///
/// # The fenced create
///
/// The database's writes are fenced by the lease token; the API's create is not (the API has
/// no idempotency key), so the worker fences it in time. With a lease of `L`, a create's call
/// has a timeout `T = L/2` and is sent once, without the client's own retries; `M = L/4` is a
/// margin, and `B = T + M`:
///
/// 1. Right before the create leaves, after its `create_sent` is committed, the worker checks
///    that its lease surely has more than `B` left, measured from the sending of the last
///    statement that renewed it (on the monotonic clock and the wall clock, the shorter). If
///    not, it renews the lease first, on its own connection, under its token; if the token is
///    no longer the row's (another worker took the item), the create is not sent.
/// 2. So a create is only ever under way while its sender's lease is valid: it leaves with more
///    than `T + M` of lease left and is over, answered or abandoned, `T` later. Another worker
///    can claim the item only once the lease has expired, hence only after every create of
///    the previous holder has ended.
/// 3. The worker that takes the item over at `create_sent` waits, on the database's clock,
///    until `B` has passed since `create_sent` was committed before it looks the job up; a
///    worker whose own create got no answer also waits until `B` has passed since it sent it.
///    A server applies a create within `B` of its sending or not at all (the assumption the
///    lookup rests on), so a job that exists is listed by then and adopted.
/// 4. Hence, for one item, a second create can only follow a lookup that found nothing after
///    every earlier create had ended and been applied or dropped: with
///    [`recreate_uncertain`](Batch::recreate_uncertain) off, an item that may have a job is
///    never created again; with it on, only an item whose job truly does not exist is.
///
/// What this does not cover: a process frozen for longer than `M` in the few instructions
/// between the check of step 1 and its request leaving (the check cannot be atomic with the
/// send), and clocks that run at different rates by more than `M` over a lease. A lease far
/// longer than a create needs makes `M` long.
///
/// The tables (`removebgvideo_queue_items`, `removebgvideo_queue_schema`) are created and
/// versioned by the crate on [`Queue::connect`], in the connection's schema: use one database,
/// or one schema (`?options=-csearch_path%3Dmy_batch`), per batch. The connection is not
/// encrypted (`NoTls`): keep the database on a private network or a local socket tunnel.
pub struct Queue {
    url: String,
    lease: Duration,
    conn: Mutex<Connection>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Queue").field("lease", &self.lease).finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or the
    /// key=value form) and creates or upgrades the queue's tables.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be reached, or its tables were made by a
    /// newer release of the crate.
    pub fn connect(url: &str) -> Result<Queue, BatchError> {
        let mut conn = connect(url)?;
        schema::migrate(&mut conn)?;
        Ok(Queue { url: url.to_owned(), lease: Duration::from_secs(30), conn: Mutex::new(conn) })
    }

    /// How long a claimed item stays a worker's without renewal (default 30 s, from 100 ms to an
    /// hour): a dead worker's items are taken over this long after its last renewal. It also
    /// bounds each create: its call times out after half the lease (see the fenced create in
    /// the [type's documentation](Queue)), so keep it well above the time a create takes.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] outside that range.
    pub fn lease(mut self, lease: Duration) -> Result<Queue, BatchError> {
        if !(Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&lease) {
            return Err(super::error::invalid(
                "lease",
                format!("the lease must be from 100 ms to an hour (got {lease:?})"),
            ));
        }
        self.lease = lease;
        Ok(self)
    }

    /// Every item of the queue, in the order enqueued, as it stands now: `completed` (with
    /// its output), `failed`, `uncertain`, or `unfinished` (waiting, or being worked). The
    /// outcome is [`Outcome::InProgress`] while any item is unfinished.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be read.
    pub fn report(&self) -> Result<BatchReport, BatchError> {
        let items = store::report(&mut self.lock())?;
        let outcome = if items.iter().any(|item| item.status == ItemStatus::Unfinished) {
            Outcome::InProgress
        } else {
            Outcome::Finished
        };
        Ok(BatchReport { outcome, items, earlier_failures: 0 })
    }

    /// A new connection for one worker thread.
    fn open(&self) -> Result<Connection, BatchError> {
        connect(&self.url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn connect(url: &str) -> Result<Connection, BatchError> {
    Connection::connect(url)
}

impl Batch {
    /// Adds the items (ids and options resolved as [`run`](Batch::run) does, the shard
    /// applied) to the queue, and returns how many were new: an item already there with the
    /// same input and options is left as it is, so enqueuing the same list again adds nothing.
    ///
    /// # Errors
    /// [`BatchError::Conflict`] naming the ids already in the queue with another input or
    /// other options (two batches sharing one queue and one id); [`BatchError::InvalidInput`]
    /// for bad items; [`BatchError::Queue`] when the database cannot be written. Nothing is
    /// added then.
    pub fn enqueue(&self, queue: &Queue, items: Vec<Item>) -> Result<u64, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        store::enqueue(&mut queue.lock(), &planned, false)
    }

    /// As [`enqueue`](Batch::enqueue), but an item already in the queue with another input or
    /// other options is replaced: it starts again from nothing with the new ones (a job its
    /// old input already has is not followed any more, and still costs its credits).
    ///
    /// # Errors
    /// As [`enqueue`](Batch::enqueue), without [`BatchError::Conflict`].
    pub fn enqueue_replacing(&self, queue: &Queue, items: Vec<Item>) -> Result<u64, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        store::enqueue(&mut queue.lock(), &planned, true)
    }

    /// Works the queue's items with this batch's client, output folder, concurrency, poll
    /// schedule, `max_attempts` and `recreate_uncertain` (which also reaches the items the
    /// queue already holds as uncertain; the journal, `retry_failed`, `max_credits` and the
    /// shard are the file journal's and do not apply), until no item is left open (items other
    /// workers hold are waited for: their workers may die), then reports on the whole queue.
    /// Out of credits, it claims no new item and ends with [`Outcome::StoppedForCredits`], the
    /// items not yet created [`NotStarted`](ItemStatus::NotStarted) as with a journal;
    /// cancelled, it gives its items back and ends with [`Outcome::Cancelled`].
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for bad settings; [`BatchError::Queue`] when the database
    /// cannot be reached or written (the run stops: it cannot promise what it has not
    /// committed); [`BatchError::Unauthorized`] when the API refuses the key (the run stops,
    /// no item is failed by it); [`BatchError::Io`] when the output folder cannot be created.
    pub fn work(&self, queue: &Queue) -> Result<BatchReport, BatchError> {
        self.check()?;
        let ended = worker::work(self, queue)?;
        let mut report = queue.report()?;
        if ended == worker::Ended::OutOfCredits {
            for item in &mut report.items {
                if item.status == ItemStatus::Unfinished && item.job_id.is_none() {
                    item.status = ItemStatus::NotStarted;
                }
            }
        }
        report.outcome = match ended {
            worker::Ended::OutOfCredits => Outcome::StoppedForCredits,
            worker::Ended::Cancelled if report.outcome == Outcome::InProgress => Outcome::Cancelled,
            _ => report.outcome,
        };
        Ok(report)
    }
}
