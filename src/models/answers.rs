//! The answers of the public calls other than jobs: upload, list, usage, health, download link.

use serde::{Deserialize, Serialize};

use super::lenient::{self, Extra};
use super::{HealthStatus, Job, OutputFormat};

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
    /// One event of `usage_events` (its fields are undocumented).
    UsageEvent
}

/// The answer to `upload`: `{success, video_id, video_url, filename, size}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Upload {
    /// The URL of the stored video; pass it to [`CreateJob::new`](crate::CreateJob::new).
    pub video_url: String,
    /// The id the service gave the stored video, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::id")]
    pub video_id: Option<String>,
    /// The file name the service stored, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::string")]
    pub filename: Option<String>,
    /// The stored size in bytes, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::count")]
    pub size: Option<u64>,
    /// Every other field of the answer (such as `success`), as sent.
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

/// The answer to `usage_summary`: totals over the requested days,
/// `{total_jobs, credits_used, completed_jobs, ...}`. When the documented names are missing,
/// older servers' `jobs_created` and `jobs_completed` fill them (and stay in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "UsageSummaryWire")]
#[non_exhaustive]
pub struct UsageSummary {
    /// Jobs created in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_jobs: Option<u64>,
    /// Credits spent in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_used: Option<f64>,
    /// Jobs completed in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_jobs: Option<u64>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Deserialize)]
struct UsageSummaryWire {
    #[serde(default, deserialize_with = "lenient::count")]
    total_jobs: Option<u64>,
    #[serde(default, deserialize_with = "lenient::number")]
    credits_used: Option<f64>,
    #[serde(default, deserialize_with = "lenient::count")]
    completed_jobs: Option<u64>,
    #[serde(flatten)]
    extra: Extra,
}

impl From<UsageSummaryWire> for UsageSummary {
    fn from(wire: UsageSummaryWire) -> Self {
        let older = |name: &str| wire.extra.get(name).and_then(lenient::count_of);
        Self {
            total_jobs: wire.total_jobs.or_else(|| older("jobs_created")),
            credits_used: wire.credits_used,
            completed_jobs: wire.completed_jobs.or_else(|| older("jobs_completed")),
            extra: wire.extra,
        }
    }
}

/// The answer to `health` (`GET /health`): `{status, checks: {api, runpod_configured, r2_configured}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// `healthy` or `degraded` (older servers say other words, such as `ok`, kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::enum_text")]
    pub status: Option<HealthStatus>,
    /// Each dependency's state, as sent (empty when the answer has none).
    #[serde(default, deserialize_with = "object_or_empty")]
    pub checks: Extra,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Health {
    /// Whether the service says it is `healthy`.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.status == Some(HealthStatus::Healthy)
    }
}

/// The answer to `download_link` (`GET /api/download/{id}`): `{success, download_url, output_format}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DownloadLinkWire")]
#[non_exhaustive]
pub struct DownloadLink {
    /// Where the output can be fetched (time-bound). Older answers call it `output_url`: it is
    /// read from there when `download_url` is missing (and stays in `extra`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// The format of the output, when the answer names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    /// The job id, when the answer carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Deserialize)]
struct DownloadLinkWire {
    #[serde(default, deserialize_with = "lenient::string")]
    download_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::enum_text")]
    output_format: Option<OutputFormat>,
    #[serde(default, deserialize_with = "lenient::id")]
    job_id: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

impl From<DownloadLinkWire> for DownloadLink {
    fn from(wire: DownloadLinkWire) -> Self {
        let older = || wire.extra.get("output_url").and_then(serde_json::Value::as_str).map(str::to_owned);
        Self {
            download_url: wire.download_url.or_else(older),
            output_format: wire.output_format,
            job_id: wire.job_id,
            extra: wire.extra,
        }
    }
}

fn object_or_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Extra, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(deserializer)? {
        Some(serde_json::Value::Object(object)) => object,
        _ => Extra::new(),
    })
}
