//! The flags more than one subcommand takes (as cargo's command prelude): the job options of
//! `run` and `batch`.

use removebgvideo::batch::JobOptions;
use removebgvideo::{BgType, CreateJob, Model, OutputFormat};

/// The job options every command that creates jobs takes, parsed into the crate's types (an
/// unknown value is a usage error before anything is sent).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct JobFlags {
    /// The model.
    #[arg(long, value_parser = crate::values::model())]
    pub(crate) model: Option<Model>,
    /// The output format.
    #[arg(long, value_parser = crate::values::output_format())]
    pub(crate) output_format: Option<OutputFormat>,
    /// The background.
    #[arg(long, value_parser = crate::values::bg_type())]
    pub(crate) bg_type: Option<BgType>,
    /// A prompt naming what to keep.
    #[arg(long)]
    pub(crate) text_prompt: Option<String>,
    /// Where the service sends the job's webhook events (an http or https URL).
    #[arg(long, value_parser = crate::values::HttpUrl)]
    pub(crate) webhook_url: Option<String>,
}

impl JobFlags {
    pub(crate) fn options(&self) -> JobOptions {
        let mut options = JobOptions::new();
        if let Some(model) = &self.model {
            options = options.model(model.clone());
        }
        if let Some(format) = &self.output_format {
            options = options.output_format(format.clone());
        }
        if let Some(bg_type) = &self.bg_type {
            options = options.bg_type(bg_type.clone());
        }
        options.apply_text(self.text_prompt.clone(), self.webhook_url.clone())
    }

    /// These options set on `request`.
    pub(crate) fn apply(&self, mut request: CreateJob) -> CreateJob {
        if let Some(model) = &self.model {
            request = request.model(model.clone());
        }
        if let Some(format) = &self.output_format {
            request = request.output_format(format.clone());
        }
        if let Some(bg_type) = &self.bg_type {
            request = request.bg_type(bg_type.clone());
        }
        if let Some(prompt) = &self.text_prompt {
            request = request.text_prompt(prompt.clone());
        }
        if let Some(url) = &self.webhook_url {
            request = request.webhook_url(url.clone());
        }
        request
    }
}

/// A job's text settings, each only when given.
pub(crate) trait ApplyText {
    /// `prompt` and `webhook_url` set where given.
    fn apply_text(self, prompt: Option<String>, webhook_url: Option<String>) -> Self;
}

impl ApplyText for JobOptions {
    fn apply_text(mut self, prompt: Option<String>, webhook_url: Option<String>) -> Self {
        if let Some(prompt) = prompt {
            self = self.text_prompt(prompt);
        }
        if let Some(url) = webhook_url {
            self = self.webhook_url(url);
        }
        self
    }
}
