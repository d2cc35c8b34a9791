//! One process's share of a queue: worker threads that claim items one at a time and take each
//! to its end, committing every step before acting on it, and one thread renewing their leases.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::StatusCode;

use super::store::{self, Claimed, Connection, Step, Write};
use super::Queue;
use crate::batch::event::Event;
use crate::batch::journal::sync_folder;
use crate::batch::lookup::{self, Wanted};
use crate::batch::pace::Pace;
use crate::batch::report::{ItemError, Stage};
use crate::batch::run::{item_error, output_extension, uncertain_create_error};
use crate::batch::{Batch, BatchError};
use crate::{Error, Job};

/// How a process's run of the queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Done,
    Cancelled,
    OutOfCredits,
}

struct Work<'a> {
    batch: &'a Batch,
    queue: &'a Queue,
    /// The client's clock: back-offs and the pause before a new job's first poll.
    pace: Pace,
    /// Real time, whatever the client's clock: leases run out on the database's clock, so
    /// renewals and the waits for other workers' items are real pauses.
    real: Pace,
    lease: Duration,
    /// The lease tokens this process holds now: the renewal thread keeps them alive.
    held: Mutex<HashSet<i64>>,
    out_of_credits: AtomicBool,
    fatal: Mutex<Option<BatchError>>,
    /// Set once every worker thread has returned: the renewal thread stops.
    finished: AtomicBool,
    worker: String,
}

/// Works the queue with the batch's settings until no item is left open (or a cancel, or the
/// account runs out of credits).
pub(crate) fn work(batch: &Batch, queue: &Queue) -> Result<Ended, BatchError> {
    fs::create_dir_all(&batch.out_dir).map_err(|source| BatchError::Io {
        action: "could not create the output folder",
        path: batch.out_dir.clone(),
        source,
    })?;
    let work = Work {
        batch,
        queue,
        pace: Pace::new(Arc::clone(&batch.clock), batch.client.runtime.clone()),
        real: Pace::new(crate::clock::system(), batch.client.runtime.clone()),
        lease: queue.lease,
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

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_owned()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "worker".to_owned())
}

/// Why an item's processing stopped early.
enum Stop {
    /// The lease is gone: another worker has the item.
    LeaseLost,
    /// The worker is stopping (cancel, credits); the item is given back.
    Release,
}

