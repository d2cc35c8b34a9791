//! The engine of a run: a plan per item from the journal, the workers, the poller.

use std::collections::{HashSet, VecDeque};
use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::StatusCode;

use super::error::BatchError;
use super::estimate;
use super::event::Event;
use super::gate::Gate;
use super::item::{Planned, Source};
use super::journal::{sync_folder, ItemState, Journal, OpenCreate, Step};
use super::lookup::{self, Wanted};
use super::pace::Pace;
use super::report::{BatchReport, ItemError, ItemReport, ItemStatus, Outcome, Stage};
use super::Batch;
use crate::client::download::without_query;
use crate::{Error, Job};

/// The shortest pause of the poller, so that a zero interval does not spin.
const MIN_TICK: Duration = Duration::from_millis(1);

/// What an item needs, from what the journal says.
#[derive(Debug)]
enum Plan {
    Done { path: PathBuf, job_id: Option<String> },
    Failed { error: ItemError, job_id: Option<String> },
    Poll { job_id: String },
    Lookup(OpenCreate),
    Create { video_url: String },
    Upload,
}

/// Work for a worker thread.
#[derive(Debug)]
enum Task {
    Upload { idx: usize, tries: u32 },
    Create { idx: usize, video_url: String, tries: u32 },
    Download { idx: usize, job: Box<Job>, tries: u32 },
}

/// A job the poller follows.
#[derive(Debug)]
struct Flight {
    idx: usize,
    job_id: String,
    due: std::time::Instant,
    /// The pause after the next poll, if the job is still running then.
    pause: Duration,
    errors: u32,
}

/// What the run knows of one item.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// How it ended, once it has.
    result: Option<ItemReport>,
    /// Work on it began in this run (the `Started` event was sent).
    started: bool,
    /// The number of the last create sent for it, in this run or before.
    attempts: u32,
    /// Its job, once known (for the report of an item the run did not finish).
    job: Option<String>,
}

#[derive(Debug, Default)]
struct Sched {
    work: VecDeque<Task>,
    downloads: VecDeque<Task>,
    new_flights: Vec<Flight>,
    unresolved: usize,
    /// One per item, in the order given.
    slots: Vec<Slot>,
}

#[derive(Debug, Default)]
struct Board {
    sched: Mutex<Sched>,
    wake: Condvar,
}

struct Engine<'a> {
    batch: &'a Batch,
    items: Vec<Planned>,
    journal: Journal,
    pace: Pace,
    gate: Gate,
    board: Arc<Board>,
    credits_out: AtomicBool,
    fatal: Mutex<Option<BatchError>>,
    /// Every job id the journal or this run tied to an item: a lost create never adopts one.
    known_jobs: Mutex<HashSet<String>>,
}

pub(crate) fn run(batch: &Batch, items: Vec<Planned>) -> Result<BatchReport, BatchError> {
    fs::create_dir_all(&batch.out_dir).map_err(|source| BatchError::Io {
        action: "could not create the output folder",
        path: batch.out_dir.clone(),
        source,
    })?;
    let (journal, states) = Journal::open(&batch.journal_path())?;
    let plans: Vec<Plan> = items.iter().map(|item| plan(item, states.get(&item.id), batch.retry_failed)).collect();
    if let Some(max_credits) = batch.max_credits {
        check_budget(batch, &items, &plans, max_credits)?;
    }
    let pace = Pace::new(Arc::clone(&batch.clock), batch.client.runtime.clone());
    let engine = Engine {
        batch,
        gate: Gate::new(&batch.client),
        pace,
        journal,
        board: Arc::default(),
        credits_out: AtomicBool::new(false),
        fatal: Mutex::new(None),
        known_jobs: Mutex::new(states.values().flat_map(|state| state.job_ids.iter().cloned()).collect()),
        items,
    };
    {
        let mut sched = engine.lock();
        sched.slots = engine
            .items
            .iter()
            .map(|item| Slot { attempts: states.get(&item.id).map_or(0, |state| state.attempts), ..Slot::default() })
            .collect();
    }
    engine.start(plans)
}

