//! The query of `list_jobs` and the body of `create_key`.

use serde::Serialize;

use super::invalid::{invalid, InvalidInput};
use super::JobStatus;

/// The query of `list_jobs`: `limit` (default 20) and `offset` (default 0) are always sent,
/// `status` only when set.
///
/// ```
/// use removebgvideo::models::ListJobs;
/// use removebgvideo::JobStatus;
///
/// let query = ListJobs::new().limit(50).status(JobStatus::Completed);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ListJobs {
    pub(crate) limit: u32,
    pub(crate) offset: u32,
    pub(crate) status: Option<JobStatus>,
}

impl Default for ListJobs {
    fn default() -> Self {
        Self { limit: 20, offset: 0, status: None }
    }
}

impl ListJobs {
    /// The first 20 jobs of any status.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many jobs per page (at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// How many jobs to skip.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = offset;
        self
    }

    /// Only jobs with this status.
    pub fn status(mut self, status: JobStatus) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        if self.limit == 0 {
            return Err(invalid("limit", "must be at least 1"));
        }
        Ok(())
    }
}

/// The body of `create_key`: `{client_id, note?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct CreateKey {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl CreateKey {
    /// A key for the client `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), note: None }
    }

    /// A note stored with the key.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        if self.client_id.trim().is_empty() {
            return Err(invalid("client_id", "must not be empty"));
        }
        Ok(())
    }
}
