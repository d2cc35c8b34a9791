//! The life of one item, written once for both engines: upload, create (with the search for a
//! job whose create answer was lost), the reading of a polled job, download (synced, then
//! renamed into place), and what each failure means for the item.
//!
//! Each step is recorded through [`Record`] **before** the item acts on it; the file journal
//! ([`run`](super::run)) and the PostgreSQL queue ([`queue`](super::queue), feature
//! `postgres`) are its two implementations, one worker over pluggable backends. Scheduling
//! (threads, the poller) stays in `run.rs`; claiming and leases stay in the queue. So the two
//! engines cannot drift: the same answer gives the same status in both, and both pace their
//! retries at the client's shared back-off (the [`Gate`]).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use http::StatusCode;

use super::event::Event;
use super::gate::Gate;
use super::item::{JobOptions, Planned};
use super::journal::{sync_folder, Step};
use super::lookup::{self, Wanted};
use super::pace::Pace;
use super::report::{ItemError, Stage};
use super::setup::Batch;
use crate::client::download::without_query;
use crate::client::{Client, Error};
use crate::models::{ErrorCode, Job};

/// Where an engine keeps an item's steps.
pub(crate) trait Record {
    /// Commits `step` of this item (durably) before the caller acts on it. `false` when the
    /// item must not be touched any more: the step could not be recorded (the run is stopping)
    /// or another worker has the item now. The caller then returns at once.
    fn record(&mut self, step: Step) -> bool;

    /// Records that the item's create answer was lost and no job matches it. The journal
    /// needs no line for it (its open `create_sent` says as much on the next run).
    fn uncertain(&mut self, _error: &ItemError) -> bool {
        true
    }

    /// Asked right after `create_sent` is recorded, right before the create goes: `false`
    /// when it must not go (a queue whose lease has too little time left and could not be
    /// renewed). The caller then returns: whoever takes the item over finds `create_sent`.
    fn may_send_create(&mut self) -> bool {
        true
    }

    /// Every job id already tied to an item: a lost create never adopts one. `None` when they
    /// cannot be read (the run is stopping).
    fn known_jobs(&mut self) -> Option<HashSet<String>>;

    /// Where two holders may download one item at once (a queue whose lease ran out), a tag of
    /// this holder's own: the output is downloaded under `.<id>.<tag>.download` and renamed
    /// into place. `None` (a journal, held by one run): straight to its final name, through
    /// its `.part` file, which a later run resumes.
    fn download_tag(&self) -> Option<i64> {
        None
    }
}

/// How a step that may be tried again went.
#[derive(Debug)]
pub(crate) enum Attempt<T> {
    /// It worked (and is recorded).
    Done(T),
    /// A 429, a 5xx or a broken connection with tries left: try again after the gate.
    Again,
    /// The item failed (recorded, and the `Failed` event sent).
    Failed(ItemError),
    /// The API refused the key: stop the whole run, touch no item.
    Unauthorized(Error),
    /// The run is stopping, or the item is not this worker's any more.
    Stopped,
}

/// How a create went.
#[derive(Debug)]
pub(crate) enum Created {
    /// The item has this job (recorded).
    Job(String),
    /// The server made no job and the item may try again: create again (a new attempt).
    Again,
    /// The item failed (recorded).
    Failed(ItemError),
    /// The account is out of credits: the server made no job; the item is not started.
    OutOfCredits(ItemError),
    /// The API refused the key: stop the run.
    Unauthorized(Error),
    /// The answer was lost and no job matches: the item is uncertain (recorded).
    Uncertain(ItemError),
    /// The run is stopping, or the item is not this worker's any more.
    Stopped,
}

/// What a polled job means for its item.
#[derive(Debug)]
pub(crate) enum Polled {
    /// It completed (recorded): download its output.
    Completed(Box<Job>),
    /// It is still running.
    Running,
    /// It failed (recorded).
    Failed(ItemError),
    /// The run is stopping, or the item is not this worker's any more.
    Stopped,
}

/// What a lost create's search found, and what follows.
#[derive(Debug)]
pub(crate) enum Lost {
    /// Its job, adopted (recorded).
    Adopted(String),
    /// None found, and the caller asked to create it again.
    Recreate,
    /// None found: uncertain (recorded).
    Uncertain(ItemError),
    /// The run is stopping, or the item is not this worker's any more.
    Stopped,
}