/// What to do with an item, given what the journal recorded.
fn plan(item: &Planned, state: Option<&ItemState>, retry_failed: bool) -> Plan {
    let Some(state) = state else { return fresh(item, None) };
    if let Some((path, size)) = &state.downloaded {
        if fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == *size) {
            return Plan::Done { path: path.clone(), job_id: state.job_id.clone() };
        }
    }
    if let Some(failure) = &state.failed {
        if !retry_failed {
            return Plan::Failed { error: failure.clone(), job_id: state.job_id.clone() };
        }
        return match (&state.job_id, failure.stage) {
            (Some(job_id), Stage::Poll | Stage::Download) => Plan::Poll { job_id: job_id.clone() },
            _ => fresh(item, state.video_url.as_deref()),
        };
    }
    if let Some(finished) = state.finished.as_ref().filter(|finished| !finished.completed) {
        if !retry_failed {
            let message = finished.error.clone().unwrap_or_else(|| "the job failed; the service gave no reason".into());
            let error = ItemError { stage: Stage::Job, status: None, code: None, message, request_id: None };
            return Plan::Failed { error, job_id: state.job_id.clone() };
        }
        return fresh(item, state.video_url.as_deref());
    }
    if let Some(job_id) = &state.job_id {
        return Plan::Poll { job_id: job_id.clone() };
    }
    if let Some(open) = &state.open_create {
        return Plan::Lookup(open.clone());
    }
    fresh(item, state.video_url.as_deref())
}

fn fresh(item: &Planned, uploaded: Option<&str>) -> Plan {
    match (&item.source, uploaded) {
        (Source::Url(url), _) => Plan::Create { video_url: url.clone() },
        (Source::File(_), Some(url)) => Plan::Create { video_url: url.to_owned() },
        (Source::File(_), None) => Plan::Upload,
    }
}

/// Refuses the run when the items still to be created are estimated above the budget.
fn check_budget(batch: &Batch, items: &[Planned], plans: &[Plan], max_credits: f64) -> Result<(), BatchError> {
    let to_create: Vec<&Planned> = items
        .iter()
        .zip(plans)
        .filter(|(_, plan)| match plan {
            Plan::Create { .. } | Plan::Upload => true,
            Plan::Lookup(_) => batch.recreate_uncertain,
            _ => false,
        })
        .map(|(item, _)| item)
        .collect();
    if to_create.is_empty() {
        return Ok(());
    }
    let pricing = batch.client.pricing()?;
    let estimate = estimate::estimate(&to_create, &pricing);
    if estimate.total_credits > max_credits {
        return Err(BatchError::OverBudget {
            estimated_credits: estimate.total_credits,
            max_credits,
            unknown_items: estimate.unknown_items,
        });
    }
    Ok(())
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
        message: api.map_or_else(|| error.to_string(), |api| api.message().to_owned()),
        request_id: error.request_id().map(str::to_owned),
    }
}

