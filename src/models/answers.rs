//! The answers of the public calls other than jobs.

use super::lenient::{self, Extra};
use super::Job;
use serde::{Deserialize, Serialize};

/// Declares an answer whose fields the public docs do not fix: every field is kept, by name.
macro_rules! object_answer {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// Every field of the answer, as sent.
            #[serde(flatten)]
            pub fields: Extra,
        }

        impl $name {
            /// The field called `name`, if the answer has it.
            #[must_use]
            pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
                self.fields.get(name)
            }
        }
    };
}
pub(crate) use object_answer;

object_answer! {
    /// The answer to `usage_summary`: usage totals over the requested days.
    UsageSummary
}

object_answer! {
    /// The answer to `pricing` (`GET /api/pricing`): the pricing of each model.
    Pricing
}

object_answer! {
    /// One event of `usage_events`.
    UsageEvent
}

/// The answer to `upload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Upload {
    /// The URL of the stored video; pass it to [`CreateJob::new`](crate::CreateJob::new).
    pub video_url: String,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A page of jobs, as `list_jobs` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobList {
    /// The jobs of this page.
    #[serde(default)]
    pub items: Vec<Job>,
    /// Every other field of the answer (totals, paging), as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Recent usage events, as `usage_events` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageEvents {
    /// The events, newest first as the server orders them.
    #[serde(default)]
    pub items: Vec<UsageEvent>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `health` (`GET /health`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// The service's own word on its health, such as `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `download_url` (`GET /api/download/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DownloadLink {
    /// Where the output can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_url: Option<String>,
    /// The job id, when the answer carries it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::id")]
    pub job_id: Option<String>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}