impl Work<'_> {
    fn thread(&self) {
        let mut conn = match self.queue.open() {
            Ok(conn) => conn,
            Err(error) => return self.halt(error),
        };
        while !self.stopping() {
            let token = loop {
                let token = fastrand::i64(1..);
                if self.held().insert(token) {
                    break token;
                }
            };
            let claimed = store::claim(&mut conn, token, self.lease_secs(), &self.worker);
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
                    match self
                        .queue
                        .idle
                        .wait(&mut conn, || self.real.sleep(pause, self.batch.cancel.flag()) && !self.stopping())
                    {
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
        let mut step = claimed.step;
        let mut video_url = claimed.video_url.clone();
        let mut attempt = claimed.attempt;
        let mut job_id = claimed.job_id.clone();
        let mut job: Option<Job> = None;
        let mut tries = 0u32;
        // A job created here is first polled one interval after its create, as the file
        // journal's poller does; an adopted one at once.
        let mut just_created = false;
        self.emit(Event::Started { item: id.to_owned() });
        let record = |conn: &mut Connection, write: Write<'_>| self.record(conn, id, token, &write);
        // A job the account already has (found after a lost answer) is this item's job.
        let adopt = |conn: &mut Connection, found: String| -> Result<String, Stop> {
            record(conn, Write::Created { job_id: &found })?;
            self.emit(Event::Created { item: id.to_owned(), job_id: found.clone() });
            Ok(found)
        };
        let fail = |conn: &mut Connection, error: ItemError| -> Result<(), Stop> {
            record(conn, Write::Failed(&error))?;
            self.emit(Event::Failed { item: id.to_owned(), error });
            Ok(())
        };
        loop {
            // Out of credits, the jobs already made are still followed to their end.
            if self.batch.cancel.is_cancelled() || self.fatal.lock().unwrap_or_else(PoisonError::into_inner).is_some() {
                return Err(Stop::Release);
            }
            match step {
                Step::Completed | Step::Failed | Step::Uncertain => return Ok(()),
                Step::Pending => match &item.source {
                    crate::batch::Source::Url(url) => {
                        video_url = Some(url.clone());
                        step = Step::Uploaded;
                    }
                    crate::batch::Source::File(path) => match self.batch.client.upload(path).send() {
                        Ok(upload) => {
                            record(conn, Write::Uploaded { video_url: &upload.video_url })?;
                            self.emit(Event::Uploaded { item: id.to_owned() });
                            video_url = Some(upload.video_url);
                            step = Step::Uploaded;
                        }
                        Err(error) if self.again(&error, &mut tries) => {}
                        Err(error) => return fail(conn, item_error(Stage::Upload, &error)),
                    },
                },
                Step::Uploaded => {
                    if self.out_of_credits.load(Ordering::SeqCst) {
                        return Err(Stop::Release);
                    }
                    let url = match (&video_url, &item.source) {
                        (Some(url), _) | (None, crate::batch::Source::Url(url)) => url.clone(),
                        (None, crate::batch::Source::File(_)) => {
                            step = Step::Pending;
                            continue;
                        }
                    };
                    attempt = attempt.saturating_add(1);
                    let request = item.options.create_job(&url, id, attempt);
                    if let Err(error) = request.validate() {
                        return fail(conn, item_error(Stage::Create, &error));
                    }
                    let at = Pace::wall_seconds();
                    record(conn, Write::CreateSent { attempt, video_url: &url, at })?;
                    self.emit(Event::CreateSent { item: id.to_owned() });
                    crash_point("create_sent");
                    match self.batch.client.create_job(&request) {
                        Ok(submission) => {
                            crash_point("created");
                            record(conn, Write::Created { job_id: &submission.id })?;
                            self.emit(Event::Created { item: id.to_owned(), job_id: submission.id.clone() });
                            job_id = Some(submission.id);
                            just_created = true;
                            step = Step::Created;
                        }
                        Err(error) => {
                            let status = error.api_error().map(crate::ApiError::status);
                            match status {
                                Some(_) if error.is_insufficient_credits() => {
                                    self.out_of_credits.store(true, Ordering::SeqCst);
                                    return fail(conn, item_error(Stage::Create, &error));
                                }
                                Some(StatusCode::TOO_MANY_REQUESTS) => {
                                    record(conn, Write::CreateRefused)?;
                                    if !self.again(&error, &mut tries) {
                                        return fail(conn, item_error(Stage::Create, &error));
                                    }
                                    step = Step::Uploaded;
                                }
                                Some(status) if !status.is_server_error() => {
                                    return fail(conn, item_error(Stage::Create, &error));
                                }
                                // A 5xx answer, or none: the server may have made the job.
                                answered => {
                                    let wanted = Wanted { item: id.to_owned(), attempt, video_url: url, sent_at: at };
                                    match self.find(conn, wanted)? {
                                        Ok(Some(found)) => {
                                            job_id = Some(adopt(conn, found)?);
                                            step = Step::Created;
                                        }
                                        // It answered and lists no such job, or we may make another.
                                        Ok(None) if answered.is_some() || self.batch.recreate_uncertain => {
                                            record(conn, Write::CreateRefused)?;
                                            if !self.again(&error, &mut tries) {
                                                return fail(conn, item_error(Stage::Create, &error));
                                            }
                                            step = Step::Uploaded;
                                        }
                                        _ => return self.uncertain(conn, id, token, Some(&error)),
                                    }
                                }
                            }
                        }
                    }
                }
                Step::CreateSent => {
                    // The worker that sent this create died before recording its answer.
                    let wanted = Wanted {
                        item: id.to_owned(),
                        attempt,
                        video_url: video_url.clone().unwrap_or_default(),
                        sent_at: claimed.sent_at,
                    };
                    match self.find(conn, wanted)? {
                        Ok(Some(found)) => {
                            job_id = Some(adopt(conn, found)?);
                            step = Step::Created;
                        }
                        Ok(None) if self.batch.recreate_uncertain => {
                            record(conn, Write::CreateRefused)?;
                            step = Step::Uploaded;
                        }
                        Ok(None) => return self.uncertain(conn, id, token, None),
                        Err(error) => return self.uncertain(conn, id, token, Some(&error)),
                    }
                }
                Step::Created => {
                    let Some(current) = job_id.clone() else {
                        step = Step::Uploaded;
                        continue;
                    };
                    let schedule = self.batch.schedule();
                    if std::mem::take(&mut just_created)
                        && !self.pace.sleep(schedule.first_interval(), self.batch.cancel.flag())
                    {
                        return Err(Stop::Release);
                    }
                    let options = schedule.timeout(Duration::MAX).on_update(|job: &Job| {
                        self.emit(Event::Progress {
                            item: id.to_owned(),
                            job_id: job.id.clone(),
                            status: job.status.clone(),
                            progress: job.progress,
                        });
                    });
                    match self.batch.client.wait_for_completion(&current, options) {
                        Ok(done) => {
                            record(conn, Write::Finished)?;
                            self.emit(Event::Finished { item: id.to_owned(), job_id: current, completed: true });
                            job = Some(done);
                            step = Step::Finished;
                        }
                        Err(Error::JobFailed(failed)) => {
                            self.emit(Event::Finished { item: id.to_owned(), job_id: current, completed: false });
                            let message = failed
                                .error
                                .clone()
                                .unwrap_or_else(|| "the job failed; the service gave no reason".into());
                            let error =
                                ItemError { stage: Stage::Job, status: None, code: None, message, request_id: None };
                            return fail(conn, error);
                        }
                        Err(error) if self.again(&error, &mut tries) => {}
                        Err(error) => return fail(conn, item_error(Stage::Poll, &error)),
                    }
                }
                Step::Finished => {
                    let Some(current) = job_id.clone() else {
                        step = Step::Uploaded;
                        continue;
                    };
                    // Output URLs expire: a job finished by another worker is read again.
                    let fresh = match job.take() {
                        Some(job) => Ok(job),
                        None => self.batch.client.get_job(&current),
                    };
                    match fresh
                        .and_then(|fresh| self.download(id, &item.options, &fresh, token).map(|saved| (fresh, saved)))
                    {
                        Ok((_, (path, size))) => {
                            let text = path.to_string_lossy();
                            record(conn, Write::Completed { path: &text, size })?;
                            self.emit(Event::Downloaded { item: id.to_owned(), path, size });
                            return Ok(());
                        }
                        Err(error) if self.again(&error, &mut tries) => {}
                        Err(error) => return fail(conn, item_error(Stage::Download, &error)),
                    }
                }
            }
        }
    }

    /// Downloads the output beside its final name, under a name of this lease's own (two
    /// workers may download one item when a lease ran out), then renames it into place.
    fn download(
        &self,
        id: &str,
        options: &crate::batch::JobOptions,
        job: &Job,
        token: i64,
    ) -> Result<(PathBuf, u64), Error> {
        let ext = output_extension(job, options);
        let path = self.batch.out_dir.join(format!("{id}.{ext}"));
        let own = self.batch.out_dir.join(format!(".{id}.{token:x}.download"));
        let size = self.batch.client.download_output(job)?.to_path(&own)?;
        let io = |action, path: &Path, source| Error::Io { action, path: path.to_owned(), source };
        fs::File::open(&own).and_then(|file| file.sync_all()).map_err(|e| io("could not sync", &own, e))?;
        fs::rename(&own, &path).map_err(|e| io("could not move the download to", &path, e))?;
        sync_folder(&path);
        Ok((path, size))
    }

    /// Looks for the job of a create whose answer was lost.
    fn find(&self, conn: &mut Connection, wanted: Wanted) -> Result<Result<Option<String>, Error>, Stop> {
        let known = match store::known_jobs(conn) {
            Ok(known) => known,
            Err(error) => {
                self.halt(error);
                return Err(Stop::LeaseLost);
            }
        };
        Ok(lookup::find_jobs(&self.batch.client, std::slice::from_ref(&wanted), &known)
            .map(|mut found| found.remove(&0)))
    }

    fn uncertain(&self, conn: &mut Connection, id: &str, token: i64, error: Option<&Error>) -> Result<(), Stop> {
        let error = uncertain_create_error(error);
        self.record(conn, id, token, &Write::Uncertain(&error))?;
        self.emit(Event::Uncertain { item: id.to_owned() });
        Ok(())
    }

    /// Commits one step of item `id` under this worker's lease `token`; a lost lease, or a
    /// database failure (which halts the worker), stops the item.
    fn record(&self, conn: &mut Connection, id: &str, token: i64, write: &Write<'_>) -> Result<(), Stop> {
        match store::record(conn, id, token, self.lease_secs(), write) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::LeaseLost),
            Err(fatal) => {
                self.halt(fatal);
                Err(Stop::LeaseLost)
            }
        }
    }

    /// Whether a failed step may be tried again (after a pause): a 429, a 5xx or a broken
    /// connection, fewer than `max_attempts` times.
    fn again(&self, error: &Error, tries: &mut u32) -> bool {
        let transient = error.status() == Some(StatusCode::TOO_MANY_REQUESTS) || error.is_retryable();
        *tries += 1;
        if !transient || *tries >= self.batch.max_attempts {
            return false;
        }
        let shift = (*tries - 1).min(16);
        let own = self.batch.backoff.saturating_mul(1 << shift).min(self.batch.max_backoff);
        let pause = error.retry_after().unwrap_or(own).min(Duration::from_secs(600));
        self.pace.sleep(pause, self.batch.cancel.flag())
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
            let tokens: Vec<i64> = self.held().iter().copied().collect();
            if tokens.is_empty() {
                continue;
            }
            if let Err(error) = store::renew(&mut conn, &tokens, self.lease_secs()) {
                return self.halt(error);
            }
        }
    }

    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopping(&self) -> bool {
        self.batch.cancel.is_cancelled()
            || self.out_of_credits.load(Ordering::SeqCst)
            || self.fatal.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    fn halt(&self, error: BatchError) {
        self.fatal.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(error);
    }

    fn emit(&self, event: Event) {
        self.batch.emit(&event);
    }
}

/// Tests kill a worker at a chosen step (`REMOVEBGVIDEO_TEST_CRASH_AT=create_sent` or
/// `created`: after that step is committed and, for `created`, after the create's answer
/// came but before it is recorded), as a power cut would. Only with `test-util`.
#[cfg(feature = "test-util")]
fn crash_point(step: &str) {
    if std::env::var("REMOVEBGVIDEO_TEST_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
}

#[cfg(not(feature = "test-util"))]
fn crash_point(_step: &str) {}