/// The item steps of one run, on its batch's settings.
pub(crate) struct Lifecycle<'a> {
    pub(crate) batch: &'a Batch,
    /// The client creates go through: the queue's sends each create once, within a call
    /// timeout that fits its lease.
    creator: Client,
    gate: Gate,
    /// After a create with no answer, the search for its job starts no sooner than this after
    /// the create went (the queue's fence bound: a server applies a create within it, or
    /// never); a journal searches at once.
    settle: std::time::Duration,
    /// Real time, for that pause (it is measured against the server, not the client's clock).
    real: Pace,
}

impl<'a> Lifecycle<'a> {
    pub(crate) fn new(batch: &'a Batch, creator: Client, settle: std::time::Duration) -> Self {
        let real = Pace::new(crate::clock::system(), batch.client.runtime.clone());
        Self { batch, gate: Gate::new(&batch.client), creator, settle, real }
    }

    /// Waits out the client's shared back-off; `false` when cancelled meanwhile.
    pub(crate) fn gate(&self) -> bool {
        self.gate.wait(self.batch.cancel.flag())
    }

    /// Whether a failed call may be tried again, as try `tries` (from 0) of it: a 429, a 5xx
    /// or a broken connection, fewer than `max_attempts` times. The pause before the next try
    /// is the client's shared back-off, waited at the [`gate`](Self::gate).
    pub(crate) fn may_retry(&self, error: &Error, tries: u32) -> bool {
        error.is_retryable() && tries.saturating_add(1) < self.batch.max_attempts
    }

    /// Uploads the item's file; records `uploaded`.
    pub(crate) fn upload(&self, rec: &mut dyn Record, id: &str, path: &Path, tries: u32) -> Attempt<String> {
        if !self.gate() {
            return Attempt::Stopped;
        }
        match self.batch.client.upload(path).send() {
            Ok(upload) => {
                if !rec.record(Step::Uploaded { video_url: upload.video_url.clone() }) {
                    return Attempt::Stopped;
                }
                self.emit(Event::Uploaded { item: id.to_owned() });
                Attempt::Done(upload.video_url)
            }
            Err(error) => self.failed_call(rec, id, Stage::Upload, error, tries),
        }
    }

