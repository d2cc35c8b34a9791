//! [`Event`]: what a running batch reports as it goes, for progress bars and logs.

use std::path::PathBuf;

use super::report::ItemError;
use crate::models::JobStatus;

/// One thing that happened to one item. Events that follow a journal line
/// ([`Uploaded`](Event::Uploaded), [`CreateSent`](Event::CreateSent),
/// [`Created`](Event::Created), [`Finished`](Event::Finished),
/// [`Downloaded`](Event::Downloaded), [`Failed`](Event::Failed)) are sent after that line is
/// on disk.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Work on the item began in this run.
    Started {
        /// The item id.
        item: String,
    },
    /// The file was uploaded.
    Uploaded {
        /// The item id.
        item: String,
    },
    /// The create request is about to go.
    CreateSent {
        /// The item id.
        item: String,
    },
    /// The job exists (created now, or found again after a lost answer).
    Created {
        /// The item id.
        item: String,
        /// The job id.
        job_id: String,
    },
    /// A poll saw the job still running.
    Progress {
        /// The item id.
        item: String,
        /// The job id.
        job_id: String,
        /// Its status.
        status: JobStatus,
        /// Its progress from 0 to 100, when reported.
        progress: Option<f64>,
    },
    /// The job reached a terminal status.
    Finished {
        /// The item id.
        item: String,
        /// The job id.
        job_id: String,
        /// Whether it completed (rather than failed).
        completed: bool,
    },
    /// The output is on disk.
    Downloaded {
        /// The item id.
        item: String,
        /// Where.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
    /// The item failed.
    Failed {
        /// The item id.
        item: String,
        /// Where and why.
        error: ItemError,
    },
    /// The item's create answer was lost and no matching job was found.
    Uncertain {
        /// The item id.
        item: String,
    },
    /// The item's output was already complete: nothing to do.
    Skipped {
        /// The item id.
        item: String,
    },
    /// The item was not started (the run stopped for credits).
    NotStarted {
        /// The item id.
        item: String,
    },
}

impl Event {
    /// The item this event is about.
    #[must_use]
    pub fn item(&self) -> &str {
        match self {
            Event::Started { item }
            | Event::Uploaded { item }
            | Event::CreateSent { item }
            | Event::Created { item, .. }
            | Event::Progress { item, .. }
            | Event::Finished { item, .. }
            | Event::Downloaded { item, .. }
            | Event::Failed { item, .. }
            | Event::Uncertain { item }
            | Event::Skipped { item }
            | Event::NotStarted { item } => item,
        }
    }
}
