//! One process's share of a queue: worker threads that claim items one at a time and take each
//! through the item [`lifecycle`](crate::batch::lifecycle), every step committed under the
//! item's lease before it is acted on, and one thread renewing their leases.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::store::{self, Claimed, Connection, Step as Stage, Write};
use super::Queue;
use crate::batch::error::BatchError;
use crate::batch::event::Event;
use crate::batch::item::Source;
use crate::batch::journal::{hostname, Step};
use crate::batch::lifecycle::{is_unauthorized, job_error, Attempt, Created, Lifecycle, Lost, Polled, Record};
use crate::batch::lookup::Wanted;
use crate::batch::pace::Pace;
use crate::batch::report::ItemError;
use crate::batch::setup::Batch;
use crate::client::{Error, RequestOptions};
use crate::models::Job;

/// How a process's run of the queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Done,
    Cancelled,
    OutOfCredits,
}

/// When a lease was last renewed, as this process saw it: the instant (and wall time) just
/// before the statement that renewed it was sent, so the lease runs at least a lease from then.
#[derive(Debug, Clone, Copy)]
struct Renewed {
    at: Instant,
    wall: SystemTime,
}

impl Renewed {
    fn now() -> Self {
        Renewed { at: Instant::now(), wall: SystemTime::now() }
    }

    /// How long the lease surely has left: measured on both clocks, the shorter (a monotonic
    /// clock may stand still while the machine sleeps; the wall clock does not).
    fn left(&self, lease: Duration) -> Duration {
        let by_instant = self.at.elapsed();
        let by_wall = SystemTime::now().duration_since(self.wall).unwrap_or(Duration::MAX);
        lease.saturating_sub(by_instant.max(by_wall))
    }
}

struct Work<'a> {
    batch: &'a Batch,
    queue: &'a Queue,
    life: Lifecycle<'a>,
    /// The client's clock: the pause before a new job's first poll.
    pace: Pace,
    /// Real time, whatever the client's clock: leases run out on the database's clock, so
    /// renewals and the waits for other workers' items are real pauses.
    real: Pace,
    lease: Duration,
    /// A create goes only while its lease surely has more than this left: the create's call
    /// timeout plus a margin (see the fenced create in `Queue`'s documentation).
    fence: Duration,
    /// The lease tokens this process holds now, with their last renewal: the renewal thread
    /// keeps them alive.
    held: Mutex<HashMap<i64, Renewed>>,
    out_of_credits: AtomicBool,
    fatal: Mutex<Option<BatchError>>,
    /// Set once every worker thread has returned: the renewal thread stops.
    finished: AtomicBool,
    worker: String,
}

/// The call timeout of a queue worker's create, and the margin after it, for a lease: half the
/// lease and a quarter of it. A create goes only while the lease has more than both left.
pub(crate) fn create_bounds(lease: Duration) -> (Duration, Duration) {
    (lease / 2, lease / 4)
}

