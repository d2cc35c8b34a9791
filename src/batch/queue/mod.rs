//! The PostgreSQL queue behind [`Queue`] (feature `postgres`): the schema, the statements, the
//! pool and the worker loop. Uses the batch's items, lookup, pace and report, and the `postgres`
//! crate, never in a public signature. What it guarantees is in [`Queue`]'s documentation; its
//! public types are re-exported by `batch`.

mod client_cert;
mod config;
mod idle;
mod pool;
mod schema;
mod stats;
mod store;
mod tls;
mod worker;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use crate::batch::error::CertificateCheck;
use pool::{Connection, Shared};
pub use stats::{ItemState, QueueStats, QueueStep};

use super::report::{BatchReport, ItemStatus, Outcome};
use crate::batch::error::BatchError;
use crate::batch::item::Item;
use crate::batch::setup::Batch;
use crate::clock::Clock;

/// A batch's work queue: one batch worked by any number of processes on any number of
/// machines, through PostgreSQL (feature `postgres`).
///
/// ```no_run
/// use removebgvideo::batch::{Batch, Item, Queue};
/// use removebgvideo::Client;
///
/// // The password comes from PGPASSWORD or ~/.pgpass, never the URL (or the command line).
/// let queue = Queue::connect("postgres://batch@db.example.com/videos?sslmode=verify-full&sslrootcert=system")?;
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
/// # Connections
///
/// A process keeps one small pool ([`QueueBuilder::pool_size`], default 4) shared by all its
/// worker threads: each statement borrows a connection for its one round trip, so four serve
/// sixteen threads whose jobs take seconds. A connect is bounded by `connect_timeout` (10 s
/// unless the URL sets it), from the first packet to the first statement, and TCP keepalives
/// notice a vanished server in about a minute. A statement whose connection was lost (a
/// failover, a restart, `pg_terminate_backend`, an idle-connection reaper) is sent again on a
/// new connection after a pause ([`QueueBuilder::reconnect_for`], default 2 minutes): every
/// statement has the same effect sent twice, so a blip costs a pause, never a lease the worker
/// still holds.
///
/// **TLS** follows libpq: `sslmode` is `disable`, `allow`, `prefer` (the default: encrypted
/// when the server offers it, the certificate unchecked), `require` (encrypted, the
/// certificate unchecked unless `sslrootcert` is given, then as `verify-ca`), `verify-ca` (a
/// trusted authority signed it) or `verify-full` (and it names the host: what a managed
/// database needs). `sslrootcert` is a PEM file of trusted authorities, or `system` for the
/// platform's trust store (then `verify-full`). A certificate that fails is
/// [`BatchError::QueueCertificate`], naming the [`CertificateCheck`].
///
/// **PgBouncer** in transaction mode works: statements go as unnamed statements with their
/// types (one round trip, no server-side state between statements), the schema is written in
/// each statement rather than set on the session, and migrations run in one transaction.
///
/// # How far one PostgreSQL goes
///
/// A URL item costs five statements (a claim, then `create_sent`, `created`, `finished`,
/// `completed`; a file item one more for `uploaded`), each a one-row update found through the
/// primary key or the index of open items, each its own commit; a process adds one renewal
/// per lease/3 (10 s) and one idle poll per pause. Measured on the simulator (`benches/batch.rs`):
/// 5.1 to 6.0 round trips per item. A commit costs the database a WAL flush shared with the
/// commits beside it; take a small managed instance at some 3,000 to 5,000 such commits a
/// second: that is 500 to 1,000 items a second before the queue table is the limit. A worker
/// thread finishes one item per job (jobs take from seconds to minutes): at one minute a job,
/// 1,000 items a second is 60,000 threads, some 3,750 processes at `--concurrency 16`. The
/// connections run out long before: each process holds up to its pool (4), so a stock
/// `max_connections` of 100 serves about 24 processes, some 380 threads; put PgBouncer in
/// front (transaction mode works) for more. Claims skip locked rows rather than wait, so
/// workers do not queue behind one another. With a budget ([`Queue::set_max_credits`]), a
/// claim also sums the batch's estimates: a scan of the table, fine up to some 100,000 items.
///
/// # Tables
///
/// The tables (`removebgvideo_queue_items`, `removebgvideo_queue_schema`) are created and
/// versioned by the crate on [`Queue::connect`], in the connection's default schema or the one
/// given (`schema=` in the URL, [`QueueBuilder::schema`]): one database, or one schema, per
/// batch. Connecting to tables already at this build's version only reads, so a role with
/// row rights alone can work and report; [`QueueBuilder::migrate`]`(false)` never writes DDL.
pub struct Queue {
    shared: Arc<Shared>,
    lease: Duration,
    /// The process's one idle poller.
    idle: idle::Idle,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: it is not kept.
        f.debug_struct("Queue").field("lease", &self.lease).finish_non_exhaustive()
    }
}

