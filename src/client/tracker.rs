//! [`JobTracker`]: waits that end on a job's webhook, with polling only as the safety net.
//! Every wait is the caller's own future: no thread and no task per job, and the tracker's
//! state is a map entry per job waited for.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::Error;
use crate::client::runtime::CrateRuntime;
use crate::client::wait::{timed_out, WaitOptions};
use crate::clock::deadline;
use crate::models::{Job, JobStatus};
use crate::webhook::{EventKind, WebhookEvent};

/// Delivery ids remembered to recognize a redelivery; the oldest are forgotten past this.
const REMEMBERED_DELIVERIES: usize = 100_000;
/// Jobs remembered from webhooks that no wait has asked for yet; the oldest are forgotten past
/// this (a wait that starts later still finds its job by polling).
const REMEMBERED_JOBS: usize = 100_000;

/// Waits for many jobs at once, ending each wait on the job's webhook and polling only when a
/// webhook is late: the vendor's advice (webhooks first, polling as a safety net), in one
/// object per service.
///
/// Feed it every verified delivery with [`observe`](Self::observe) (from the axum extractor
/// or a [`Verifier`](crate::webhook::Verifier)), and wait with [`wait`](Self::wait) (a tracker
/// made with [`new`](Self::new) from a [`Client`]) or [`wait_async`](Self::wait_async) (one made
/// with [`new_async`](Self::new_async) from an [`AsyncClient`]). A wait ends:
/// - when the job's terminal webhook (`job.completed`, `job.failed`) arrives: then the job is
///   fetched once, for its authoritative state and a fresh `output_url`;
/// - or when reconciliation polling finds the job done: the first poll comes after a quiet
///   period (30 s by default) with no webhook, then slowly backing off (every 15 s, growing by
///   half up to 2 min), so a lost delivery costs a few calls, not a stuck job;
/// - or at its deadline ([`Error::WaitTimeout`]); a 402 or 404 ends it at once.
///
/// Thousands of waits share one tracker: each wait is the caller's own future (no thread, no
/// task per job), holding a timer only while it waits for its next poll. Cheap to clone; the
/// clones share the state. Time comes from the client's [`Clock`](crate::clock::Clock); with
/// a `ManualClock` (feature `test-util`) a wait never sleeps: it looks again each time the
/// clock is moved, so a test (or the simulator's time-driven jobs) decides when polls are due.
///
/// ```no_run
/// # async fn run(event: removebgvideo::webhook::WebhookEvent) -> Result<(), removebgvideo::Error> {
/// use removebgvideo::client::JobTracker;
/// use removebgvideo::{AsyncClient, CreateJob, WaitOptions};
///
/// let client = AsyncClient::from_env()?;
/// let tracker = JobTracker::new_async(&client);
/// // In the webhook handler: tracker.observe(&event);
/// # tracker.observe(&event);
/// let job = client
///     .create_job(&CreateJob::new("https://example.com/in.mp4").webhook_url("https://me.example/hooks"))
///     .await?;
/// let done = tracker.wait_async(&job.id, WaitOptions::default()).await?;
/// # let _ = done;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JobTracker {
    inner: Arc<Inner>,
}

struct Inner {
    client: AsyncClient,
    /// Told of every jump of a clock that moves only when told (a `ManualClock`): waits then
    /// wake on it instead of sleeping, since such a clock's sleep would jump it.
    ticks: Option<Ticks>,
    /// The blocking client's runtime, for [`JobTracker::wait`].
    runtime: Option<CrateRuntime>,
    schedule: Schedule,
    state: Mutex<State>,
}

/// The jumps of a manual clock, as a notification every wait can listen to.
struct Ticks {
    notify: Arc<Notify>,
    /// Held here: the clock holds it weakly, for as long as the tracker lives.
    _wake: Arc<dyn Fn() + Send + Sync>,
}

impl Ticks {
    fn of(clock: &dyn crate::clock::Clock) -> Option<Self> {
        let notify = Arc::new(Notify::new());
        let to_wake = Arc::clone(&notify);
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || to_wake.notify_waiters());
        clock.on_advance(&wake).then_some(Self { notify, _wake: wake })
    }
}

/// When reconciliation polls come.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    quiet_period: Duration,
    interval: Duration,
    max_interval: Duration,
}

#[derive(Default)]
struct State {
    deliveries: HashSet<String>,
    delivery_order: VecDeque<String>,
    jobs: HashMap<String, Entry>,
    /// Jobs entered by a webhook with no wait, oldest first, to forget past the limit.
    unwaited: VecDeque<String>,
}

/// What the tracker knows of one job.
#[derive(Default)]
struct Entry {
    /// 0: nothing yet; 1: started; 2: finished (completed or failed).
    stage: u8,
    waiters: usize,
    notify: Arc<Notify>,
}

/// What [`JobTracker::observe`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observed {
    /// The event moved its job forward; a wait for a finished job ends.
    Applied,
    /// A delivery id seen before: a redelivery, ignored.
    Duplicate,
    /// Older than what is known of the job (a `job.started` after `job.completed`), ignored.
    Stale,
    /// Not about a job the tracker can follow (no job id, or an unknown kind), ignored.
    Ignored,
}