/// Works the queue with the batch's settings until no item is left open (or a cancel, or the
/// account runs out of credits).
pub(crate) fn work(batch: &Batch, queue: &Queue) -> Result<Ended, BatchError> {
    fs::create_dir_all(&batch.out_dir).map_err(|source| BatchError::Io {
        action: "create the output folder",
        path: batch.out_dir.clone(),
        source,
    })?;
    let (timeout, margin) = create_bounds(queue.lease);
    // Each create is one try within its timeout: the client's own retries would stretch it
    // past the fence; the lifecycle retries instead, paced at the client's shared back-off.
    let creator = batch.client.with_options(RequestOptions::new().timeout(timeout).max_retries(0))?;
    let work = Work {
        batch,
        queue,
        life: Lifecycle::new(batch, creator, timeout + margin),
        pace: Pace::new(Arc::clone(&batch.clock), batch.client.runtime.clone()),
        real: Pace::new(crate::clock::system(), batch.client.runtime.clone()),
        lease: queue.lease,
        fence: timeout + margin,
        held: Mutex::default(),
        out_of_credits: AtomicBool::new(false),
        fatal: Mutex::new(None),
        finished: AtomicBool::new(false),
        worker: format!("{}:{}", hostname(), std::process::id()),
    };
    std::thread::scope(|scope| {
        let renewer = scope.spawn(|| work.renew_leases());
        let threads: Vec<_> = (0..batch.concurrency).map(|_| scope.spawn(|| work.thread())).collect();
        for thread in threads {
            if thread.join().is_err() {
                work.halt(BatchError::Queue { reason: "a worker thread panicked".into(), source: None });
            }
        }
        work.finished.store(true, Ordering::SeqCst);
        let _ = renewer.join();
    });
    if let Some(fatal) = work.fatal.lock().unwrap_or_else(PoisonError::into_inner).take() {
        return Err(fatal);
    }
    Ok(if work.out_of_credits.load(Ordering::SeqCst) {
        Ended::OutOfCredits
    } else if batch.cancel.is_cancelled() {
        Ended::Cancelled
    } else {
        Ended::Done
    })
}

/// Why an item's processing stopped early.
enum Stop {
    /// The lease is gone (another worker has the item), or the worker halted.
    LeaseLost,
    /// The worker is stopping (cancel, credits, the key); the item is given back.
    Release,
}

/// One claimed item's steps, committed under its lease.
struct Claim<'w, 'a> {
    work: &'w Work<'a>,
    conn: &'w mut Connection,
    id: &'w str,
    token: i64,
    /// The lease turned out to be another worker's.
    lost: bool,
}

impl Claim<'_, '_> {
    fn commit(&mut self, write: &Write<'_>) -> bool {
        let renewed = Renewed::now();
        let held = store::record(self.conn, self.id, self.token, self.work.lease_secs(), write);
        self.under_lease(held, renewed)
    }

    /// Takes in what a statement sent under the lease at `renewed` found: the lease still held
    /// (and renewed from then), lost to another worker, or a database failure (which halts).
    fn under_lease(&mut self, held: Result<bool, BatchError>, renewed: Renewed) -> bool {
        match held {
            Ok(true) => {
                self.work.renewed(self.token, renewed);
                true
            }
            Ok(false) => {
                self.lost = true;
                false
            }
            Err(fatal) => {
                self.work.halt(fatal);
                false
            }
        }
    }

    /// Why the item stops, once a step could not be taken.
    fn stop(&self) -> Stop {
        if self.lost || self.work.halted() {
            Stop::LeaseLost
        } else {
            Stop::Release
        }
    }
}

impl Record for Claim<'_, '_> {
    fn record(&mut self, step: Step) -> bool {
        let text;
        let failed: ItemError;
        let write = match &step {
            Step::Uploaded { video_url } => Write::Uploaded { video_url },
            Step::CreateSent { attempt, video_url, .. } => Write::CreateSent { attempt: *attempt, video_url },
            Step::Created { job_id } => Write::Created { job_id },
            Step::CreateRefused { .. } => Write::CreateRefused,
            Step::Finished { status, error, .. } if status != "completed" => {
                failed = job_error(error.clone());
                Write::Failed(&failed)
            }
            Step::Finished { .. } => Write::Finished,
            Step::Downloaded { path, size } => {
                text = path.to_string_lossy();
                Write::Completed { path: &text, size: *size }
            }
            Step::Failed { stage, status, code, message, request_id } => {
                failed = ItemError {
                    stage: *stage,
                    status: *status,
                    code: code.as_deref().map(crate::models::ErrorCode::from),
                    message: message.clone(),
                    request_id: request_id.clone(),
                };
                Write::Failed(&failed)
            }
        };
        self.commit(&write)
    }

    fn uncertain(&mut self, error: &ItemError) -> bool {
        self.commit(&Write::Uncertain(error))
    }

