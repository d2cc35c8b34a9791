//! The body of `start_job`.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::invalid::{invalid, InvalidInput};
use super::settings::{job_settings_setters, JobSettings};
use super::Composition;

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
    #[serde(flatten)]
    settings: JobSettings,
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

    job_settings_setters!();

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

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        self.settings.check(None)?;
        if let Some(composition) = &self.composition {
            composition.check()?;
        }
        if self.preview_duration.is_some_and(|duration| duration.is_zero()) {
            return Err(invalid("preview_duration", "must be above zero"));
        }
        Ok(())
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