impl JobTracker {
    /// A tracker waiting through the blocking `client` (its calls, retries, back-off and
    /// clock), to wait with [`wait`](Self::wait), with the default schedule: first poll 30 s
    /// after the wait starts with no webhook, then every 15 s growing by half up to 2 min.
    #[must_use]
    pub fn new(client: &Client) -> Self {
        Self::build(client.inner.clone(), Some(client.runtime.clone()))
    }

    /// A tracker waiting through the async `client`, to wait with
    /// [`wait_async`](Self::wait_async); otherwise as [`new`](Self::new).
    #[must_use]
    pub fn new_async(client: &AsyncClient) -> Self {
        Self::build(client.clone(), None)
    }

    fn build(client: AsyncClient, runtime: Option<CrateRuntime>) -> Self {
        let schedule = Schedule {
            quiet_period: Duration::from_secs(30),
            interval: Duration::from_secs(15),
            max_interval: Duration::from_secs(120),
        };
        let ticks = Ticks::of(client.transport.clock().as_ref());
        Self { inner: Arc::new(Inner { client, ticks, runtime, schedule, state: Mutex::default() }) }
    }

    /// The same tracker state with another schedule: the quiet period before the first poll of
    /// a wait that heard no webhook, then the first pause between polls and the longest one
    /// (each at least 1 ms). Only waits started afterwards through the returned tracker use it.
    #[must_use]
    pub fn with_schedule(&self, quiet_period: Duration, interval: Duration, max_interval: Duration) -> Self {
        let least = Duration::from_millis(1);
        let schedule = Schedule {
            quiet_period,
            interval: interval.max(least),
            max_interval: max_interval.max(interval).max(least),
        };
        let inner = Inner {
            ticks: Ticks::of(self.inner.client.transport.clock().as_ref()),
            client: self.inner.client.clone(),
            runtime: self.inner.runtime.clone(),
            schedule,
            state: Mutex::default(),
        };
        // A schedule is per tracker: the new one starts with an empty state of its own.
        Self { inner: Arc::new(inner) }
    }

    /// Takes a verified webhook delivery. A delivery id seen before and an event older than
    /// what is known of its job are ignored; a terminal event (`job.completed`, `job.failed`)
    /// ends the waits for its job (each then fetches the job once).
    pub fn observe(&self, event: &WebhookEvent) -> Observed {
        let stage = match event.kind {
            EventKind::JobStarted => 1,
            EventKind::JobCompleted | EventKind::JobFailed => 2,
            _ => match event.status.as_ref() {
                Some(JobStatus::Completed | JobStatus::Failed) => 2,
                Some(JobStatus::Processing) => 1,
                _ => return Observed::Ignored,
            },
        };
        let Some(job_id) = event.job_id.as_deref().filter(|id| !id.is_empty()) else {
            return Observed::Ignored;
        };
        let mut state = self.inner.lock();
        if let Some(delivery) = &event.delivery_id {
            if !state.deliveries.insert(delivery.clone()) {
                return Observed::Duplicate;
            }
            state.delivery_order.push_back(delivery.clone());
            if state.delivery_order.len() > REMEMBERED_DELIVERIES
                && let Some(oldest) = state.delivery_order.pop_front()
            {
                state.deliveries.remove(&oldest);
            }
        }
        let known = state.jobs.contains_key(job_id);
        let entry = state.jobs.entry(job_id.to_owned()).or_default();
        if stage <= entry.stage {
            return Observed::Stale;
        }
        entry.stage = stage;
        let notify = Arc::clone(&entry.notify);
        // A job heard of for the first time has nobody waiting on it yet.
        if !known {
            state.unwaited.push_back(job_id.to_owned());
            state.forget_unwaited();
        }
        drop(state);
        notify.notify_waiters();
        Observed::Applied
    }

