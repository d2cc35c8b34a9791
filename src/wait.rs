//! [`Client::wait_for_completion`]: polling a job until it completes, fails or time runs out.

use std::fmt;
use std::time::Duration;

use crate::error::invalid;
use crate::transport::decode;
use crate::{Client, Error, Job, JobStatus};

/// How [`Client::wait_for_completion`] polls. The defaults are the official SDK's: every 2 s,
/// for at most 600 s.
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
    timeout: Duration,
    backoff: Option<(f64, Duration)>,
    on_update: Option<UpdateCallback<'a>>,
}

/// Called with the job whenever its status or progress changes.
type UpdateCallback<'a> = Box<dyn FnMut(&Job) + Send + 'a>;

impl Default for WaitOptions<'_> {
    fn default() -> Self {
        Self { interval: Duration::from_secs(2), timeout: Duration::from_secs(600), backoff: None, on_update: None }
    }
}

impl<'a> WaitOptions<'a> {
    /// The pause between polls (default 2 s; must be more than zero).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long to wait in all (default 600 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Grows the pause by `factor` (at least 1) after each poll, up to `max_interval`: long jobs
    /// cost fewer calls.
    pub fn backoff(mut self, factor: f64, max_interval: Duration) -> Self {
        self.backoff = Some((factor, max_interval));
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
        if let Some((factor, _)) = self.backoff {
            if !factor.is_finite() || factor < 1.0 {
                return Err(invalid("backoff", "the factor must be a finite number of at least 1"));
            }
        }
        Ok(())
    }

    fn next_interval(&self, current: Duration) -> Duration {
        match self.backoff {
            Some((factor, max_interval)) => current.mul_f64(factor).min(max_interval.max(self.interval)),
            None => current,
        }
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

impl Client {
    /// Polls a job until it completes, and returns it.
    ///
    /// A poll that fails transiently (429, 5xx, a dropped connection) does not end the wait
    /// while time remains; the wait never sleeps past its deadline, and polls one last time at
    /// the deadline. Time and sleep come from the client's [`Clock`](crate::clock::Clock).
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
    /// [`Error::JobFailed`] with the job once it failed; [`Error::WaitTimeout`] with the last
    /// state seen once time ran out; [`Error::Api`] for an answer that will not change by
    /// waiting (401, 404); [`Error::InvalidInput`] for an empty id or a zero interval.
    pub fn wait_for_completion(&self, job_id: &str, mut options: WaitOptions<'_>) -> Result<Job, Error> {
        options.validate()?;
        let call = self.get_job_call(job_id)?;
        let clock = self.transport.clock();
        let started = clock.now();
        let deadline = started + options.timeout;
        let mut interval = options.interval;
        let mut last_seen: Option<Job> = None;
        loop {
            let mut pause = interval;
            let mut last_error = None;
            // Each poll is one attempt: this loop is the retry, and it knows the deadline.
            match self.transport.send_once(&call).and_then(decode::<Job>) {
                Ok(job) => {
                    let changed = last_seen
                        .as_ref()
                        .is_none_or(|seen| seen.status != job.status || seen.progress != job.progress);
                    if changed {
                        if let Some(on_update) = options.on_update.as_mut() {
                            on_update(&job);
                        }
                    }
                    match job.status {
                        JobStatus::Completed => return Ok(job),
                        JobStatus::Failed => return Err(Error::JobFailed(Box::new(job))),
                        _ => last_seen = Some(job),
                    }
                }
                Err(error) if error.is_retryable() => {
                    // A 429's Retry-After is a floor for the next poll, never past the deadline.
                    pause = pause.max(error.retry_after().unwrap_or_default());
                    last_error = Some(error);
                }
                Err(error) => return Err(error),
            }
            let now = clock.now();
            if now >= deadline {
                return Err(Error::WaitTimeout {
                    job_id: job_id.to_owned(),
                    elapsed: now.saturating_duration_since(started),
                    last_seen: last_seen.map(Box::new),
                    last_error: last_error.map(Box::new),
                });
            }
            clock.sleep(pause.min(deadline - now));
            interval = options.next_interval(interval);
        }
    }
}
