//! `wait_for_completion`: polling a job until it completes, fails or time runs out. Written
//! once, async; the blocking client runs it on its runtime.

use std::fmt;
use std::time::Duration;

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::{invalid, Error};
use crate::clock::deadline;
use crate::models::{Job, JobStatus};

/// The pause between polls that [`WaitOptions::default`] starts at.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
/// How [`WaitOptions::default`] grows the pause on a long job, and up to what.
const DEFAULT_BACKOFF: (f64, Duration) = (1.5, Duration::from_secs(10));

/// How `wait_for_completion` polls ([`Client::wait_for_completion`],
/// [`AsyncClient::wait_for_completion`]).
///
/// The default follows the API's advice: a first pause of 2 s, growing by half on each poll
/// of a long job up to 10 s, for at most 600 s. An [`interval`](Self::interval) set explicitly
/// stays fixed (`WaitOptions::default().interval(Duration::from_secs(2))` is the official SDK's
/// fixed 2 s), unless [`backoff`](Self::backoff) is set too.
///
/// Every value is accepted or refused with [`Error::InvalidInput`] (a zero interval, a factor
/// below 1 or not finite); `Duration::MAX` is accepted anywhere and means "no limit".
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::WaitOptions;
///
/// let options = WaitOptions::default()
///     .interval(Duration::from_secs(1))
///     .backoff(1.5, Duration::from_secs(10))
///     .timeout(Duration::from_secs(900))
///     .on_update(|job| println!("{} {:?}", job.status, job.progress));
/// # let _ = options;
/// ```
#[must_use]
pub struct WaitOptions<'a> {
    interval: Duration,
    /// Also the deadline of a [`JobTracker`](crate::client::JobTracker)'s wait.
    pub(crate) timeout: Duration,
    backoff: Backoff,
    pub(crate) on_update: Option<UpdateCallback<'a>>,
}

/// How the pause grows from one poll to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Backoff {
    /// The default: [`DEFAULT_BACKOFF`], until an interval is set.
    Advised,
    /// The interval, every time.
    Fixed,
    /// By this factor, up to this pause.
    Grow(f64, Duration),
}

/// Called with the job whenever its status or progress changes. `Send` because the async
/// client's future holds it across its pauses and must itself be `Send` (to run in
/// `tokio::spawn`); one `WaitOptions` serves both clients.
type UpdateCallback<'a> = Box<dyn FnMut(&Job) + Send + 'a>;

impl Default for WaitOptions<'_> {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            timeout: Duration::from_secs(600),
            backoff: Backoff::Advised,
            on_update: None,
        }
    }
}

impl<'a> WaitOptions<'a> {
    /// The pause between polls (default 2 s, then growing; must be more than zero). Setting it
    /// keeps it fixed, unless [`backoff`](Self::backoff) is set too.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        if self.backoff == Backoff::Advised {
            self.backoff = Backoff::Fixed;
        }
        self
    }

    /// How long to wait in all (default 600 s; `Duration::MAX` waits for ever).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Grows the pause by `factor` (a finite number, at least 1) after each poll, up to
    /// `max_interval`: long jobs cost fewer calls.
    pub fn backoff(mut self, factor: f64, max_interval: Duration) -> Self {
        self.backoff = Backoff::Grow(factor, max_interval);
        self
    }

    /// Called with the job each time its status or progress changes (for a progress bar).
    pub fn on_update(mut self, on_update: impl FnMut(&Job) + Send + 'a) -> Self {
        self.on_update = Some(Box::new(on_update));
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if self.interval.is_zero() {
            return Err(invalid("interval", "must be more than zero, or the wait would busy-loop"));
        }
        if let Backoff::Grow(factor, _) = self.backoff
            && (!factor.is_finite() || factor < 1.0)
        {
            return Err(invalid(
                "backoff",
                format!("the factor is {factor}; it must be a finite number of at least 1"),
            ));
        }
        Ok(())
    }

    /// The pause before the second poll (the first comes at once).
    #[cfg(feature = "batch")]
    pub(crate) fn first_interval(&self) -> Duration {
        self.interval
    }

    /// The pause after `current`, saturating: the one poll schedule of the crate, used by
    /// `wait_for_completion` and by the batch's poller.
    pub(crate) fn next_interval(&self, current: Duration) -> Duration {
        let (factor, max_interval) = match self.backoff {
            Backoff::Fixed => return current,
            Backoff::Advised => DEFAULT_BACKOFF,
            Backoff::Grow(factor, max_interval) => (factor, max_interval),
        };
        // Through f64, a long pause can come back a hair shorter: never let it shrink.
        let grown = Duration::try_from_secs_f64(current.as_secs_f64() * factor).unwrap_or(Duration::MAX).max(current);
        grown.min(max_interval.max(self.interval))
    }
}

impl fmt::Debug for WaitOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("backoff", &self.backoff)
            .field("on_update", &self.on_update.is_some())
            .finish()
    }
}

