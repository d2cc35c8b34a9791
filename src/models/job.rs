//! A job and the answer to creating or starting one.

use serde::{Deserialize, Serialize};

use super::lenient::{self, Extra};
use super::{BgType, JobStatus, Model, OutputFormat};

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
    /// The status right after submission: usually processing, or pending for a draft.
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