/// How to connect to a [`Queue`] (feature `postgres`): [`Queue::builder`].
#[must_use]
pub struct QueueBuilder {
    url: String,
    pool_size: u32,
    schema: Option<String>,
    migrate: bool,
    reconnect_for: Duration,
    clock: Arc<dyn Clock>,
    platform_tls: bool,
}

impl fmt::Debug for QueueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("pool_size", &self.pool_size)
            .field("schema", &self.schema)
            .field("migrate", &self.migrate)
            .field("reconnect_for", &self.reconnect_for)
            .field("platform_tls", &self.platform_tls)
            .finish_non_exhaustive()
    }
}

/// The pool's size unless set: enough for a handful of worker threads, each statement holding
/// a connection for one round trip.
pub const DEFAULT_POOL_SIZE: u32 = 4;

impl QueueBuilder {
    /// How many connections this process opens at most, shared by all its worker threads
    /// (default [`DEFAULT_POOL_SIZE`], from 1 to 64). A statement holds one for its round trip
    /// only, so 4 serve 16 threads whose jobs take seconds.
    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = size;
        self
    }

    /// The schema of the queue's tables (letters, digits and `_`), instead of the connection's
    /// default (also `schema=` in the URL): one schema per batch on a shared database. It is
    /// written in every statement, so it works behind PgBouncer in transaction mode.
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// Whether to create or upgrade the queue's tables (default `true`). With `false`,
    /// connecting only reads (a role without DDL rights can work and report), and tables
    /// missing or at an older version are an error.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// How long a statement whose connection was lost is tried again on a new one (default
    /// 2 minutes; pauses from 0.1 s to 5 s), before the worker stops with the error.
    pub fn reconnect_for(mut self, patience: Duration) -> Self {
        self.reconnect_for = patience;
        self
    }

    /// Whether to connect through the platform's TLS (OpenSSL on Linux, Secure Transport on
    /// macOS, SChannel on Windows, and their trust stores for `sslrootcert=system`) instead
    /// of rustls (default `false`); feature `postgres-native-tls`. `sslmode` and
    /// `sslrootcert` mean the same, and `sslcert` and `sslkey` too, except that the key must be
    /// PKCS#8; a refused certificate's check is read from the platform's message.
    #[cfg(feature = "postgres-native-tls")]
    pub fn platform_tls(mut self, platform: bool) -> Self {
        self.platform_tls = platform;
        self
    }

    /// The clock the reconnection pauses are taken on (default: the real one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Connects (one connection at once, so that a wrong address, password or certificate
    /// fails here), checks the tables' version with one `SELECT`, and creates or upgrades
    /// them when needed and allowed.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for a URL or setting that cannot be used (an unknown
    /// `sslmode`, `verify-full` without `sslrootcert`, a pool size out of range), and before
    /// any connection for a client certificate that cannot be used (`sslcert` without a key or
    /// the reverse, a file without a certificate or a key, an encrypted key, a key file its
    /// group or others may access, a key that is not the certificate's; the field is `sslcert`
    /// or `sslkey`); [`BatchError::QueueCertificate`] when the server's certificate fails a
    /// check; [`BatchError::Io`] when `sslrootcert`, `sslcert` or `sslkey` cannot be read;
    /// [`BatchError::Queue`] when the database cannot be reached within `connect_timeout` (10 s
    /// unless the URL sets it) or refuses the login (saying so when it wanted a client
    /// certificate or a password it was not given, and why a password file was skipped), or
    /// its tables were made by a newer release, or are not current and `migrate` is off.
    pub fn connect(self) -> Result<Queue, BatchError> {
        if !(1..=64).contains(&self.pool_size) {
            return Err(super::error::invalid("pool size", format!("must be from 1 to 64 (got {})", self.pool_size)));
        }
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let mut target = config::parse(&self.url, home.as_deref())?;
        if let Some(schema) = &self.schema {
            target.schema = Some(config::schema(schema)?);
        }
        let schema = target.schema.clone();
        let (shared, mut first) =
            Shared::open(target, self.pool_size, self.clock, self.reconnect_for, self.platform_tls)?;
        schema::prepare(&shared, &mut first, self.migrate, schema.as_deref())?;
        Ok(Queue { shared, lease: Duration::from_secs(30), idle: idle::Idle::default() })
    }
}