impl AsyncClient {
    /// Polls a job until it completes, and returns it.
    ///
    /// A poll that fails transiently (429, 5xx, a dropped connection) does not end the wait
    /// while time remains; an error that waiting will not change (401, 402, 404) ends it at
    /// once. The wait never sleeps past its deadline, and polls one last time at the deadline.
    /// Time and sleep come from the client's [`Clock`](crate::clock::Clock) (tokio's clock by
    /// default, so a paused test runtime skips the pauses).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), removebgvideo::Error> {
    /// use removebgvideo::{AsyncClient, WaitOptions};
    ///
    /// let client = AsyncClient::from_env()?;
    /// let job = client.wait_for_completion("job_123", WaitOptions::default()).await?;
    /// println!("{:?}", job.output_url);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::JobFailed`] with the job once it failed; [`Error::WaitTimeout`] with the last
    /// state seen once time ran out; [`Error::Api`] for an answer that will not change by
    /// waiting (401, 402, 404); [`Error::InvalidInput`] for an empty id or invalid options.
    pub async fn wait_for_completion(&self, job_id: &str, mut options: WaitOptions<'_>) -> Result<Job, Error> {
        options.validate()?;
        let call = self.get_job_call(job_id)?;
        let clock = self.transport.clock();
        let started = clock.now();
        let deadline = deadline(started, options.timeout);
        let mut interval = options.interval;
        let mut last_seen: Option<Job> = None;
        let mut last_error: Option<Error> = None;
        loop {
            let mut pause = interval;
            // The client's shared back-off holds every call; when it outlasts the deadline, the
            // poll is not sent at all (it would wait past the deadline).
            let held = self.transport.backoff_remaining();
            let outcome = if !held.is_zero() && deadline.saturating_duration_since(clock.now()) < held {
                Err(Error::BackedOff { retry_after: held })
            } else {
                // Each poll is one attempt: this loop is the retry, and it knows the deadline.
                self.transport.json_once::<Job>(&call).await
            };
            match outcome {
                Ok(job) => {
                    let changed = last_seen
                        .as_ref()
                        .is_none_or(|seen| seen.status != job.status || seen.progress != job.progress);
                    if changed && let Some(on_update) = options.on_update.as_mut() {
                        on_update(&job);
                    }
                    last_error = None;
                    match job.status {
                        JobStatus::Completed => return Ok(job),
                        JobStatus::Failed => return Err(Error::JobFailed(Box::new(job))),
                        _ => last_seen = Some(job),
                    }
                }
                Err(error) if error.is_retryable() => {
                    // A 429's Retry-After is a floor for the next poll, never past the deadline.
                    pause = pause.max(error.retry_after().unwrap_or_default());
                    // The answer that closed the back-off says more than the back-off itself.
                    if !(matches!(error, Error::BackedOff { .. }) && last_error.is_some()) {
                        last_error = Some(error);
                    }
                }
                Err(error) => return Err(error),
            }
            let now = clock.now();
            if now >= deadline {
                return Err(timed_out(job_id, now.saturating_duration_since(started), last_seen, last_error));
            }
            clock.sleep(pause.min(deadline.saturating_duration_since(now))).await;
            interval = options.next_interval(interval);
        }
    }
}

impl Client {
    /// Polls a job until it completes, and returns it; see
    /// [`AsyncClient::wait_for_completion`] for the rules.
    ///
    /// ```no_run
    /// use removebgvideo::{Client, WaitOptions};
    ///
    /// let client = Client::from_env()?;
    /// let job = client.wait_for_completion("job_123", WaitOptions::default())?;
    /// println!("{:?}", job.output_url);
    /// # Ok::<(), removebgvideo::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`AsyncClient::wait_for_completion`].
    pub fn wait_for_completion(&self, job_id: &str, options: WaitOptions<'_>) -> Result<Job, Error> {
        self.runtime.block_on(self.inner.wait_for_completion(job_id, options))
    }
}

/// The error of a wait for `job_id` that reached its deadline after `elapsed`, with the last
/// job and the last error it saw (for both the polling wait and the tracker).
pub(crate) fn timed_out(job_id: &str, elapsed: Duration, last_seen: Option<Job>, last_error: Option<Error>) -> Error {
    Error::WaitTimeout {
        job_id: job_id.to_owned(),
        elapsed,
        last_seen: last_seen.map(Box::new),
        last_error: last_error.map(Box::new),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_default_grows_from_2_s_to_10_s_and_an_explicit_interval_stays_fixed() {
        let options = WaitOptions::default();
        let mut pause = options.interval;
        let mut schedule = vec![pause];
        for _ in 0..6 {
            pause = options.next_interval(pause);
            schedule.push(pause);
        }
        let secs = |s: f64| Duration::from_secs_f64(s);
        assert_eq!(schedule, [secs(2.0), secs(3.0), secs(4.5), secs(6.75), secs(10.0), secs(10.0), secs(10.0)]);
        let fixed = WaitOptions::default().interval(secs(2.0));
        assert_eq!(fixed.next_interval(secs(2.0)), secs(2.0));
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            any::<u64>().prop_map(Duration::from_nanos),
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        ]
    }

    fn any_factor() -> impl Strategy<Value = f64> {
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(f64::MAX), Just(1.0), any::<f64>()]
    }

    proptest! {
        #[test]
        fn no_option_makes_the_schedule_panic(
            interval in any_duration(), timeout in any_duration(), factor in any_factor(),
            max in any_duration(), polls in 0usize..64,
        ) {
            let options = WaitOptions::default().interval(interval).timeout(timeout).backoff(factor, max);
            if options.validate().is_ok() {
                let now = std::time::Instant::now();
                let end = deadline(now, options.timeout);
                prop_assert!(end >= now);
                let mut pause = options.interval;
                for _ in 0..polls {
                    let next = options.next_interval(pause);
                    prop_assert!(next >= pause.min(max.max(interval)));
                    pause = next;
                }
            } else {
                prop_assert!(interval.is_zero() || !factor.is_finite() || factor < 1.0);
            }
        }
    }
}
