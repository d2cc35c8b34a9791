//! The body of `start_job`.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::background::check_rgb;
use super::create_job::{check_background, check_common};
use super::invalid::{invalid, Invalid};
use super::{Background, BgType, Composition, Model, OutputFormat};

/// The options of `start_job`. Only the fields you set are sent; `StartJob::new()` sends `{}`.
///
/// The docs call start "the most common place to pass model, text_prompt, background, and
/// composition"; the official Python SDK's flat overrides (`output_format`, `bg_type`,
/// `bg_color`, `webhook_url`) are here too. As on [`CreateJob`](crate::CreateJob), the
/// `background` object and the flat `bg_type`/`bg_color` are never sent together.
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::models::Anchor;
/// use removebgvideo::{Background, Composition, Model, StartJob};
///
/// let overrides = StartJob::new().model(Model::Pro).text_prompt("person in a red jacket");
/// let composed = StartJob::new()
///     .background(Background::hex("#1E90FF"))
///     .composition(Composition::new(1920, 1080).anchor(Anchor::BottomCenter).scale(0.8))
///     .preview_duration(Duration::from_secs(5));
/// # let _ = (overrides, composed);
/// # Ok::<(), removebgvideo::Error>(())
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
    #[serde(skip_serializing_if = "Option::is_none")]
    background: Option<Background>,
    #[serde(skip_serializing_if = "Option::is_none")]
    composition: Option<Composition>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "seconds")]
    preview_duration: Option<Duration>,
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

    /// Overrides the background type. Not together with [`background`](Self::background).
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

    /// Sets the colour of a colour background as **normalized RGB** (each component in 0..=1;
    /// divide 0..=255 values by 255). Not together with [`background`](Self::background).
    pub fn bg_color(mut self, rgb: [f64; 3]) -> Self {
        self.bg_color = Some(rgb);
        self
    }

    /// Sets the background as the docs' `background` object.
    pub fn background(mut self, background: Background) -> Self {
        self.background = Some(background);
        self
    }

    /// Places the foreground on an output canvas.
    pub fn composition(mut self, composition: Composition) -> Self {
        self.composition = Some(composition);
        self
    }

    /// Processes only the first `duration` of the video, as a preview; sent as seconds (a whole
    /// number when `duration` has no fraction of a second). Must be above zero.
    pub fn preview_duration(mut self, duration: Duration) -> Self {
        self.preview_duration = Some(duration);
        self
    }

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        check_common(self.text_prompt.as_deref(), self.webhook_url.as_deref())?;
        let flat = [self.bg_type.as_ref().map(|_| "bg_type"), self.bg_color.map(|_| "bg_color")];
        check_background(self.background.as_ref(), &flat)?;
        if let Some(rgb) = &self.bg_color {
            check_rgb("bg_color", rgb)?;
        }
        if let Some(composition) = &self.composition {
            composition.check()?;
        }
        if self.preview_duration.is_some_and(|duration| duration.is_zero()) {
            return Err(invalid("preview_duration", "must be above zero"));
        }
        Ok(())
    }

    #[cfg(feature = "client")]
    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        self.check().map_err(Into::into)
    }
}

/// Whole seconds as an integer, anything finer as a float.
#[allow(clippy::ref_option)]
fn seconds<S: Serializer>(duration: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) if duration.subsec_nanos() == 0 => serializer.serialize_u64(duration.as_secs()),
        Some(duration) => serializer.serialize_f64(duration.as_secs_f64()),
        None => serializer.serialize_none(),
    }
}