impl Queue {
    /// Connects to the database at `url` with the default settings (see [`Queue::builder`])
    /// and creates or upgrades the queue's tables.
    ///
    /// `url` is a `postgres://user@host:port/db?sslmode=verify-full&sslrootcert=system` URL or
    /// the `key=value` form, with libpq's meanings of `sslmode` (`disable`, `allow`, `prefer`
    /// (the default), `require`, `verify-ca`, `verify-full`), `sslrootcert` (a PEM file, or
    /// `system` for the platform's trust store), `connect_timeout` (default 10 s) and the TCP
    /// keepalive settings (default: a dead peer is noticed in about a minute), `sslcert` and
    /// `sslkey` (the client certificate and its key, PEM files: PKCS#8, PKCS#1 or SEC1 keys,
    /// not encrypted, the key `0600` or less; by default `~/.postgresql/postgresql.crt` and
    /// `postgresql.key` when they exist; not used with `sslmode=disable`), and the crate's own
    /// `schema`. Keep the password out of it: the password comes from `PGPASSWORD`, or a
    /// password file (`passfile=`, `PGPASSFILE`, `~/.pgpass`) as with `psql`, which, as libpq,
    /// skips a file its group or others may access (`chmod 0600` it).
    ///
    /// # Errors
    /// As [`QueueBuilder::connect`].
    pub fn connect(url: &str) -> Result<Queue, BatchError> {
        Queue::builder(url).connect()
    }

    /// The settings of a connection to `url` (see [`Queue::connect`] for its form).
    pub fn builder(url: &str) -> QueueBuilder {
        QueueBuilder {
            url: url.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            schema: None,
            migrate: true,
            reconnect_for: Duration::from_secs(120),
            clock: crate::clock::system(),
            platform_tls: false,
        }
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
    /// outcome is [`Outcome::InProgress`] while any item is unfinished. Reads only.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be read.
    pub fn report(&self) -> Result<BatchReport, BatchError> {
        let items = store::report(&mut self.open()?)?;
        let outcome = if items.iter().any(|item| item.status == ItemStatus::Unfinished) {
            Outcome::InProgress
        } else {
            Outcome::Finished
        };
        Ok(BatchReport { outcome, items, earlier_failures: 0 })
    }

    /// Where every item stands: its step, the worker holding it and since when, its attempts,
    /// how many times it lost its worker, its last error; and the batch-wide settings. Reads
    /// only.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be read.
    pub fn stats(&self) -> Result<QueueStats, BatchError> {
        let mut conn = self.open()?;
        let items = store::stats(&mut conn)?;
        let control = store::control(&mut conn)?;
        Ok(QueueStats {
            items,
            cancelled: control.cancelled,
            max_lost_workers: control.max_takeovers,
            max_credits: control.max_credits,
            committed_credits: control.committed_credits,
        })
    }

    /// Cancels the batch, for every worker on every machine: no item is created any more;
    /// the jobs already made are followed to their end and downloaded, then the workers stop
    /// (their report's outcome is [`Outcome::Cancelled`]). [`resume`](Queue::resume) undoes it.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be written.
    pub fn cancel(&self) -> Result<(), BatchError> {
        store::set_cancelled(&mut self.open()?, true)
    }

    /// Lets a cancelled batch create again.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be written.
    pub fn resume(&self) -> Result<(), BatchError> {
        store::set_cancelled(&mut self.open()?, false)
    }

    /// Puts every failed item back to be worked again (a failed job costs a new one; an
    /// uploaded file is not uploaded again) and returns how many. Run it from one place: an
    /// item that fails afterwards stays failed.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be written.
    pub fn retry_failed(&self) -> Result<u64, BatchError> {
        store::retry_failed(&mut self.open()?)
    }

    /// Sets, for the whole batch, how many times an item may lose its worker (its worker
    /// died or stalled past its lease and another took it over) before it is failed and
    /// reported instead of taken over again; `None` (the default) sets no cap.
    ///
    /// # Errors
    /// [`BatchError::Queue`] when the database cannot be written.
    pub fn set_max_lost_workers(&self, cap: Option<u32>) -> Result<(), BatchError> {
        store::set_max_takeovers(&mut self.open()?, cap)
    }

    /// Sets, for the whole batch, the most credits its creates may commit (`None`: no
    /// budget): workers create no item whose estimate (made when it was enqueued by a batch
    /// with [`Batch::max_credits`]) would take the estimates of the items already sent past
    /// it, and stop when only such items are left. Items enqueued without an estimate count
    /// as 0. Creates in flight at once may pass it by their own estimates.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for a budget that is not a finite number of credits, at
    /// least 0; [`BatchError::Queue`] when the database cannot be written.
    pub fn set_max_credits(&self, max: Option<f64>) -> Result<(), BatchError> {
        if let Some(max) = max.filter(|max| !max.is_finite() || *max < 0.0) {
            return Err(super::error::invalid(
                "max_credits",
                format!("must be a finite number of credits, at least 0 (got {max})"),
            ));
        }
        store::set_max_credits(&mut self.open()?, max)
    }

    /// How many connections this process holds to the database now (at most the pool size).
    pub fn connections(&self) -> u32 {
        self.shared.connections()
    }

    /// A handle on the pool for one worker thread (connections are opened when a statement
    /// needs one, so this does not fail; the `Result` keeps the worker's call site).
    #[allow(clippy::unnecessary_wraps)]
    fn open(&self) -> Result<Connection, BatchError> {
        Ok(Connection::new(Arc::clone(&self.shared)))
    }
}

impl Batch {
    /// Adds the items (ids and options resolved as [`run`](Batch::run) does, the shard
    /// applied) to the queue, and returns how many were new: an item already there with the
    /// same input and options is left as it is, so enqueuing the same list again adds nothing.
    /// With [`max_credits`](Batch::max_credits), each item's estimate is kept with it (the
    /// pricing is read) and the budget set for the whole batch (see [`Queue::set_max_credits`]).
    ///
    /// # Errors
    /// [`BatchError::Conflict`] naming the ids already in the queue with another input or
    /// other options (two batches sharing one queue and one id); [`BatchError::InvalidInput`]
    /// for bad items; [`BatchError::Client`] when the pricing cannot be read;
    /// [`BatchError::Queue`] when the database cannot be written. Nothing is added then.
    pub fn enqueue(&self, queue: &Queue, items: Vec<Item>) -> Result<u64, BatchError> {
        self.enqueue_with(queue, items, false)
    }