    /// Sends attempt `attempt` of the item's create, `create_sent` recorded first, and reads
    /// its answer: a job (recorded `created`); an error answer (recorded `create_refused`:
    /// the server made no job); or a 5xx or no answer, after which the job is looked for among
    /// the account's jobs (see [`Batch::recreate_uncertain`]).
    pub(crate) fn create(
        &self,
        rec: &mut dyn Record,
        item: &Planned,
        video_url: &str,
        attempt: u32,
        tries: u32,
    ) -> Created {
        let id = item.id.as_str();
        if !self.gate() {
            return Created::Stopped;
        }
        let request = item.options.create_job(video_url, id, attempt);
        if let Err(error) = request.validate() {
            return self.fail(rec, id, item_error(Stage::Create, &error)).map_or(Created::Stopped, Created::Failed);
        }
        let at = Pace::wall_seconds();
        if !rec.record(Step::CreateSent { attempt, video_url: video_url.to_owned(), at }) {
            return Created::Stopped;
        }
        self.emit(Event::CreateSent { item: id.to_owned() });
        test_hook("create_sent");
        if !rec.may_send_create() {
            return Created::Stopped;
        }
        let sent = std::time::Instant::now();
        let error = match self.creator.create_job(&request) {
            Ok(submission) => {
                test_hook("created");
                return self.adopt(rec, id, submission.id);
            }
            Err(error) => error,
        };
        let refused = |rec: &mut dyn Record| {
            let status = error.status().map_or(0, |status| status.as_u16());
            let code = error.api_error().and_then(|api| api.code_str()).map(str::to_owned);
            rec.record(Step::CreateRefused { status, code })
        };
        match error.api_error().map(crate::client::ApiError::status) {
            Some(_) if error.is_insufficient_credits() => {
                if !refused(rec) {
                    return Created::Stopped;
                }
                Created::OutOfCredits(item_error(Stage::Create, &error))
            }
            Some(_) if is_unauthorized(&error) => {
                if !refused(rec) {
                    return Created::Stopped;
                }
                Created::Unauthorized(error)
            }
            Some(status) if status == StatusCode::TOO_MANY_REQUESTS || !status.is_server_error() => {
                if !refused(rec) {
                    return Created::Stopped;
                }
                if status == StatusCode::TOO_MANY_REQUESTS && self.may_retry(&error, tries) {
                    return Created::Again;
                }
                self.fail(rec, id, item_error(Stage::Create, &error)).map_or(Created::Stopped, Created::Failed)
            }
            // A 5xx answer, or no usable answer at all: the server may have made the job.
            answered => {
                let settled = sent + self.settle;
                let now = std::time::Instant::now();
                if answered.is_none() && settled > now && !self.real.sleep(settled - now, self.batch.cancel.flag()) {
                    return Created::Stopped;
                }
                let wanted = Wanted { item: id.to_owned(), attempt, video_url: video_url.to_owned(), sent_at: at };
                let Some(found) = self.find(rec, wanted) else { return Created::Stopped };
                match found {
                    Ok(Some(job_id)) => self.adopt(rec, id, job_id),
                    // It answered, and lists no such job: it made none. Or it may have, and
                    // the caller asked to create it again all the same.
                    Ok(None) if answered.is_some() || self.batch.recreate_uncertain => {
                        if answered.is_some() && !refused(rec) {
                            return Created::Stopped;
                        }
                        if self.may_retry(&error, tries) {
                            Created::Again
                        } else {
                            self.fail(rec, id, item_error(Stage::Create, &error))
                                .map_or(Created::Stopped, Created::Failed)
                        }
                    }
                    // The key was refused meanwhile: nothing is known of the item yet.
                    Err(lookup) if is_unauthorized(&lookup) => Created::Unauthorized(lookup),
                    Err(_) if self.batch.recreate_uncertain && self.may_retry(&error, tries) => Created::Again,
                    _ => self.uncertain(rec, id, Some(&error)).map_or(Created::Stopped, Created::Uncertain),
                }
            }
        }
    }

    /// Decides on a create whose answer an earlier run (or a dead worker) never recorded,
    /// from what the search of the account's jobs found: its job is adopted; else the item is
    /// uncertain, unless [`Batch::recreate_uncertain`] asks to create it again.
    pub(crate) fn lost(&self, rec: &mut dyn Record, id: &str, found: Result<Option<String>, &Error>) -> Lost {
        match found {
            Ok(Some(job_id)) => match self.adopt(rec, id, job_id) {
                Created::Job(job_id) => Lost::Adopted(job_id),
                _ => Lost::Stopped,
            },
            _ if self.batch.recreate_uncertain => Lost::Recreate,
            Ok(None) => self.uncertain(rec, id, None).map_or(Lost::Stopped, Lost::Uncertain),
            Err(error) => self.uncertain(rec, id, Some(error)).map_or(Lost::Stopped, Lost::Uncertain),
        }
    }

    /// Looks for the job of one lost create; `None` when the known jobs cannot be read.
    pub(crate) fn find(&self, rec: &mut dyn Record, wanted: Wanted) -> Option<Result<Option<String>, Error>> {
        let known = rec.known_jobs()?;
        Some(
            lookup::find_jobs(&self.batch.client, std::slice::from_ref(&wanted), &known)
                .map(|mut found| found.remove(&0)),
        )
    }

    /// Ties a job to the item: recorded `created`, then the `Created` event.
    fn adopt(&self, rec: &mut dyn Record, id: &str, job_id: String) -> Created {
        if !rec.record(Step::Created { job_id: job_id.clone() }) {
            return Created::Stopped;
        }
        self.emit(Event::Created { item: id.to_owned(), job_id: job_id.clone() });
        Created::Job(job_id)
    }

