//! `process`: from a local file or a URL to an output file in one call (upload, create, wait,
//! download), with one progress callback and errors that say at which stage they happened:
//! [`Client::process`] and [`AsyncClient::process`], and the types they take and return.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::Error;
use crate::client::progress::TransferProgress;
use crate::client::tracker::JobTracker;
use crate::client::wait::WaitOptions;
use crate::models::{CreateJob, Job, JobStatus};

/// What [`AsyncClient::process`] starts from: a local video (uploaded first) or a URL the API
/// can fetch. A `&str` or `String` that starts with `http://` or `https://` is a URL, anything
/// else a path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// A local file, uploaded first.
    File(PathBuf),
    /// A video URL the API fetches itself.
    Url(String),
}

impl From<&Path> for Input {
    fn from(path: &Path) -> Self {
        Self::File(path.to_owned())
    }
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Self {
        Self::File(path)
    }
}

impl From<&str> for Input {
    fn from(text: &str) -> Self {
        let lower = text.trim_start().to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::Url(text.trim().to_owned())
        } else {
            Self::File(PathBuf::from(text))
        }
    }
}

impl From<String> for Input {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

/// The stage a [`process`](AsyncClient::process) call is at, in the order a call goes through
/// them: the stages a call reports never go back to an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Sending the local file.
    Uploading,
    /// Creating the job.
    Creating,
    /// The job waits for its turn.
    Queued,
    /// The job runs.
    Processing,
    /// Fetching the output.
    Downloading,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Uploading => "uploading",
            Self::Creating => "creating the job",
            Self::Queued => "waiting in the queue",
            Self::Processing => "processing",
            Self::Downloading => "downloading the output",
        })
    }
}

/// Where a [`process`](AsyncClient::process) call is, as passed to its progress callback.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProcessProgress {
    /// The stage.
    pub stage: Stage,
    /// The job, once created.
    pub job_id: Option<String>,
    /// The job's progress while processing, 0 to 100, when the API says.
    pub percent: Option<f64>,
    /// Bytes sent or fetched while uploading or downloading.
    pub bytes: Option<TransferProgress>,
}

type JobSettings = Arc<dyn Fn(CreateJob) -> CreateJob + Send + Sync>;
type ProgressCallback = Arc<dyn Fn(&ProcessProgress) + Send + Sync>;

/// How [`process`](AsyncClient::process) creates and waits for its job.
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::client::process::ProcessOptions;
/// use removebgvideo::{BgType, Model};
///
/// let options = ProcessOptions::new()
///     .job(|job| job.model(Model::Human).bg_type(BgType::Transparent))
///     .timeout(Duration::from_secs(1800))
///     .on_progress(|p| eprintln!("{} {:?} {:?}", p.stage, p.percent, p.bytes));
/// # let _ = options;
/// ```
#[derive(Clone)]
#[must_use]
pub struct ProcessOptions {
    job: Option<JobSettings>,
    tracker: Option<JobTracker>,
    timeout: Duration,
    on_progress: Option<ProgressCallback>,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        Self { job: None, tracker: None, timeout: Duration::from_secs(3600), on_progress: None }
    }
}

impl ProcessOptions {
    /// The defaults: the API's default job settings, polling, an hour to finish.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the job's settings on the request made from the input's URL (model, background,
    /// format, webhook URL, ...).
    pub fn job(mut self, settings: impl Fn(CreateJob) -> CreateJob + Send + Sync + 'static) -> Self {
        self.job = Some(Arc::new(settings));
        self
    }

    /// Waits through this tracker (webhooks first) instead of polling. Give the job a
    /// `webhook_url` with [`job`](Self::job) so that its webhooks reach the tracker.
    pub fn tracker(mut self, tracker: JobTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// How long the job may take once created (default 1 h; `Duration::MAX` for ever).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Called at each stage, with the job's percentage while it runs and the bytes while
    /// uploading or downloading. The stages come in order and never go back: once the job has
    /// been seen processing (or finished), later polls are reported as
    /// [`Stage::Processing`], whatever status they show, until the download starts.
    pub fn on_progress(mut self, on_progress: impl Fn(&ProcessProgress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(on_progress));
        self
    }

    fn report(&self, stage: Stage, job_id: Option<&str>, percent: Option<f64>, bytes: Option<TransferProgress>) {
        if let Some(on_progress) = &self.on_progress {
            on_progress(&ProcessProgress { stage, job_id: job_id.map(str::to_owned), percent, bytes });
        }
    }
}

impl fmt::Debug for ProcessOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessOptions")
            .field("job", &self.job.is_some())
            .field("tracker", &self.tracker)
            .field("timeout", &self.timeout)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

/// What [`process`](AsyncClient::process) made.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Processed {
    /// The completed job.
    pub job: Job,
    /// Where the output was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A [`process`](AsyncClient::process) call that failed: the stage, the job once there was
/// one, and the error (its [`source`](std::error::Error::source)).
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(*.stage, .job_id.as_deref()))]
#[non_exhaustive]
pub struct ProcessError {
    /// The stage that failed.
    pub stage: Stage,
    /// The job, when it was created before the failure.
    pub job_id: Option<String>,
    /// What went wrong.
    #[source]
    pub error: Error,
}