    /// As [`enqueue`](Batch::enqueue), but an item already in the queue with another input or
    /// other options is replaced: it starts again from nothing with the new ones (a job its
    /// old input already has is not followed any more, and still costs its credits).
    ///
    /// # Errors
    /// As [`enqueue`](Batch::enqueue), without [`BatchError::Conflict`].
    pub fn enqueue_replacing(&self, queue: &Queue, items: Vec<Item>) -> Result<u64, BatchError> {
        self.enqueue_with(queue, items, true)
    }

    fn enqueue_with(&self, queue: &Queue, items: Vec<Item>, replace: bool) -> Result<u64, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        let mut conn = queue.open()?;
        let credits: Vec<Option<f64>> = match self.max_credits {
            Some(max) => {
                let pricing = self.client.pricing()?;
                let estimate = super::estimate::estimate(&planned.iter().collect::<Vec<_>>(), &pricing);
                store::set_max_credits(&mut conn, Some(max))?;
                estimate.items.iter().map(|item| item.credits).collect()
            }
            None => vec![None; planned.len()],
        };
        store::enqueue(&mut conn, &planned, &credits, replace)
    }

    /// Works the queue's items with this batch's client, output folder, concurrency, poll
    /// schedule, `max_attempts` and `recreate_uncertain` (which also reaches the items the
    /// queue already holds as uncertain; the journal, `retry_failed` and the shard are the
    /// file journal's and do not apply; see [`Queue::retry_failed`]); `max_credits`, when set,
    /// becomes the whole batch's budget ([`Queue::set_max_credits`]), until no item is left
    /// open (items other workers hold are waited for: their workers may die), then reports on
    /// the whole queue. Out of credits, it claims no new item and ends with
    /// [`Outcome::StoppedForCredits`], the items not yet created
    /// [`NotStarted`](ItemStatus::NotStarted) as with a journal; cancelled, it gives its items
    /// back and ends with [`Outcome::Cancelled`].
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for bad settings; [`BatchError::Queue`] when the database
    /// cannot be reached or written (the run stops: it cannot promise what it has not
    /// committed); [`BatchError::Unauthorized`] when the API refuses the key (the run stops,
    /// no item is failed by it); [`BatchError::Io`] when the output folder cannot be created.
    pub fn work(&self, queue: &Queue) -> Result<BatchReport, BatchError> {
        self.check()?;
        if let Some(max) = self.max_credits {
            queue.set_max_credits(Some(max))?;
        }
        let ended = worker::work(self, queue)?;
        let mut report = queue.report()?;
        // Items left because the batch was cancelled (here, or for the whole queue).
        let cancelled = ended == worker::Ended::Cancelled || store::control(&mut queue.open()?)?.cancelled;
        if ended == worker::Ended::OutOfCredits {
            for item in &mut report.items {
                if item.status == ItemStatus::Unfinished && item.job_id.is_none() {
                    item.status = ItemStatus::NotStarted;
                }
            }
        }
        report.outcome = match ended {
            worker::Ended::OutOfCredits => Outcome::StoppedForCredits,
            _ if cancelled && report.outcome == Outcome::InProgress => Outcome::Cancelled,
            _ => report.outcome,
        };
        Ok(report)
    }
}