    /// Reads a polled job: at an end, its `finished` step is recorded (and a failed job fails
    /// the item); still running, a `Progress` event.
    pub(crate) fn polled(&self, rec: &mut dyn Record, id: &str, job: Job) -> Polled {
        let completed = job.is_completed();
        if !completed && !job.is_failed() {
            self.emit(Event::Progress {
                item: id.to_owned(),
                job_id: job.id.clone(),
                status: job.status.clone(),
                progress: job.progress,
            });
            return Polled::Running;
        }
        let step = Step::Finished {
            job_id: job.id.clone(),
            status: job.status.to_string(),
            output_url: job.output_url.as_deref().filter(|_| completed).map(|url| without_query(url).to_owned()),
            error: job.error.clone(),
        };
        if !rec.record(step) {
            return Polled::Stopped;
        }
        self.emit(Event::Finished { item: id.to_owned(), job_id: job.id.clone(), completed });
        if completed {
            return Polled::Completed(Box::new(job));
        }
        let error = job_error(job.error.clone());
        self.emit(Event::Failed { item: id.to_owned(), error: error.clone() });
        Polled::Failed(error)
    }

    /// A poll that failed: tried again, or the item fails at `poll`.
    pub(crate) fn poll_failed(&self, rec: &mut dyn Record, id: &str, error: Error, tries: u32) -> Attempt<()> {
        self.failed_call(rec, id, Stage::Poll, error, tries)
    }

    /// Downloads a completed job's output to `<out>/<id>.<ext>` (see
    /// [`Record::download_tag`]), synced, renamed into place, the folder synced; then
    /// `downloaded` is recorded.
    pub(crate) fn download(
        &self,
        rec: &mut dyn Record,
        id: &str,
        options: &JobOptions,
        job: &Job,
        tries: u32,
    ) -> Attempt<(PathBuf, u64)> {
        if !self.gate() {
            return Attempt::Stopped;
        }
        let path = self.batch.out_dir.join(format!("{id}.{}", output_extension(job, options)));
        // The download itself goes through `<name>.part` and is renamed once whole.
        let own = match rec.download_tag() {
            Some(tag) => self.batch.out_dir.join(format!(".{id}.{tag:x}.download")),
            None => path.clone(),
        };
        let io = |action, path: &Path, source| Error::Io { action, path: path.to_owned(), source };
        let saved =
            self.batch.client.download_output(job).and_then(|download| download.to_path(&own)).and_then(|size| {
                fs::File::open(&own).and_then(|file| file.sync_all()).map_err(|e| io("sync", &own, e))?;
                if own != path {
                    fs::rename(&own, &path).map_err(|e| io("move the download to", &path, e))?;
                }
                sync_folder(&path);
                Ok(size)
            });
        match saved {
            Ok(size) => {
                if !rec.record(Step::Downloaded { path: path.clone(), size }) {
                    return Attempt::Stopped;
                }
                self.emit(Event::Downloaded { item: id.to_owned(), path: path.clone(), size });
                Attempt::Done((path, size))
            }
            Err(error) => {
                if own != path {
                    let _ = fs::remove_file(&own);
                }
                self.failed_call(rec, id, Stage::Download, error, tries)
            }
        }
    }

    /// A call of `stage` that failed: tried again, the run stopped for the key, or the item
    /// failed.
    fn failed_call<T>(&self, rec: &mut dyn Record, id: &str, stage: Stage, error: Error, tries: u32) -> Attempt<T> {
        if stage != Stage::Download && is_unauthorized(&error) {
            return Attempt::Unauthorized(error);
        }
        if self.may_retry(&error, tries) {
            return Attempt::Again;
        }
        self.fail(rec, id, item_error(stage, &error)).map_or(Attempt::Stopped, Attempt::Failed)
    }

    /// Records the item's failure and sends the `Failed` event; `None` when it could not be
    /// recorded.
    pub(crate) fn fail(&self, rec: &mut dyn Record, id: &str, error: ItemError) -> Option<ItemError> {
        let step = Step::Failed {
            stage: error.stage,
            status: error.status,
            code: error.code.as_ref().map(|code| code.as_str().to_owned()),
            message: error.message.clone(),
            request_id: error.request_id.clone(),
        };
        if !rec.record(step) {
            return None;
        }
        self.emit(Event::Failed { item: id.to_owned(), error: error.clone() });
        Some(error)
    }

    fn uncertain(&self, rec: &mut dyn Record, id: &str, error: Option<&Error>) -> Option<ItemError> {
        let error = uncertain_create_error(error);
        if !rec.uncertain(&error) {
            return None;
        }
        self.emit(Event::Uncertain { item: id.to_owned() });
        Some(error)
    }

