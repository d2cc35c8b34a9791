//! The body of `create_job`.

use serde::{Serialize, Serializer};

use super::invalid::{invalid, InvalidInput};
use super::lenient::Extra;
use super::settings::{job_settings_setters, JobSettings};
use super::{Background, BgType, Model, OutputFormat};

/// The body of `create_job`: a video URL plus options.
///
/// `video_url`, `model`, `bg_type`, `output_format` and `auto_start` are always sent, with the
/// official SDK's defaults (original, green, webm, true); the other fields only when set. A
/// request that sets none of the newer options is byte-for-byte what the official SDK sends.
///
/// # Two ways to choose the background
///
/// - The flat fields of the official SDK: [`bg_type`](Self::bg_type),
///   [`bg_color`](Self::bg_color) (normalized RGB, 0..=1) and
///   [`bg_image_url`](Self::bg_image_url).
/// - The docs' `background` object: [`background`](Self::background). Setting it takes the
///   default `bg_type` (`green`) off the wire, so only the object is sent.
///
/// Which form the server prefers when both are present is undocumented, so a request that sets
/// the object and any flat background field is refused before sending.
///
/// ```
/// use removebgvideo::{Background, BgType, CreateJob, Model, OutputFormat};
///
/// let request = CreateJob::new("https://cdn.example.com/input.mp4")
///     .model(Model::Human)
///     .bg_type(BgType::Transparent)
///     .output_format(OutputFormat::Webm);
/// assert_eq!(request.video_url(), "https://cdn.example.com/input.mp4");
///
/// let on_green = CreateJob::new("https://cdn.example.com/input.mp4")
///     .background(Background::hex("#00FF00"))
///     .output_format(OutputFormat::Mp4);
/// # let _ = on_green;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct CreateJob {
    video_url: String,
    /// Unset `model` and `output_format` are sent as their defaults; an unset `bg_type` too,
    /// unless `background` replaces it.
    pub(crate) settings: JobSettings,
    auto_start: bool,
    bg_image_url: Option<String>,
    metadata: Option<Extra>,
}

/// The wire shape, in the official SDK's field order.
#[derive(Serialize)]
struct Wire<'a> {
    video_url: &'a str,
    model: &'a Model,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_type: Option<&'a BgType>,
    output_format: &'a OutputFormat,
    auto_start: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_prompt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_color: Option<&'a [f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bg_image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Extra>,
    #[serde(skip_serializing_if = "Option::is_none")]
    background: Option<&'a Background>,
}

const DEFAULT_BG_TYPE: BgType = BgType::Green;

impl Serialize for CreateJob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let settings = &self.settings;
        let model = settings.model.clone().unwrap_or_default();
        let output_format = settings.output_format.clone().unwrap_or_default();
        let bg_type = match (&settings.bg_type, &settings.background) {
            (Some(bg_type), _) => Some(bg_type),
            (None, Some(_)) => None,
            (None, None) => Some(&DEFAULT_BG_TYPE),
        };
        Wire {
            video_url: &self.video_url,
            model: &model,
            bg_type,
            output_format: &output_format,
            auto_start: self.auto_start,
            text_prompt: settings.text_prompt.as_deref(),
            webhook_url: settings.webhook_url.as_deref(),
            bg_color: settings.bg_color.as_ref(),
            bg_image_url: self.bg_image_url.as_deref(),
            metadata: self.metadata.as_ref(),
            background: settings.background.as_ref(),
        }
        .serialize(serializer)
    }
}

impl CreateJob {
    /// A job for the video at `video_url` (an upload's [`video_url`](crate::models::Upload::video_url)
    /// or any URL the service can fetch), with the default options.
    pub fn new(video_url: impl Into<String>) -> Self {
        Self {
            video_url: video_url.into(),
            settings: JobSettings::default(),
            auto_start: true,
            bg_image_url: None,
            metadata: None,
        }
    }

    job_settings_setters!();

    /// Whether processing starts at once (default `true`); `false` makes a draft (status
    /// `created`) that [`Client::start_job`](crate::Client::start_job) starts later.
    pub fn auto_start(mut self, auto_start: bool) -> Self {
        self.auto_start = auto_start;
        self
    }

    /// The URL of the image behind the foreground; needs `bg_type(BgType::Image)`. Not together
    /// with [`background`](Self::background).
    pub fn bg_image_url(mut self, bg_image_url: impl Into<String>) -> Self {
        self.bg_image_url = Some(bg_image_url.into());
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

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        if self.video_url.trim().is_empty() {
            return Err(invalid("video_url", "must not be empty"));
        }
        self.settings.check(self.bg_image_url.as_deref())
    }
}
