//! Request builders. Each sends exactly what the official SDK sends for the same call.

use serde::Serialize;

use super::lenient::Extra;
use super::{BgType, JobStatus, Model, OutputFormat};
use crate::error::{invalid, Error};

/// The body of `create_job`: a video URL plus options.
///
/// `video_url`, `model`, `bg_type`, `output_format` and `auto_start` are always sent, with the
/// official SDK's defaults (original, green, webm, true); the other fields only when set.
///
/// ```
/// use removebgvideo::{BgType, CreateJob, Model, OutputFormat};
///
/// let request = CreateJob::new("https://cdn.example.com/input.mp4")
///     .model(Model::Human)
///     .bg_type(BgType::Transparent)
///     .output_format(OutputFormat::Webm);
/// assert_eq!(request.video_url(), "https://cdn.example.com/input.mp4");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[must_use]
pub struct CreateJob {
    video_url: String,
    model: Model,
    bg_type: BgType,
    output_format: OutputFormat,
    auto_start: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_color: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Extra>,
}

impl CreateJob {
    /// A job for the video at `video_url` (an upload's [`video_url`](crate::Upload::video_url)
    /// or any URL the service can fetch), with the default options.
    pub fn new(video_url: impl Into<String>) -> Self {
        Self {
            video_url: video_url.into(),
            model: Model::default(),
            bg_type: BgType::default(),
            output_format: OutputFormat::default(),
            auto_start: true,
            text_prompt: None,
            webhook_url: None,
            bg_color: None,
            metadata: None,
        }
    }

    /// The segmentation model (default [`Model::Original`]).
    pub fn model(mut self, model: Model) -> Self {
        self.model = model;
        self
    }

    /// The background (default [`BgType::Green`], as the official SDK sends).
    pub fn bg_type(mut self, bg_type: BgType) -> Self {
        self.bg_type = bg_type;
        self
    }

    /// The output format (default [`OutputFormat::Webm`]).
    pub fn output_format(mut self, output_format: OutputFormat) -> Self {
        self.output_format = output_format;
        self
    }

    /// Whether processing starts at once (default `true`); `false` makes a draft that
    /// [`Client::start_job`](crate::Client::start_job) starts later.
    pub fn auto_start(mut self, auto_start: bool) -> Self {
        self.auto_start = auto_start;
        self
    }

    /// What to segment, in words; only [`Model::Pro`] reads it.
    pub fn text_prompt(mut self, text_prompt: impl Into<String>) -> Self {
        self.text_prompt = Some(text_prompt.into());
        self
    }

    /// Where the service POSTs `job.started`, `job.completed` and `job.failed` events.
    pub fn webhook_url(mut self, webhook_url: impl Into<String>) -> Self {
        self.webhook_url = Some(webhook_url.into());
        self
    }

    /// The RGB colour of a [`BgType::Custom`] background.
    pub fn bg_color(mut self, rgb: [f64; 3]) -> Self {
        self.bg_color = Some(rgb);
        self
    }

    /// Your own data, stored with the job.
    pub fn metadata(mut self, metadata: Extra) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The video URL this request names.
    #[must_use]
    pub fn video_url(&self) -> &str {
        &self.video_url
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.video_url.trim().is_empty() {
            return Err(invalid("video_url", "must not be empty"));
        }
        validate_optional(self.text_prompt.as_deref(), self.webhook_url.as_deref(), self.bg_color)
    }
}

/// The overrides of `start_job`. Only the fields you set are sent; no override sends `{}`.
///
/// ```
/// use removebgvideo::{Model, StartJob};
///
/// let overrides = StartJob::new().model(Model::Pro).text_prompt("person in a red jacket");
/// # let _ = overrides;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[must_use]
pub struct StartJob {
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_format: Option<OutputFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_type: Option<BgType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_color: Option<[f64; 3]>,
}

impl StartJob {
    /// No overrides: the job starts with the options it was created with.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the model.
    pub fn model(mut self, model: Model) -> Self {
        self.model = Some(model);
        self
    }

    /// Overrides the output format.
    pub fn output_format(mut self, output_format: OutputFormat) -> Self {
        self.output_format = Some(output_format);
        self
    }

    /// Overrides the background.
    pub fn bg_type(mut self, bg_type: BgType) -> Self {
        self.bg_type = Some(bg_type);
        self
    }

    /// Sets the prompt ([`Model::Pro`] only).
    pub fn text_prompt(mut self, text_prompt: impl Into<String>) -> Self {
        self.text_prompt = Some(text_prompt.into());
        self
    }

    /// Sets the webhook URL.
    pub fn webhook_url(mut self, webhook_url: impl Into<String>) -> Self {
        self.webhook_url = Some(webhook_url.into());
        self
    }

    /// Sets the RGB colour of a custom background.
    pub fn bg_color(mut self, rgb: [f64; 3]) -> Self {
        self.bg_color = Some(rgb);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_optional(self.text_prompt.as_deref(), self.webhook_url.as_deref(), self.bg_color)
    }
}

fn validate_optional(
    text_prompt: Option<&str>,
    webhook_url: Option<&str>,
    bg_color: Option<[f64; 3]>,
) -> Result<(), Error> {
    if text_prompt.is_some_and(|prompt| prompt.trim().is_empty()) {
        return Err(invalid("text_prompt", "must not be empty when set"));
    }
    if webhook_url.is_some_and(|url| url.trim().is_empty()) {
        return Err(invalid("webhook_url", "must not be empty when set"));
    }
    if bg_color.is_some_and(|rgb| !rgb.iter().all(|channel| channel.is_finite())) {
        return Err(invalid("bg_color", "must be three finite numbers"));
    }
    Ok(())
}

/// The query of `list_jobs`: `limit` (default 20) and `offset` (default 0) are always sent,
/// `status` only when set.
///
/// ```
/// use removebgvideo::{JobStatus, ListJobs};
///
/// let query = ListJobs::new().limit(50).status(JobStatus::Completed);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ListJobs {
    pub(crate) limit: u32,
    pub(crate) offset: u32,
    pub(crate) status: Option<JobStatus>,
}

impl Default for ListJobs {
    fn default() -> Self {
        Self { limit: 20, offset: 0, status: None }
    }
}

impl ListJobs {
    /// The first 20 jobs of any status.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many jobs per page (at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// How many jobs to skip.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = offset;
        self
    }

    /// Only jobs with this status.
    pub fn status(mut self, status: JobStatus) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.limit == 0 {
            return Err(invalid("limit", "must be at least 1"));
        }
        Ok(())
    }
}

/// The body of `create_key`: `{client_id, note?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct CreateKey {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl CreateKey {
    /// A key for the client `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), note: None }
    }

    /// A note stored with the key.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.client_id.trim().is_empty() {
            return Err(invalid("client_id", "must not be empty"));
        }
        Ok(())
    }
}