    /// The fence: the create goes only while the lease surely outlasts it (its call timeout
    /// and a margin). Else the lease is renewed first, on this thread; when it cannot be (it
    /// is another worker's now), nothing is sent.
    fn may_send_create(&mut self) -> bool {
        if self.work.left(self.token) > self.work.fence {
            return true;
        }
        let renewed = Renewed::now();
        let held =
            store::renew(self.conn, &[self.token], self.work.lease_secs()).map(|kept| kept.contains(&self.token));
        self.under_lease(held, renewed) && self.work.left(self.token) > self.work.fence
    }

    fn known_jobs(&mut self) -> Option<HashSet<String>> {
        store::known_jobs(self.conn).map_err(|fatal| self.work.halt(fatal)).ok()
    }

    fn download_tag(&self) -> Option<i64> {
        Some(self.token)
    }
}

impl Work<'_> {
    fn thread(&self) {
        let mut conn = match self.queue.open() {
            Ok(conn) => conn,
            Err(error) => return self.halt(error),
        };
        let fence_secs = self.fence.as_secs_f64();
        while !self.stopping() {
            let token = loop {
                let token = fastrand::i64(1..);
                let mut held = self.held();
                if let std::collections::hash_map::Entry::Vacant(entry) = held.entry(token) {
                    entry.insert(Renewed::now());
                    break token;
                }
            };
            let uncertain = self.batch.recreate_uncertain;
            let claimed = store::claim(&mut conn, token, self.lease_secs(), &self.worker, uncertain, fence_secs);
            match claimed {
                Ok(Some(claimed)) => {
                    let id = claimed.item.id.clone();
                    match self.process(&mut conn, token, claimed) {
                        Ok(()) | Err(Stop::LeaseLost) => {}
                        Err(Stop::Release) => {
                            if let Err(error) = store::release(&mut conn, &id, token) {
                                self.halt(error);
                            }
                        }
                    }
                    self.held().remove(&token);
                }
                Ok(None) => {
                    self.held().remove(&token);
                    // Other workers hold the rest: they may finish them, or die and leave them.
                    // One thread of the process polls for that; the others wait for its word.
                    let pause = (self.lease / 4).clamp(Duration::from_millis(50), Duration::from_secs(2));
                    let go_on = || self.real.sleep(pause, self.batch.cancel.flag()) && !self.stopping();
                    match self.queue.idle.wait(&mut conn, uncertain, go_on) {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(error) => return self.halt(error),
                    }
                }
                Err(error) => {
                    self.held().remove(&token);
                    return self.halt(error);
                }
            }
        }
    }

    /// Takes one claimed item from its last committed step to its end.
    fn process(&self, conn: &mut Connection, token: i64, claimed: Claimed) -> Result<(), Stop> {
        let item = &claimed.item;
        let id = item.id.as_str();
        let mut rec = Claim { work: self, conn, id, token, lost: false };
        let mut step = claimed.step;
        let mut video_url = claimed.video_url.clone();
        let mut attempt = claimed.attempt;
        let mut job_id = claimed.job_id.clone();
        let mut job: Option<Job> = None;
        let mut tries = 0u32;
        // A job created here is first polled one interval after its create, as the file
        // journal's poller does; an adopted one at once.
        let mut just_created = false;
        // Failed by the claim itself (it lost its worker more times than the batch allows):
        // reported, nothing done.
        if step == Stage::Failed {
            if let Some(error) = claimed.error.clone() {
                self.emit(Event::Failed { item: id.to_owned(), error });
            }
            return Ok(());
        }
        self.emit(Event::Started { item: id.to_owned() });
        loop {
            // Out of credits, the jobs already made are still followed to their end.
            if self.batch.cancel.is_cancelled() || self.halted() {
                return Err(Stop::Release);
            }
            match step {
                Stage::Completed | Stage::Failed => return Ok(()),
                Stage::Pending => match &item.source {
                    Source::Url(url) => {
                        video_url = Some(url.clone());
                        step = Stage::Uploaded;
                    }
                    Source::File(path) => match self.life.upload(&mut rec, id, path, tries) {
                        Attempt::Done(url) => {
                            video_url = Some(url);
                            step = Stage::Uploaded;
                            tries = 0;
                        }
                        Attempt::Again => tries += 1,
                        other => return self.ended(&rec, other),
                    },
                },
                Stage::Uploaded => {
                    if self.out_of_credits.load(Ordering::SeqCst) {
                        return Err(Stop::Release);
                    }
                    let url = match (&video_url, &item.source) {
                        (Some(url), _) | (None, Source::Url(url)) => url.clone(),
                        (None, Source::File(_)) => {
                            step = Stage::Pending;
                            continue;
                        }
                    };
                    attempt = attempt.saturating_add(1);
                    match self.life.create(&mut rec, item, &url, attempt, tries) {
                        Created::Job(created) => {
                            job_id = Some(created);
                            just_created = true;
                            step = Stage::Created;
                            tries = 0;
                        }
                        Created::Again => tries += 1,
                        Created::OutOfCredits(_) => {
                            // Recorded `create_refused`: the item waits, not started, for a
                            // worker once the account is topped up.
                            self.out_of_credits.store(true, Ordering::SeqCst);
                            return Err(Stop::Release);
                        }
                        Created::Unauthorized(error) => return self.ended(&rec, Attempt::<()>::Unauthorized(error)),
                        Created::Failed(_) | Created::Uncertain(_) => return Ok(()),
                        Created::Stopped => return Err(rec.stop()),
                    }
                }
                // A create whose sender died (or stalled) before recording its answer, or one
                // left uncertain that the caller asked to create again.
                Stage::CreateSent | Stage::Uncertain => {
                    // The fence: a create its sender may still have had under way is over
                    // once the bound has passed since `create_sent`.
                    if !claimed.fence_wait.is_zero() && !self.real.sleep(claimed.fence_wait, self.batch.cancel.flag()) {
                        return Err(Stop::Release);
                    }
                    let wanted = Wanted {
                        item: id.to_owned(),
                        attempt,
                        video_url: video_url.clone().unwrap_or_default(),
                        sent_at: claimed.sent_at,
                    };
                    let found = match self.life.find(&mut rec, wanted) {
                        None => return Err(rec.stop()),
                        Some(Err(error)) if is_unauthorized(&error) => {
                            return self.ended(&rec, Attempt::<()>::Unauthorized(error))
                        }
                        Some(found) => found,
                    };
                    match self.life.lost(&mut rec, id, found.as_ref().map(Clone::clone)) {
                        Lost::Adopted(found) => {
                            job_id = Some(found);
                            step = Stage::Created;
                        }
                        Lost::Recreate => {
                            if !rec.record(Step::CreateRefused { status: 0, code: None }) {
                                return Err(rec.stop());
                            }
                            step = Stage::Uploaded;
                        }
                        Lost::Uncertain(_) => return Ok(()),
                        Lost::Stopped => return Err(rec.stop()),
                    }
                }
                Stage::Created => {
                    let Some(current) = job_id.clone() else {
                        step = Stage::Uploaded;
                        continue;
                    };
                    let schedule = self.batch.schedule();
                    if std::mem::take(&mut just_created)
                        && !self.pace.sleep(schedule.first_interval(), self.batch.cancel.flag())
                    {
                        return Err(Stop::Release);
                    }
                    let options = schedule.timeout(Duration::MAX).on_update(|job: &Job| {
                        if !job.is_completed() && !job.is_failed() {
                            self.emit(Event::Progress {
                                item: id.to_owned(),
                                job_id: job.id.clone(),
                                status: job.status.clone(),
                                progress: job.progress,
                            });
                        }
                    });
                    let polled = match self.batch.client.wait_for_completion(&current, options) {
                        Ok(done) => self.life.polled(&mut rec, id, done),
                        Err(Error::JobFailed(failed)) => self.life.polled(&mut rec, id, *failed),
                        Err(error) => match self.life.poll_failed(&mut rec, id, error, tries) {
                            Attempt::Again => {
                                tries += 1;
                                continue;
                            }
                            other => return self.ended(&rec, other),
                        },
                    };
                    match polled {
                        Polled::Completed(done) => {
                            job = Some(*done);
                            step = Stage::Finished;
                            tries = 0;
                        }
                        Polled::Running => {}
                        Polled::Failed(_) => return Ok(()),
                        Polled::Stopped => return Err(rec.stop()),
                    }
                }
                Stage::Finished => {
                    let Some(current) = job_id.clone() else {
                        step = Stage::Uploaded;
                        continue;
                    };
                    // Output URLs expire: a job finished by another worker is read again.
                    let fresh = match job.take() {
                        Some(job) => job,
                        None => match self.batch.client.get_job(&current) {
                            Ok(fresh) => fresh,
                            Err(error) => match self.life.poll_failed(&mut rec, id, error, tries) {
                                Attempt::Again => {
                                    tries += 1;
                                    continue;
                                }
                                other => return self.ended(&rec, other),
                            },
                        },
                    };
                    match self.life.download(&mut rec, id, &item.options, &fresh, tries) {
                        Attempt::Again => tries += 1,
                        other => return self.ended(&rec, other),
                    }
                }
            }
        }
    }

    /// What a step's end means for the worker: an item done or failed is left; the key
    /// refused stops every worker (the item given back, not failed).
    fn ended<T>(&self, rec: &Claim<'_, '_>, attempt: Attempt<T>) -> Result<(), Stop> {
        match attempt {
            Attempt::Done(_) | Attempt::Failed(_) => Ok(()),
            Attempt::Unauthorized(error) => {
                self.halt(BatchError::Unauthorized(error));
                Err(Stop::Release)
            }
            Attempt::Again | Attempt::Stopped => Err(rec.stop()),
        }
    }

    /// Keeps this process's leases alive, a third of a lease apart, until every thread is done.
    fn renew_leases(&self) {
        let mut conn = match self.queue.open() {
            Ok(conn) => conn,
            Err(error) => return self.halt(error),
        };
        let every = (self.lease / 3).max(Duration::from_millis(10));
        while !self.finished.load(Ordering::SeqCst) {
            if !self.real.sleep(every, &self.finished) {
                return;
            }
            let tokens: Vec<i64> = self.held().keys().copied().collect();
            if tokens.is_empty() {
                continue;
            }
            let renewed = Renewed::now();
            match store::renew(&mut conn, &tokens, self.lease_secs()) {
                Ok(kept) => kept.into_iter().for_each(|token| self.renewed(token, renewed)),
                Err(error) => return self.halt(error),
            }
        }
    }

    /// Notes a renewal of lease `token` (sent at `renewed`), unless one sent later is known.
    fn renewed(&self, token: i64, renewed: Renewed) {
        if let Some(known) = self.held().get_mut(&token)
            && known.at < renewed.at
        {
            *known = renewed;
        }
    }

    /// How long lease `token` surely has left.
    fn left(&self, token: i64) -> Duration {
        self.held().get(&token).map_or(Duration::ZERO, |renewed| renewed.left(self.lease))
    }

    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Renewed>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn halted(&self) -> bool {
        self.fatal.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    fn stopping(&self) -> bool {
        self.batch.cancel.is_cancelled() || self.out_of_credits.load(Ordering::SeqCst) || self.halted()
    }

    fn halt(&self, error: BatchError) {
        self.fatal.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(error);
    }

    fn emit(&self, event: Event) {
        self.batch.emit(&event);
    }
}