fn describe(stage: Stage, job_id: Option<&str>) -> String {
    match job_id {
        Some(job_id) => format!("processing the video failed while {stage} (job {job_id})"),
        None => format!("processing the video failed while {stage}"),
    }
}

impl AsyncClient {
    /// From a local file or a URL to an output file in one call: uploads a local input,
    /// creates the job with `options`' settings, waits for it (through the tracker when
    /// given, else polling), and downloads the output to `out_path` (resuming after breaks;
    /// see [`AsyncDownload::to_path`](crate::client::AsyncDownload::to_path)).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use removebgvideo::client::process::ProcessOptions;
    /// use removebgvideo::{AsyncClient, Model};
    ///
    /// let client = AsyncClient::from_env()?;
    /// let options = ProcessOptions::new().job(|job| job.model(Model::Human));
    /// let done = client.process("input.mp4", &options, "output.webm").await?;
    /// println!("job {} wrote {} bytes to {}", done.job.id, done.bytes, done.path.display());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`ProcessError`] naming the stage, with the job id once the job exists, and the
    /// error of that stage as its source.
    pub async fn process(
        &self,
        input: impl Into<Input>,
        options: &ProcessOptions,
        out_path: impl AsRef<Path>,
    ) -> Result<Processed, ProcessError> {
        let fail = |stage, job_id: Option<&str>| {
            let job_id = job_id.map(str::to_owned);
            move |error| ProcessError { stage, job_id, error }
        };
        let video_url = match input.into() {
            Input::Url(url) => url,
            Input::File(path) => {
                options.report(Stage::Uploading, None, None, None);
                let reporter = options.clone();
                let upload = self
                    .upload(&path)
                    .progress(move |bytes| reporter.report(Stage::Uploading, None, None, Some(bytes)))
                    .await
                    .map_err(fail(Stage::Uploading, None))?;
                upload.video_url
            }
        };
        options.report(Stage::Creating, None, None, None);
        let request = match &options.job {
            Some(settings) => settings(CreateJob::new(video_url)),
            None => CreateJob::new(video_url),
        };
        let submission = self.create_job(&request).await.map_err(fail(Stage::Creating, None))?;
        let job_id = submission.id;
        options.report(Stage::Queued, Some(&job_id), None, None);
        // Queued until the job is seen running or finished; never queued again after that.
        let mut started = false;
        let wait = WaitOptions::default().timeout(options.timeout).on_update(move |job| {
            started |= matches!(job.status, JobStatus::Processing | JobStatus::Completed | JobStatus::Failed);
            let stage = if started { Stage::Processing } else { Stage::Queued };
            options.report(stage, Some(&job.id), job.progress, None);
        });
        let waited = match &options.tracker {
            Some(tracker) => tracker.wait_async(&job_id, wait).await,
            None => self.wait_for_completion(&job_id, wait).await,
        };
        let job = waited.map_err(fail(Stage::Processing, Some(&job_id)))?;
        options.report(Stage::Downloading, Some(&job_id), Some(100.0), None);
        let path = out_path.as_ref().to_owned();
        let reporter = options.clone();
        let reported_id = job_id.clone();
        let download = self.download_output(&job).map_err(fail(Stage::Downloading, Some(&job_id)))?;
        let bytes = download
            .progress(move |bytes| reporter.report(Stage::Downloading, Some(&reported_id), None, Some(bytes)))
            .to_path(&path)
            .await
            .map_err(fail(Stage::Downloading, Some(&job_id)))?;
        Ok(Processed { job, path, bytes })
    }
}

impl Client {
    /// From a local file or a URL to an output file in one call; see
    /// [`AsyncClient::process`].
    ///
    /// # Errors
    /// As [`AsyncClient::process`].
    pub fn process(
        &self,
        input: impl Into<Input>,
        options: &ProcessOptions,
        out_path: impl AsRef<Path>,
    ) -> Result<Processed, ProcessError> {
        let (input, out_path) = (input.into(), out_path.as_ref().to_owned());
        let processed = self.runtime.block_on(async { Ok(self.inner.process(input, options, out_path).await) });
        match processed {
            Ok(outcome) => outcome,
            // No runtime could start: nothing was sent.
            Err(error) => Err(ProcessError { stage: Stage::Uploading, job_id: None, error }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert_eq!(Input::from("https://cdn.example/in.mp4"), Input::Url("https://cdn.example/in.mp4".into()));
        assert_eq!(Input::from("HTTP://cdn.example/in.mp4"), Input::Url("HTTP://cdn.example/in.mp4".into()));
        assert_eq!(Input::from("videos/in.mp4"), Input::File(PathBuf::from("videos/in.mp4")));
        let error = ProcessError { stage: Stage::Processing, job_id: Some("job_1".into()), error: Error::Cancelled };
        assert_eq!(error.to_string(), "processing the video failed while processing (job job_1)");
    }
}
