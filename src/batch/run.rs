//! The engine of a run: a plan per item from the journal, the workers, the poller.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::error::BatchError;
use super::estimate;
use super::event::Event;
use super::item::{Item, Planned, Source};
use super::journal::{ItemState, Journal, OpenCreate, Step};
use super::lifecycle::{is_unauthorized, job_error, Attempt, Created, Lifecycle, Lost, Polled, Record};
use super::lookup::{self, Wanted};
use super::pace::Pace;
use super::report::{BatchReport, ItemError, ItemReport, ItemStatus, Outcome, Stage};
use super::setup::Batch;
use crate::models::Job;

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
    life: Lifecycle<'a>,
    board: Arc<Board>,
    credits_out: AtomicBool,
    fatal: Mutex<Option<BatchError>>,
    /// Every job id the journal or this run tied to an item: a lost create never adopts one.
    known_jobs: Mutex<HashSet<String>>,
}

impl Batch {
    /// Runs the items to an end and reports on each (see the [module documentation](crate::batch)).
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
        run(self, planned)
    }
}

pub(crate) fn run(batch: &Batch, items: Vec<Planned>) -> Result<BatchReport, BatchError> {
    fs::create_dir_all(&batch.out_dir).map_err(|source| BatchError::Io {
        action: "create the output folder",
        path: batch.out_dir.clone(),
        source,
    })?;
    let (journal, states) = Journal::open(&batch.journal_path(), batch.wait_for_lock)?;
    let plans: Vec<Plan> = items.iter().map(|item| plan(item, states.get(&item.id), batch.retry_failed)).collect();
    if let Some(max_credits) = batch.max_credits {
        check_budget(batch, &items, &plans, max_credits)?;
    }
    let pace = Pace::new(Arc::clone(&batch.clock), batch.client.runtime.clone());
    let engine = Engine {
        batch,
        life: Lifecycle::new(batch, batch.client.clone(), Duration::ZERO),
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
    if let Some((path, size)) = &state.downloaded
        && fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == *size)
    {
        return Plan::Done { path: path.clone(), job_id: state.job_id.clone() };
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
            return Plan::Failed { error: job_error(finished.error.clone()), job_id: state.job_id.clone() };
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

impl<'a> Engine<'a> {
    fn start(&self, plans: Vec<Plan>) -> Result<BatchReport, BatchError> {
        let mut lookups = Vec::new();
        let mut earlier_failures = 0;
        for (idx, plan) in plans.into_iter().enumerate() {
            match plan {
                Plan::Done { path, job_id } => {
                    self.emit(Event::Skipped { item: self.id(idx).to_owned() });
                    self.settle(idx, ItemStatus::AlreadyCompleted, job_id, Some(path), None);
                }
                Plan::Failed { error, job_id } => {
                    earlier_failures += 1;
                    self.settle(idx, ItemStatus::Failed, job_id, None, Some(error));
                }
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
                    action: "start a thread for",
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
        Ok(BatchReport { outcome, items, earlier_failures })
    }

    /// Looks for the jobs of creates whose answers the journal does not have, in one listing.
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
        let found = match lookup::find_jobs(&self.batch.client, &wanted, &self.known()) {
            Err(error) if is_unauthorized(&error) => return self.halt(BatchError::Unauthorized(error)),
            found => found,
        };
        for (n, (idx, open)) in lookups.into_iter().enumerate() {
            let found = match &found {
                Ok(found) => Ok(found.get(&n).cloned()),
                Err(error) => Err(error),
            };
            if matches!(found, Ok(Some(_))) {
                self.begin(idx);
            }
            match self.life.lost(&mut self.rec(idx), self.id(idx), found) {
                Lost::Adopted(job_id) => self.follow(idx, job_id, self.batch.first_poll),
                Lost::Recreate => self.push(Task::Create { idx, video_url: open.video_url, tries: 0 }),
                Lost::Uncertain(error) => self.settle(idx, ItemStatus::Uncertain, None, None, Some(error)),
                Lost::Stopped => {}
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
        match self.life.upload(&mut self.rec(idx), self.id(idx), path, tries) {
            Attempt::Done(video_url) => self.create(idx, video_url, 0),
            Attempt::Again => self.push(Task::Upload { idx, tries: tries + 1 }),
            Attempt::Failed(error) => self.settle(idx, ItemStatus::Failed, None, None, Some(error)),
            Attempt::Unauthorized(error) => self.halt(BatchError::Unauthorized(error)),
            Attempt::Stopped => {}
        }
    }

    fn create(&self, idx: usize, video_url: String, tries: u32) {
        if self.credits_out.load(Ordering::SeqCst) {
            return self.not_started(idx, None);
        }
        self.begin(idx);
        if self.stopping() || !self.life.gate() {
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
        match self.life.create(&mut self.rec(idx), &self.items[idx], &video_url, attempt, tries) {
            Created::Job(job_id) => self.follow(idx, job_id, self.batch.first_poll),
            Created::Again => self.push(Task::Create { idx, video_url, tries: tries + 1 }),
            Created::Failed(error) => self.settle(idx, ItemStatus::Failed, None, None, Some(error)),
            Created::OutOfCredits(error) => {
                self.out_of_credits();
                self.not_started(idx, Some(error));
            }
            Created::Unauthorized(error) => self.halt(BatchError::Unauthorized(error)),
            Created::Uncertain(error) => self.settle(idx, ItemStatus::Uncertain, None, None, Some(error)),
            Created::Stopped => {}
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
            if !self.life.gate() {
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
        let polled = match self.batch.client.get_job(&flight.job_id) {
            Ok(job) => self.life.polled(&mut self.rec(idx), self.id(idx), job),
            Err(error) => match self.life.poll_failed(&mut self.rec(idx), self.id(idx), error, flight.errors) {
                Attempt::Again => {
                    flight.errors += 1;
                    flight.due = self.after(flight.pause);
                    return Some(flight);
                }
                Attempt::Failed(error) => {
                    self.settle(idx, ItemStatus::Failed, None, None, Some(error));
                    return None;
                }
                Attempt::Unauthorized(error) => {
                    self.halt(BatchError::Unauthorized(error));
                    return None;
                }
                Attempt::Done(()) | Attempt::Stopped => return None,
            },
        };
        match polled {
            Polled::Completed(job) => {
                self.lock().downloads.push_back(Task::Download { idx, job, tries: 0 });
                self.board.wake.notify_all();
                None
            }
            Polled::Failed(error) => {
                self.settle(idx, ItemStatus::Failed, None, None, Some(error));
                None
            }
            Polled::Running => {
                flight.errors = 0;
                flight.due = self.after(flight.pause);
                flight.pause = self.batch.schedule().next_interval(flight.pause);
                Some(flight)
            }
            Polled::Stopped => None,
        }
    }

    fn after(&self, delay: Duration) -> std::time::Instant {
        let now = self.pace.now();
        now.checked_add(delay).unwrap_or(now)
    }

    fn download(&self, idx: usize, job: Job, tries: u32) {
        let item = &self.items[idx];
        match self.life.download(&mut self.rec(idx), &item.id, &item.options, &job, tries) {
            Attempt::Done((path, _)) => self.settle(idx, ItemStatus::Completed, None, Some(path), None),
            Attempt::Again => {
                self.lock().downloads.push_back(Task::Download { idx, job: Box::new(job), tries: tries + 1 });
                self.board.wake.notify_all();
            }
            Attempt::Failed(error) => self.settle(idx, ItemStatus::Failed, None, None, Some(error)),
            Attempt::Unauthorized(error) => self.halt(BatchError::Unauthorized(error)),
            Attempt::Stopped => {}
        }
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
            let job_id = job_id.or_else(|| slot.job.clone());
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

    /// The item's steps, recorded in the journal.
    fn rec(&self, idx: usize) -> JournalItem<'_, 'a> {
        JournalItem { engine: self, idx }
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

/// One item's steps, as journal lines.
struct JournalItem<'e, 'a> {
    engine: &'e Engine<'a>,
    idx: usize,
}

impl Record for JournalItem<'_, '_> {
    fn record(&mut self, step: Step) -> bool {
        if let Step::Created { job_id } = &step {
            self.engine.known_jobs.lock().unwrap_or_else(PoisonError::into_inner).insert(job_id.clone());
        }
        self.engine.record(self.idx, step)
    }

    fn known_jobs(&mut self) -> Option<HashSet<String>> {
        Some(self.engine.known())
    }
}