    pub(crate) fn emit(&self, event: Event) {
        self.batch.emit(&event);
    }
}

/// Whether the API refused the key (401, or the codes of a missing, wrong or disabled key).
pub(crate) fn is_unauthorized(error: &Error) -> bool {
    error.status() == Some(StatusCode::UNAUTHORIZED)
        || error
            .api_error()
            .and_then(crate::client::ApiError::code)
            .is_some_and(|code| matches!(code, ErrorCode::MissingApiKey | ErrorCode::InvalidApiKey))
}

/// Why a job that failed failed, from the error it gave.
pub(crate) fn job_error(error: Option<String>) -> ItemError {
    let message = error.unwrap_or_else(|| "the job failed; the service gave no reason".into());
    ItemError { stage: Stage::Job, status: None, code: None, message, request_id: None }
}

/// Why an item is uncertain: the create's own error when it failed, else that its answer was
/// lost and no job of the account matches the item.
pub(crate) fn uncertain_create_error(error: Option<&Error>) -> ItemError {
    match error {
        Some(error) => item_error(Stage::Create, error),
        None => ItemError {
            stage: Stage::Create,
            status: None,
            code: None,
            message: "the create's answer was lost and no job of the account matches it".into(),
            request_id: None,
        },
    }
}

/// An item error from a call's error.
pub(crate) fn item_error(stage: Stage, error: &Error) -> ItemError {
    let api = error.api_error();
    ItemError {
        stage,
        status: error.status().map(|status| status.as_u16()),
        code: api.and_then(|api| api.code()).cloned(),
        message: api.map_or_else(|| with_sources(error), |api| api.message().to_owned()),
        request_id: error.request_id().map(str::to_owned),
    }
}

/// The error and each of its sources once, on one line: a report keeps a string, not the chain,
/// and an error's own message never repeats its source ("could not move the download to
/// out/a.webm: Is a directory").
fn with_sources(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The output file's extension: the output URL's, else the output format's.
pub(crate) fn output_extension(job: &Job, options: &JobOptions) -> String {
    let from_url = job.output_url.as_deref().map(without_query).and_then(|url| {
        let name = url.rsplit('/').next()?;
        let (_, ext) = name.rsplit_once('.')?;
        (!ext.is_empty() && ext.len() <= 10 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| ext.to_ascii_lowercase())
    });
    from_url.unwrap_or_else(|| {
        let format = job.output_format.clone().or_else(|| options.settings.output_format.clone()).unwrap_or_default();
        match format.as_str() {
            "png_sequence" => "zip".to_owned(),
            other if !other.is_empty() && other.bytes().all(|b| b.is_ascii_alphanumeric()) => other.to_owned(),
            _ => "bin".to_owned(),
        }
    })
}

/// Tests stop a process at a chosen step, as a power cut or a frozen machine would
/// (`REMOVEBGVIDEO_TEST_CRASH_AT=create_sent` or `created`: abort after that step is recorded
/// or, for `created`, once the create's answer came but before it is recorded;
/// `REMOVEBGVIDEO_TEST_FREEZE_AT=create_sent`: the process stops itself with `SIGSTOP` there
/// the first time, until a `SIGCONT`). Only with `test-util`.
#[cfg(feature = "test-util")]
fn test_hook(step: &str) {
    if std::env::var("REMOVEBGVIDEO_TEST_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
    #[cfg(unix)]
    if std::env::var("REMOVEBGVIDEO_TEST_FREEZE_AT").is_ok_and(|at| at == step) {
        static FROZEN: std::sync::Once = std::sync::Once::new();
        // SAFETY: raise() only sends a signal to this process.
        FROZEN.call_once(|| unsafe {
            libc::raise(libc::SIGSTOP);
        });
    }
}

#[cfg(not(feature = "test-util"))]
fn test_hook(_step: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_error_keeps_the_operating_systems_reason() {
        let error = Error::Io {
            action: "move the download to",
            path: PathBuf::from("out/a.webm"),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "Is a directory"),
        };
        let item = item_error(Stage::Download, &error);
        assert_eq!(item.message, "could not move the download to out/a.webm: Is a directory");
    }
}
