//! The seven job settings that `create_job`, `start_job` and a batch's options share: their
//! fields, their checks and (through [`job_settings_setters`]) their setters, each written once.

use serde::Serialize;

use super::background::{check_rgb, check_url};
use super::invalid::{invalid, InvalidInput};
use super::{Background, BgType, Model, OutputFormat};

/// The settings every way of running a job accepts. Each is `None` until set; what an unset
/// one means is the owner's business (`create_job` sends the official SDK's defaults,
/// `start_job` keeps the job's, a batch item takes the batch's).
///
/// Serialized in the official SDK's order, unset fields left out, for `start_job`'s body
/// (flattened); `create_job` writes its own body from these fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct JobSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_format: Option<OutputFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bg_type: Option<BgType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bg_color: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) background: Option<Background>,
}

impl JobSettings {
    /// Every check of the shared settings. `bg_image_url` is `create_job`'s own flat background
    /// field, which cannot meet the `background` object either.
    pub(crate) fn check(&self, bg_image_url: Option<&str>) -> Result<(), InvalidInput> {
        if self.text_prompt.as_deref().is_some_and(|prompt| prompt.trim().is_empty()) {
            return Err(invalid("text_prompt", "must not be empty when set"));
        }
        if self.webhook_url.as_deref().is_some_and(|url| url.trim().is_empty()) {
            return Err(invalid("webhook_url", "must not be empty when set"));
        }
        let flat = [
            self.bg_type.as_ref().map(|_| "bg_type"),
            self.bg_color.map(|_| "bg_color"),
            bg_image_url.map(|_| "bg_image_url"),
        ];
        if let Some(background) = &self.background {
            if let Some(field) = flat.iter().flatten().next() {
                return Err(invalid(
                    "background",
                    format!(
                        "cannot be sent with {field}: the server's choice between the two forms is undocumented, so \
                         use either the background object or bg_type/bg_color/bg_image_url"
                    ),
                ));
            }
            background.check()?;
        }
        if let Some(rgb) = &self.bg_color {
            check_rgb("bg_color", rgb)?;
        }
        if let Some(url) = bg_image_url {
            check_url("bg_image_url", url)?;
            if self.bg_type != Some(BgType::Image) {
                return Err(invalid("bg_image_url", "is read with bg_type image: set .bg_type(BgType::Image) too"));
            }
        }
        Ok(())
    }
}

/// The seven setters of [`JobSettings`], for a builder type with a `settings: JobSettings` field:
/// `CreateJob`, `StartJob` and `batch::JobOptions` each invoke this once inside their `impl`, so
/// a setter and its documentation exist once and no trait needs importing.
macro_rules! job_settings_setters {
    () => {
        /// The segmentation model. Unset, a new job gets [`Model::Original`](crate::Model::Original)
        /// and a started draft keeps the model it was created with.
        pub fn model(mut self, model: $crate::models::Model) -> Self {
            self.settings.model = Some(model);
            self
        }

        /// The output format. Unset, a new job gets [`OutputFormat::Webm`](crate::OutputFormat::Webm)
        /// and a started draft keeps its own.
        pub fn output_format(mut self, output_format: $crate::models::OutputFormat) -> Self {
            self.settings.output_format = Some(output_format);
            self
        }

        /// The background type. Unset, a new job is sent [`BgType::Green`](crate::BgType::Green), as
        /// the official SDK sends, unless [`background`](Self::background) replaces it. Not together
        /// with [`background`](Self::background).
        pub fn bg_type(mut self, bg_type: $crate::models::BgType) -> Self {
            self.settings.bg_type = Some(bg_type);
            self
        }

        /// What to segment, in words; only [`Model::Pro`](crate::Model::Pro) reads it. Must not be
        /// blank.
        pub fn text_prompt(mut self, text_prompt: impl Into<String>) -> Self {
            self.settings.text_prompt = Some(text_prompt.into());
            self
        }

        /// Where the service POSTs `job.started`, `job.completed` and `job.failed` events. Must not
        /// be blank.
        pub fn webhook_url(mut self, webhook_url: impl Into<String>) -> Self {
            self.settings.webhook_url = Some(webhook_url.into());
            self
        }

        /// The colour of a [`BgType::Color`](crate::BgType::Color) (or
        /// [`BgType::Custom`](crate::BgType::Custom)) background as **normalized RGB**: each
        /// component in 0..=1, so green is `[0.035, 0.635, 0.274]`, not `[9, 162, 70]`. Divide
        /// 0..=255 values by 255. Not together with [`background`](Self::background).
        pub fn bg_color(mut self, rgb: [f64; 3]) -> Self {
            self.settings.bg_color = Some(rgb);
            self
        }

        /// The background as the docs' `background` object, in place of the flat `bg_type` and
        /// `bg_color` (the default `bg_type` is then not sent). A request that sets both forms is
        /// refused before sending: which one the server prefers is undocumented.
        pub fn background(mut self, background: $crate::models::Background) -> Self {
            self.settings.background = Some(background);
            self
        }
    };
}
pub(crate) use job_settings_setters;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Background, BgType, CreateJob, Extra, Model, OutputFormat, StartJob};

    // Byte for byte, field order included: the bodies the API receives, whatever the code that
    // writes them.
    #[test]
    fn the_request_bodies_keep_their_bytes_and_field_order() {
        assert_eq!(
            json(&CreateJob::new("https://x/in.mp4")),
            r#"{"video_url":"https://x/in.mp4","model":"original","bg_type":"green","output_format":"webm","auto_start":true}"#
        );
        let mut metadata = Extra::new();
        metadata.insert("k".into(), 1.into());
        let every = CreateJob::new("https://x/in.mp4")
            .model(Model::Pro)
            .bg_type(BgType::Image)
            .output_format(OutputFormat::Mp4)
            .auto_start(false)
            .text_prompt("person")
            .webhook_url("https://h/x")
            .bg_color([0.0, 0.5, 1.0])
            .bg_image_url("https://x/bg.png")
            .metadata(metadata);
        assert_eq!(
            json(&every),
            r#"{"video_url":"https://x/in.mp4","model":"pro","bg_type":"image","output_format":"mp4","auto_start":false,"text_prompt":"person","webhook_url":"https://h/x","bg_color":[0.0,0.5,1.0],"bg_image_url":"https://x/bg.png","metadata":{"k":1}}"#
        );
        assert_eq!(
            json(&CreateJob::new("https://x/in.mp4").background(Background::Transparent)),
            r#"{"video_url":"https://x/in.mp4","model":"original","output_format":"webm","auto_start":true,"background":{"type":"transparent"}}"#
        );
        assert_eq!(json(&StartJob::new()), "{}");
        let start = StartJob::new()
            .model(Model::Light)
            .output_format(OutputFormat::Mov)
            .bg_type(BgType::Color)
            .text_prompt("p")
            .webhook_url("https://h/x")
            .bg_color([1.0, 0.0, 0.0])
            .preview_duration(Duration::from_millis(1500));
        assert_eq!(
            json(&start),
            r#"{"model":"light","output_format":"mov","bg_type":"color","text_prompt":"p","webhook_url":"https://h/x","bg_color":[1.0,0.0,0.0],"preview_duration":1.5}"#
        );
    }

    fn json(value: &impl serde::Serialize) -> String {
        serde_json::to_string(value).expect("serializes")
    }
}