impl Engine<'_> {
    fn start(&self, plans: Vec<Plan>) -> Result<BatchReport, BatchError> {
        let mut lookups = Vec::new();
        for (idx, plan) in plans.into_iter().enumerate() {
            match plan {
                Plan::Done { path, job_id } => {
                    self.emit(Event::Skipped { item: self.id(idx).to_owned() });
                    self.settle(idx, ItemStatus::AlreadyCompleted, job_id, Some(path), None);
                }
                Plan::Failed { error, job_id } => self.settle(idx, ItemStatus::Failed, job_id, None, Some(error)),
                Plan::Poll { job_id } => {
                    self.begin(idx);
                    self.follow(idx, job_id, Duration::ZERO);
                }
                Plan::Lookup(open) => lookups.push((idx, open)),
                Plan::Create { video_url } => self.push(Task::Create { idx, video_url, tries: 0 }),
                Plan::Upload => self.push(Task::Upload { idx, tries: 0 }),
            }
        }
        self.recover(lookups);
        {
            let mut sched = self.lock();
            sched.unresolved = sched.slots.iter().filter(|slot| slot.result.is_none()).count();
        }

        let board = Arc::clone(&self.board);
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let _sched = board.sched.lock().unwrap_or_else(PoisonError::into_inner);
            board.wake.notify_all();
        });
        self.batch.cancel.on_cancel(&wake);

        std::thread::scope(|scope| {
            let mut spawned = Vec::new();
            for n in 0..self.batch.concurrency {
                let worker = std::thread::Builder::new().name(format!("rbv-batch-{n}"));
                spawned.push(worker.spawn_scoped(scope, || self.worker()));
            }
            let poller = std::thread::Builder::new().name("rbv-batch-poll".into());
            spawned.push(poller.spawn_scoped(scope, || self.poller()));
            if let Some(Err(error)) = spawned.into_iter().find(Result::is_err) {
                self.halt(BatchError::Io {
                    action: "could not start a thread for",
                    path: self.batch.out_dir.clone(),
                    source: error,
                });
            }
        });
        drop(wake);

        if let Some(fatal) = self.fatal.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Err(fatal);
        }
        let credits_out = self.credits_out.load(Ordering::SeqCst);
        let slots = std::mem::take(&mut self.lock().slots);
        let unfinished = slots.iter().any(|slot| slot.result.is_none());
        let items = slots
            .into_iter()
            .enumerate()
            .map(|(idx, slot)| {
                slot.result.unwrap_or_else(|| ItemReport {
                    item: self.id(idx).to_owned(),
                    status: if credits_out && slot.job.is_none() {
                        ItemStatus::NotStarted
                    } else {
                        ItemStatus::Unfinished
                    },
                    job_id: slot.job,
                    output: None,
                    error: None,
                })
            })
            .collect();
        let outcome = if unfinished && self.batch.cancel.is_cancelled() {
            Outcome::Cancelled
        } else if credits_out {
            Outcome::StoppedForCredits
        } else {
            Outcome::Finished
        };
        Ok(BatchReport { outcome, items })
    }

    /// Looks for the jobs of creates whose answers the journal does not have.
    fn recover(&self, lookups: Vec<(usize, OpenCreate)>) {
        if lookups.is_empty() {
            return;
        }
        let wanted: Vec<Wanted> = lookups
            .iter()
            .map(|(idx, open)| Wanted {
                item: self.id(*idx).to_owned(),
                attempt: open.attempt,
                video_url: open.video_url.clone(),
                sent_at: open.at,
            })
            .collect();
        let found = lookup::find_jobs(&self.batch.client, &wanted, &self.known());
        for (n, (idx, open)) in lookups.into_iter().enumerate() {
            match &found {
                Ok(found) if found.contains_key(&n) => {
                    if let Some(job_id) = found.get(&n) {
                        self.begin(idx);
                        self.created(idx, job_id.clone());
                    }
                }
                _ if self.batch.recreate_uncertain => {
                    self.push(Task::Create { idx, video_url: open.video_url, tries: 0 });
                }
                Ok(_) => self.uncertain(idx, None),
                Err(error) => self.uncertain(idx, Some(error)),
            }
        }
    }

    fn worker(&self) {
        let _guard = StopOnPanic(self);
        while let Some(task) = self.next_task() {
            match task {
                Task::Upload { idx, tries } => self.upload(idx, tries),
                Task::Create { idx, video_url, tries } => self.create(idx, video_url, tries),
                Task::Download { idx, job, tries } => self.download(idx, *job, tries),
            }
        }
    }

    fn next_task(&self) -> Option<Task> {
        let mut sched = self.lock();
        loop {
            if self.stopping() {
                return None;
            }
            if let Some(task) = sched.downloads.pop_front().or_else(|| sched.work.pop_front()) {
                return Some(task);
            }
            if sched.unresolved == 0 {
                return None;
            }
            sched = self.board.wake.wait(sched).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn upload(&self, idx: usize, tries: u32) {
        if self.credits_out.load(Ordering::SeqCst) {
            return self.not_started(idx, None);
        }
        self.begin(idx);
        let path = match &self.items[idx].source {
            Source::File(path) => path,
            Source::Url(url) => return self.create(idx, url.clone(), 0),
        };
        if !self.gate.wait(self.batch.cancel.flag()) {
            return;
        }
        match self.batch.client.upload(path).send() {
            Ok(upload) => {
                if self.record(idx, Step::Uploaded { video_url: upload.video_url.clone() }) {
                    self.emit(Event::Uploaded { item: self.id(idx).to_owned() });
                    self.create(idx, upload.video_url, 0);
                }
            }
            Err(error) if self.transient(&error) && tries + 1 < self.batch.max_attempts => {
                self.push(Task::Upload { idx, tries: tries + 1 });
            }
            Err(error) => self.fail(idx, Stage::Upload, &error, None),
        }
    }

    fn create(&self, idx: usize, video_url: String, tries: u32) {
        let item = &self.items[idx];
        if self.credits_out.load(Ordering::SeqCst) {
            return self.not_started(idx, None);
        }
        self.begin(idx);
        if self.stopping() || !self.gate.wait(self.batch.cancel.flag()) {
            return;
        }
        if self.credits_out.load(Ordering::SeqCst) {
            return self.not_started(idx, None);
        }
        let attempt = {
            let mut sched = self.lock();
            let slot = &mut sched.slots[idx];
            slot.attempts = slot.attempts.saturating_add(1);
            slot.attempts
        };
        let request = item.options.create_job(&video_url, &item.id, attempt);
        if let Err(error) = request.validate() {
            return self.fail(idx, Stage::Create, &error, None);
        }
        let at = Pace::wall_seconds();
        if !self.record(idx, Step::CreateSent { attempt, video_url: video_url.clone(), at }) {
            return;
        }
        self.emit(Event::CreateSent { item: item.id.clone() });
        let error = match self.batch.client.create_job(&request) {
            Ok(submission) => {
                return self.created(idx, submission.id);
            }
            Err(error) => error,
        };
        let status = error.api_error().map(crate::ApiError::status);
        let out_of_credits = error.is_insufficient_credits();
        match status {
            Some(_) if out_of_credits => {
                if self.refused(idx, &error) {
                    self.out_of_credits();
                    self.not_started(idx, Some(item_error(Stage::Create, &error)));
                }
            }
            Some(StatusCode::TOO_MANY_REQUESTS) => {
                if self.refused(idx, &error) {
                    self.retry_create(idx, video_url, tries, &error);
                }
            }
            Some(status) if !status.is_server_error() => {
                if self.refused(idx, &error) {
                    self.fail(idx, Stage::Create, &error, None);
                }
            }
            // A 5xx answer, or no usable answer at all: the server may have made the job.
            answered => {
                let wanted = [Wanted { item: item.id.clone(), attempt, video_url: video_url.clone(), sent_at: at }];
                match lookup::find_jobs(&self.batch.client, &wanted, &self.known()) {
                    Ok(found) if found.contains_key(&0) => {
                        if let Some(job_id) = found.get(&0) {
                            self.created(idx, job_id.clone());
                        }
                    }
                    // It answered, and lists no such job: it made none.
                    Ok(_) if answered.is_some() => {
                        if self.refused(idx, &error) {
                            self.retry_create(idx, video_url, tries, &error);
                        }
                    }
                    _ if self.batch.recreate_uncertain => self.retry_create(idx, video_url, tries, &error),
                    _ => self.uncertain(idx, Some(&error)),
                }
            }
        }
    }

    fn retry_create(&self, idx: usize, video_url: String, tries: u32, error: &Error) {
        if tries + 1 < self.batch.max_attempts {
            self.push(Task::Create { idx, video_url, tries: tries + 1 });
        } else {
            self.fail(idx, Stage::Create, error, None);
        }
    }

    /// Records that the server answered a create with an error (so it made no job).
    fn refused(&self, idx: usize, error: &Error) -> bool {
        let status = error.status().map_or(0, |status| status.as_u16());
        let code = error.api_error().and_then(|api| api.code_str()).map(str::to_owned);
        self.record(idx, Step::CreateRefused { status, code })
    }

    fn created(&self, idx: usize, job_id: String) {
        self.known_jobs.lock().unwrap_or_else(PoisonError::into_inner).insert(job_id.clone());
        if self.record(idx, Step::Created { job_id: job_id.clone() }) {
            self.emit(Event::Created { item: self.id(idx).to_owned(), job_id: job_id.clone() });
            self.follow(idx, job_id, self.batch.first_poll);
        }
    }

    /// Hands a job to the poller, first poll after `delay`.
    fn follow(&self, idx: usize, job_id: String, delay: Duration) {
        let due = self.pace.now().checked_add(delay).unwrap_or_else(|| self.pace.now());
        let mut sched = self.lock();
        sched.slots[idx].job = Some(job_id.clone());
        let pause = self.batch.schedule().next_interval(self.batch.schedule().first_interval());
        sched.new_flights.push(Flight { idx, job_id, due, pause, errors: 0 });
        drop(sched);
        self.board.wake.notify_all();
    }

    fn poller(&self) {
        let _guard = StopOnPanic(self);
        let mut flights: Vec<Flight> = Vec::new();
        loop {
            {
                let mut sched = self.lock();
                loop {
                    if self.stopping() {
                        return;
                    }
                    flights.append(&mut sched.new_flights);
                    if !flights.is_empty() {
                        break;
                    }
                    if sched.unresolved == 0 {
                        return;
                    }
                    sched = self.board.wake.wait(sched).unwrap_or_else(PoisonError::into_inner);
                }
            }
            let Some((next, due)) = flights.iter().enumerate().map(|(n, flight)| (n, flight.due)).min_by_key(|f| f.1)
            else {
                continue;
            };
            let now = self.pace.now();
            if due > now {
                // Wake at least every first interval to pick up jobs created meanwhile.
                let pause = (due - now).min(self.batch.first_poll).max(MIN_TICK);
                if !self.pace.sleep(pause, self.batch.cancel.flag()) {
                    return;
                }
                continue;
            }
            if !self.gate.wait(self.batch.cancel.flag()) {
                return;
            }
            let flight = flights.swap_remove(next);
            if let Some(flight) = self.poll(flight) {
                flights.push(flight);
            }
        }
    }

    /// Polls one job; gives the flight back while the job runs.
    fn poll(&self, mut flight: Flight) -> Option<Flight> {
        let idx = flight.idx;
        match self.batch.client.get_job(&flight.job_id) {
            Ok(job) if job.is_completed() => {
                let step = Step::Finished {
                    job_id: job.id.clone(),
                    status: job.status.to_string(),
                    output_url: job.output_url.as_deref().map(|url| without_query(url).to_owned()),
                    error: None,
                };
                if self.record(idx, step) {
                    self.emit(Event::Finished {
                        item: self.id(idx).to_owned(),
                        job_id: job.id.clone(),
                        completed: true,
                    });
                    let mut sched = self.lock();
                    sched.downloads.push_back(Task::Download { idx, job: Box::new(job), tries: 0 });
                    drop(sched);
                    self.board.wake.notify_all();
                }
                None
            }
            Ok(job) if job.is_failed() => {
                let message = job.error.clone().unwrap_or_else(|| "the job failed; the service gave no reason".into());
                let step = Step::Finished {
                    job_id: job.id.clone(),
                    status: job.status.to_string(),
                    output_url: None,
                    error: job.error.clone(),
                };
                if self.record(idx, step) {
                    self.emit(Event::Finished {
                        item: self.id(idx).to_owned(),
                        job_id: job.id.clone(),
                        completed: false,
                    });
                    let error = ItemError { stage: Stage::Job, status: None, code: None, message, request_id: None };
                    self.emit(Event::Failed { item: self.id(idx).to_owned(), error: error.clone() });
                    self.settle(idx, ItemStatus::Failed, Some(job.id), None, Some(error));
                }
                None
            }
            Ok(job) => {
                self.emit(Event::Progress {
                    item: self.id(idx).to_owned(),
                    job_id: job.id.clone(),
                    status: job.status.clone(),
                    progress: job.progress,
                });
                flight.errors = 0;
                flight.due = self.after(flight.pause);
                flight.pause = self.batch.schedule().next_interval(flight.pause);
                Some(flight)
            }
            Err(error) if self.transient(&error) && flight.errors + 1 < self.batch.max_attempts => {
                flight.errors += 1;
                flight.due = self.after(flight.pause);
                Some(flight)
            }
            Err(error) => {
                self.fail(idx, Stage::Poll, &error, Some(flight.job_id));
                None
            }
        }
    }

    fn after(&self, delay: Duration) -> std::time::Instant {
        let now = self.pace.now();
        now.checked_add(delay).unwrap_or(now)
    }

    fn download(&self, idx: usize, job: Job, tries: u32) {
        if !self.gate.wait(self.batch.cancel.flag()) {
            return;
        }
        let path =
            self.batch.out_dir.join(format!("{}.{}", self.id(idx), output_extension(&job, &self.items[idx].options)));
        let saved =
            self.batch.client.download_output(&job).and_then(|download| download.to_path(&path)).and_then(|size| {
                // The journal says "downloaded" only once the bytes are on disk.
                File::open(&path).and_then(|file| file.sync_all()).map_err(|source| Error::Io {
                    action: "could not sync",
                    path: path.clone(),
                    source,
                })?;
                sync_folder(&path);
                Ok(size)
            });
        match saved {
            Ok(size) => {
                if self.record(idx, Step::Downloaded { path: path.clone(), size }) {
                    self.emit(Event::Downloaded { item: self.id(idx).to_owned(), path: path.clone(), size });
                    self.settle(idx, ItemStatus::Completed, Some(job.id), Some(path), None);
                }
            }
            Err(error) if self.transient(&error) && tries + 1 < self.batch.max_attempts => {
                self.lock().downloads.push_back(Task::Download { idx, job: Box::new(job), tries: tries + 1 });
                self.board.wake.notify_all();
            }
            Err(error) => self.fail(idx, Stage::Download, &error, Some(job.id)),
        }
    }

    /// Whether a failure may pass. (The client's shared back-off has already counted it.)
    fn transient(&self, error: &Error) -> bool {
        error.is_retryable()
    }

    /// Stops every later create: the account is out of credits.
    fn out_of_credits(&self) {
        self.credits_out.store(true, Ordering::SeqCst);
        let waiting: Vec<Task> = self.lock().work.drain(..).collect();
        for task in waiting {
            if let Task::Upload { idx, .. } | Task::Create { idx, .. } = task {
                self.not_started(idx, None);
            }
        }
    }

    fn fail(&self, idx: usize, stage: Stage, error: &Error, job_id: Option<String>) {
        let error = item_error(stage, error);
        let step = Step::Failed {
            stage: error.stage,
            status: error.status,
            code: error.code.as_ref().map(|code| code.as_str().to_owned()),
            message: error.message.clone(),
            request_id: error.request_id.clone(),
        };
        if self.record(idx, step) {
            self.emit(Event::Failed { item: self.id(idx).to_owned(), error: error.clone() });
            self.settle(idx, ItemStatus::Failed, job_id, None, Some(error));
        }
    }

    fn uncertain(&self, idx: usize, error: Option<&Error>) {
        self.emit(Event::Uncertain { item: self.id(idx).to_owned() });
        let error = uncertain_create_error(error);
        self.settle(idx, ItemStatus::Uncertain, None, None, Some(error));
    }

    fn not_started(&self, idx: usize, error: Option<ItemError>) {
        self.emit(Event::NotStarted { item: self.id(idx).to_owned() });
        self.settle(idx, ItemStatus::NotStarted, None, None, error);
    }

    /// Records how an item ended (once).
    fn settle(
        &self,
        idx: usize,
        status: ItemStatus,
        job_id: Option<String>,
        output: Option<PathBuf>,
        error: Option<ItemError>,
    ) {
        let mut sched = self.lock();
        let slot = &mut sched.slots[idx];
        if slot.result.is_none() {
            slot.result = Some(ItemReport { item: self.id(idx).to_owned(), status, job_id, output, error });
            sched.unresolved = sched.unresolved.saturating_sub(1);
        }
        drop(sched);
        self.board.wake.notify_all();
    }

    /// Appends a journal line; on failure the run stops at once.
    fn record(&self, idx: usize, step: Step) -> bool {
        match self.journal.record(self.id(idx), step) {
            Ok(()) => true,
            Err(error) => {
                self.halt(error);
                false
            }
        }
    }

    fn halt(&self, error: BatchError) {
        self.fatal.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(error);
        self.batch.cancel.cancel();
        self.board.wake.notify_all();
    }

    fn known(&self) -> HashSet<String> {
        self.known_jobs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn stopping(&self) -> bool {
        self.batch.cancel.is_cancelled()
    }

    fn begin(&self, idx: usize) {
        let first = !std::mem::replace(&mut self.lock().slots[idx].started, true);
        if first {
            self.emit(Event::Started { item: self.id(idx).to_owned() });
        }
    }

    fn push(&self, task: Task) {
        self.lock().work.push_back(task);
        self.board.wake.notify_all();
    }

    fn emit(&self, event: Event) {
        self.batch.emit(&event);
    }

    fn id(&self, idx: usize) -> &str {
        &self.items[idx].id
    }

    fn lock(&self) -> MutexGuard<'_, Sched> {
        self.board.sched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops every thread of the run when one panics (a bug), so that the others do not wait
/// forever for the item it held; the panic then reaches the caller of `run`.
struct StopOnPanic<'a, 'b>(&'a Engine<'b>);

impl Drop for StopOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.batch.cancel.cancel();
        }
    }
}

/// The output file's extension: the output URL's, else the output format's.
pub(crate) fn output_extension(job: &Job, options: &super::JobOptions) -> String {
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
