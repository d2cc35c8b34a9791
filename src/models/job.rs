//! A job and the answer to creating or starting one.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{self, Extra};
use super::{BgType, BillingStatus, JobStatus, Model, OutputFormat};

/// A background-removal job, as `get_job`, `list_jobs` and `wait_for_completion` return it.
///
/// Fields the crate does not name are kept in [`Job::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "JobWire")]
#[non_exhaustive]
pub struct Job {
    /// The job id (some answers call it `job_id`).
    pub id: String,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// Progress from 0 to 100, when the server reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// Where the output can be fetched once the job completed (usually a CDN, not the API host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_url: Option<String>,
    /// Why the job failed, once it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The model, when the answer names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    /// The background type, when the answer names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bg_type: Option<BgType>,
    /// The output format, when the answer names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    /// When the job was created, as the server wrote it (an ISO 8601 UTC time; older answers
    /// send unix seconds, kept as their digits). [`Job::created_at_time`] reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The length of the video in seconds, once the service knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Where the job's billing stands (values undocumented: see [`BillingStatus`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_status: Option<BillingStatus>,
    /// Where the service sends this job's webhook events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// The delivery state of each webhook event (`sent` or `failed` per event), as sent: its
    /// structure is undocumented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_events: Option<Value>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Job {
    /// Whether the job can no longer change (completed or failed).
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Whether the job completed.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        self.status == JobStatus::Completed
    }

    /// Whether the job failed.
    #[must_use]
    pub fn is_failed(&self) -> bool {
        self.status == JobStatus::Failed
    }

    /// [`created_at`](Job::created_at) as a time: ISO 8601 (a time with no zone is UTC) or
    /// unix seconds. `None` when the answer had none or it could not be read; the text stays in
    /// `created_at` either way.
    #[must_use]
    pub fn created_at_time(&self) -> Option<SystemTime> {
        crate::timestamp::parse_any(self.created_at.as_deref()?.trim()).ok()
    }
}

#[derive(Deserialize)]
struct JobWire {
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    job_id: Option<String>,
    status: JobStatus,
    #[serde(default, deserialize_with = "lenient::number")]
    progress: Option<f64>,
    #[serde(default)]
    output_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    error: Option<String>,
    #[serde(default)]
    model: Option<Model>,
    #[serde(default)]
    bg_type: Option<BgType>,
    #[serde(default)]
    output_format: Option<OutputFormat>,
    #[serde(default, deserialize_with = "lenient::timestamp_text")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::number")]
    duration_seconds: Option<f64>,
    #[serde(default, deserialize_with = "lenient::string")]
    billing_status: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    webhook_url: Option<String>,
    #[serde(default)]
    webhook_events: Option<Value>,
    #[serde(flatten)]
    extra: Extra,
}

impl TryFrom<JobWire> for Job {
    type Error = &'static str;

    fn try_from(mut wire: JobWire) -> Result<Self, Self::Error> {
        let id =
            lenient::pick_id(wire.id, wire.job_id, &mut wire.extra).ok_or("the job has neither `id` nor `job_id`")?;
        Ok(Self {
            id,
            status: wire.status,
            progress: wire.progress,
            output_url: wire.output_url,
            error: wire.error,
            model: wire.model,
            bg_type: wire.bg_type,
            output_format: wire.output_format,
            created_at: wire.created_at,
            duration_seconds: wire.duration_seconds,
            billing_status: wire.billing_status.map(BillingStatus::from),
            webhook_url: wire.webhook_url,
            webhook_events: wire.webhook_events.filter(|events| !events.is_null()),
            extra: wire.extra,
        })
    }
}

/// The answer to `create_job` and `start_job`: `{success, id, status, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SubmissionWire")]
#[non_exhaustive]
pub struct JobSubmission {
    /// The id to poll with `get_job` or `wait_for_completion`.
    pub id: String,
    /// The status right after submission: usually processing, or created for a draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    /// Whether the server accepted the request, when it says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// The server's message about the submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Deserialize)]
struct SubmissionWire {
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    job_id: Option<String>,
    #[serde(default)]
    status: Option<JobStatus>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default, deserialize_with = "lenient::text")]
    message: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

impl TryFrom<SubmissionWire> for JobSubmission {
    type Error = &'static str;

    fn try_from(mut wire: SubmissionWire) -> Result<Self, Self::Error> {
        let id = lenient::pick_id(wire.id, wire.job_id, &mut wire.extra)
            .ok_or("the answer has neither `id` nor `job_id`")?;
        Ok(Self { id, status: wire.status, success: wire.success, message: wire.message, extra: wire.extra })
    }
}
