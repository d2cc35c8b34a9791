//! The body of `create_job`.

use serde::{Serialize, Serializer};

use super::background::{check_rgb, check_url};
use super::invalid::{invalid, Invalid};
use super::lenient::Extra;
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
    model: Model,
    /// `None` until set: then the default is sent, unless `background` replaces it.
    bg_type: Option<BgType>,
    output_format: OutputFormat,
    auto_start: bool,
    text_prompt: Option<String>,
    webhook_url: Option<String>,
    bg_color: Option<[f64; 3]>,
    bg_image_url: Option<String>,
    metadata: Option<Extra>,
    background: Option<Background>,
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
        let bg_type = match (&self.bg_type, &self.background) {
            (Some(bg_type), _) => Some(bg_type),
            (None, Some(_)) => None,
            (None, None) => Some(&DEFAULT_BG_TYPE),
        };
        Wire {
            video_url: &self.video_url,
            model: &self.model,
            bg_type,
            output_format: &self.output_format,
            auto_start: self.auto_start,
            text_prompt: self.text_prompt.as_deref(),
            webhook_url: self.webhook_url.as_deref(),
            bg_color: self.bg_color.as_ref(),
            bg_image_url: self.bg_image_url.as_deref(),
            metadata: self.metadata.as_ref(),
            background: self.background.as_ref(),
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
            model: Model::default(),
            bg_type: None,
            output_format: OutputFormat::default(),
            auto_start: true,
            text_prompt: None,
            webhook_url: None,
            bg_color: None,
            bg_image_url: None,
            metadata: None,
            background: None,
        }
    }

    /// The segmentation model (default [`Model::Original`]).
    pub fn model(mut self, model: Model) -> Self {
        self.model = model;
        self
    }

    /// The background type (default [`BgType::Green`], as the official SDK sends). Not together
    /// with [`background`](Self::background).
    pub fn bg_type(mut self, bg_type: BgType) -> Self {
        self.bg_type = Some(bg_type);
        self
    }

    /// The output format (default [`OutputFormat::Webm`]).
    pub fn output_format(mut self, output_format: OutputFormat) -> Self {
        self.output_format = output_format;
        self
    }

    /// Whether processing starts at once (default `true`); `false` makes a draft (status
    /// `created`) that [`Client::start_job`](crate::Client::start_job) starts later.
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

    /// The colour of a [`BgType::Color`] (or [`BgType::Custom`]) background as **normalized
    /// RGB**: each component in 0..=1, so green is `[0.035, 0.635, 0.274]`, not
    /// `[9, 162, 70]`. Divide 0..=255 values by 255. Not together with
    /// [`background`](Self::background).
    pub fn bg_color(mut self, rgb: [f64; 3]) -> Self {
        self.bg_color = Some(rgb);
        self
    }

    /// The URL of the image behind the foreground; needs `bg_type(BgType::Image)`. Not together
    /// with [`background`](Self::background).
    pub fn bg_image_url(mut self, bg_image_url: impl Into<String>) -> Self {
        self.bg_image_url = Some(bg_image_url.into());
        self
    }

    /// The background as the docs' `background` object, in place of the flat `bg_type`,
    /// `bg_color` and `bg_image_url` (the default `bg_type` is then not sent).
    pub fn background(mut self, background: Background) -> Self {
        self.background = Some(background);
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

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        if self.video_url.trim().is_empty() {
            return Err(invalid("video_url", "must not be empty"));
        }
        check_common(self.text_prompt.as_deref(), self.webhook_url.as_deref())?;
        let flat = [
            self.bg_type.as_ref().map(|_| "bg_type"),
            self.bg_color.map(|_| "bg_color"),
            self.bg_image_url.as_ref().map(|_| "bg_image_url"),
        ];
        check_background(self.background.as_ref(), &flat)?;
        if let Some(rgb) = &self.bg_color {
            check_rgb("bg_color", rgb)?;
        }
        if let Some(url) = &self.bg_image_url {
            check_url("bg_image_url", url)?;
            if self.bg_type != Some(BgType::Image) {
                return Err(invalid("bg_image_url", "is read with bg_type image: set .bg_type(BgType::Image) too"));
            }
        }
        Ok(())
    }

    #[cfg(feature = "client")]
    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        self.check().map_err(Into::into)
    }
}

/// Checks shared by `create_job` and `start_job`.
pub(crate) fn check_common(text_prompt: Option<&str>, webhook_url: Option<&str>) -> Result<(), Invalid> {
    if text_prompt.is_some_and(|prompt| prompt.trim().is_empty()) {
        return Err(invalid("text_prompt", "must not be empty when set"));
    }
    if webhook_url.is_some_and(|url| url.trim().is_empty()) {
        return Err(invalid("webhook_url", "must not be empty when set"));
    }
    Ok(())
}

/// The object is valid, and no flat background field (named in `flat`) is set beside it.
pub(crate) fn check_background(background: Option<&Background>, flat: &[Option<&'static str>]) -> Result<(), Invalid> {
    let Some(background) = background else {
        return Ok(());
    };
    if let Some(field) = flat.iter().flatten().next() {
        return Err(invalid(
            "background",
            format!(
                "cannot be sent with {field}: the server's choice between the two forms is undocumented, so use \
                 either the background object or bg_type/bg_color/bg_image_url"
            ),
        ));
    }
    background.check()
}