    /// Waits for a job to finish, and returns it completed; see the type's docs for when it
    /// ends. Of `options`, the [`timeout`](WaitOptions::timeout) is the deadline and
    /// [`on_update`](WaitOptions::on_update) sees each state fetched; the poll schedule is the
    /// tracker's.
    ///
    /// # Errors
    /// [`Error::JobFailed`] once the job failed; [`Error::WaitTimeout`] at the deadline;
    /// [`Error::Api`] for a 401, 402 or 404 (at once); [`Error::InvalidInput`] for an empty id.
    pub async fn wait_async(&self, job_id: &str, mut options: WaitOptions<'_>) -> Result<Job, Error> {
        let call = self.inner.client.get_job_call(job_id)?;
        let transport = &self.inner.client.transport;
        let clock = transport.clock();
        let registration = Registration::new(&self.inner, job_id);
        let schedule = self.inner.schedule;
        let started = clock.now();
        let end = deadline(started, options.timeout);
        let mut next_poll = deadline(started, schedule.quiet_period);
        let mut interval = schedule.interval;
        let mut last_seen: Option<Job> = None;
        let mut last_error: Option<Error> = None;
        loop {
            let mut notified = std::pin::pin!(registration.notify.notified());
            let mut ticked = std::pin::pin!(self.inner.ticks.as_ref().map(|ticks| ticks.notify.notified()));
            // Registered before the state and the time are read, so that an event or a clock
            // jump in between is not missed.
            notified.as_mut().enable();
            if let Some(ticked) = ticked.as_mut().as_pin_mut() {
                ticked.enable();
            }
            let finished = registration.finished();
            let now = clock.now();
            if finished || now >= next_poll {
                // Each poll is one attempt: this loop is the retry, and it knows the deadline.
                let fetched =
                    if finished { transport.json::<Job>(&call).await } else { transport.json_once::<Job>(&call).await };
                match fetched {
                    Ok(job) => {
                        if let Some(on_update) = options.on_update.as_mut() {
                            on_update(&job);
                        }
                        match job.status {
                            JobStatus::Completed => return Ok(job),
                            JobStatus::Failed => return Err(Error::JobFailed(Box::new(job))),
                            _ => last_seen = Some(job),
                        }
                        last_error = None;
                    }
                    Err(error) if error.is_retryable() => last_error = Some(error),
                    Err(error) => return Err(error),
                }
                // The webhook ran ahead of what the API reads back, or the poll failed: poll
                // again on the schedule.
                registration.unfinish();
                let now = clock.now();
                next_poll = deadline(now, interval);
                interval = interval.mul_f64(1.5).min(schedule.max_interval);
            }
            let now = clock.now();
            if now >= end {
                return Err(timed_out(job_id, now.saturating_duration_since(started), last_seen, last_error));
            }
            match ticked.as_pin_mut() {
                // A manual clock: its next jump, or the webhook.
                Some(ticked) => first_of(notified, ticked).await,
                None => {
                    let pause = next_poll.min(end).saturating_duration_since(now);
                    first_of(notified, clock.sleep(pause)).await;
                }
            }
        }
    }

    /// [`wait_async`](Self::wait_async) for a tracker made with [`new`](Self::new), blocking
    /// the calling thread.
    ///
    /// # Errors
    /// As [`wait_async`](Self::wait_async); [`Error::InvalidInput`] for a tracker made with
    /// [`new_async`](Self::new_async) (await [`wait_async`](Self::wait_async) instead).
    pub fn wait(&self, job_id: &str, options: WaitOptions<'_>) -> Result<Job, Error> {
        match &self.inner.runtime {
            Some(runtime) => runtime.block_on(self.wait_async(job_id, options)),
            None => Err(crate::client::error::invalid(
                "tracker",
                "was made from an AsyncClient: await `wait_async` instead, or make it with `new`",
            )),
        }
    }

    /// How many jobs the tracker holds state for (waited for, or heard of by webhook).
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.lock().jobs.len()
    }

    /// Whether the tracker holds no job.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Waits for whichever of two futures ends first.
async fn first_of<A, B>(mut a: std::pin::Pin<&mut A>, b: B)
where
    A: Future<Output = ()>,
    B: Future<Output = ()>,
{
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|context| {
        if a.as_mut().poll(context).is_ready() || b.as_mut().poll(context).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn forget_unwaited(&mut self) {
        while self.unwaited.len() > REMEMBERED_JOBS {
            let Some(oldest) = self.unwaited.pop_front() else { break };
            if self.jobs.get(&oldest).is_some_and(|entry| entry.waiters == 0) {
                self.jobs.remove(&oldest);
            }
        }
    }
}

/// A wait's place in the tracker, given back when the wait ends (or its future is dropped).
struct Registration<'a> {
    inner: &'a Inner,
    job_id: String,
    notify: Arc<Notify>,
}

impl<'a> Registration<'a> {
    fn new(inner: &'a Inner, job_id: &str) -> Self {
        let mut state = inner.lock();
        let entry = state.jobs.entry(job_id.to_owned()).or_default();
        entry.waiters += 1;
        let notify = Arc::clone(&entry.notify);
        Self { inner, job_id: job_id.to_owned(), notify }
    }

    fn finished(&self) -> bool {
        self.inner.lock().jobs.get(&self.job_id).is_some_and(|entry| entry.stage >= 2)
    }

    /// The finished job was not finished when fetched: back to polling.
    fn unfinish(&self) {
        if let Some(entry) = self.inner.lock().jobs.get_mut(&self.job_id) {
            entry.stage = entry.stage.min(1);
        }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        if let Some(entry) = state.jobs.get_mut(&self.job_id) {
            entry.waiters = entry.waiters.saturating_sub(1);
            if entry.waiters == 0 {
                state.jobs.remove(&self.job_id);
            }
        }
    }
}

impl fmt::Debug for JobTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobTracker")
            .field("jobs", &self.len())
            .field("schedule", &self.inner.schedule)
            .finish_non_exhaustive()
    }
}
