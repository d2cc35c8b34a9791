//! [`BatchReport`]: how each item ended, and how the run ended.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::BatchError;
use crate::models::ErrorCode;

/// One line of the report file, fields in this order.
#[derive(Serialize)]
struct ReportLine<'a> {
    item: &'a str,
    status: ItemStatus,
    job_id: Option<&'a str>,
    output: Option<&'a Path>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
    request_id: Option<&'a str>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Every item was taken to an end (completed, failed or uncertain).
    Finished,
    /// The account ran out of credits (402): no create was sent after it; the jobs already
    /// running were still polled and downloaded. Top up and run again to carry on.
    StoppedForCredits,
    /// The run was cancelled through its [`CancelHandle`](super::CancelHandle).
    Cancelled,
    /// A queue's report while some of its items are still waiting or being worked (feature
    /// `postgres`).
    InProgress,
}

/// How one item ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemStatus {
    /// Its output was downloaded in this run.
    Completed,
    /// Its output was already complete on disk from an earlier run: nothing was sent.
    AlreadyCompleted,
    /// It failed; [`ItemReport::error`] says where and why.
    Failed,
    /// Its create was sent, but the answer was lost and no job of the account matches it: it
    /// may or may not exist. It is not created again unless
    /// [`Batch::recreate_uncertain`](super::Batch::recreate_uncertain) is set.
    Uncertain,
    /// It was not started because the run stopped for credits.
    NotStarted,
    /// The run was cancelled before it ended; run again to carry on.
    Unfinished,
}

/// Where an item failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Uploading the file.
    Upload,
    /// Creating the job (or finding it again after a lost answer).
    Create,
    /// Polling the job.
    Poll,
    /// The job itself failed.
    Job,
    /// Downloading the output.
    Download,
}

impl Stage {
    /// The stage as the journal and the report write it: `upload`, `create`, `poll`, `job`,
    /// `download`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Upload => "upload",
            Stage::Create => "create",
            Stage::Poll => "poll",
            Stage::Job => "job",
            Stage::Download => "download",
        }
    }

    /// The stage written as [`as_str`](Self::as_str) does, if it is one.
    #[must_use]
    pub fn parse(text: &str) -> Option<Stage> {
        [Stage::Upload, Stage::Create, Stage::Poll, Stage::Job, Stage::Download]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an item failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ItemError {
    /// Where it failed.
    pub stage: Stage,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The API's error code, when there was one (unknown codes kept in
    /// [`ErrorCode::Other`]).
    pub code: Option<ErrorCode>,
    /// What went wrong.
    pub message: String,
    /// The request id to quote to support, when there was one.
    pub request_id: Option<String>,
}

/// One item of a [`BatchReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ItemReport {
    /// The item id.
    pub item: String,
    /// How it ended.
    pub status: ItemStatus,
    /// Its job, when one is known.
    pub job_id: Option<String>,
    /// Its output file, when complete.
    pub output: Option<PathBuf>,
    /// Why it failed, for [`ItemStatus::Failed`] (and the lost create of an
    /// [`ItemStatus::Uncertain`] one).
    pub error: Option<ItemError>,
}

/// What a run did, item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchReport {
    /// How the run ended.
    pub outcome: Outcome,
    /// One line per item, in the order given.
    pub items: Vec<ItemReport>,
    /// How many of the [`Failed`](ItemStatus::Failed) items failed in an earlier run and were
    /// not tried again ([`Batch::retry_failed`](super::Batch::retry_failed) tries them again).
    pub earlier_failures: usize,
}

impl BatchReport {
    /// How many items ended with `status`.
    #[must_use]
    pub fn count(&self, status: ItemStatus) -> usize {
        self.items.iter().filter(|item| item.status == status).count()
    }

    /// Whether every item has its output (completed now or before).
    #[must_use]
    pub fn all_succeeded(&self) -> bool {
        self.items.iter().all(|item| matches!(item.status, ItemStatus::Completed | ItemStatus::AlreadyCompleted))
    }

    /// The item with this id.
    #[must_use]
    pub fn item(&self, id: &str) -> Option<&ItemReport> {
        self.items.iter().find(|item| item.item == id)
    }

    /// Writes one JSON line per item to `path`: `item`, `status`, `job_id`, `output`,
    /// `error_code`, `error_message`, `request_id`. The lines go to a new file beside `path`,
    /// which is then renamed over it: a reader never sees half a report, and a symlink at
    /// `path` is replaced, its target left untouched.
    ///
    /// # Errors
    /// [`BatchError::Io`] when the file cannot be written.
    pub fn write_jsonl(&self, path: impl AsRef<Path>) -> Result<(), BatchError> {
        let path = path.as_ref();
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{}.tmp", std::process::id()));
        let temp = PathBuf::from(name);
        let io = |action, path: &Path, source| BatchError::Io { action, path: path.to_owned(), source };
        // `create_new` neither follows nor reuses anything already at the temporary name.
        let _ = std::fs::remove_file(&temp);
        let file = OpenOptions::new().write(true).create_new(true).open(&temp).map_err(|e| io("create", &temp, e))?;
        let written = self.write_lines(BufWriter::new(file)).map_err(|e| io("write", &temp, e));
        let renamed = written.and_then(|()| std::fs::rename(&temp, path).map_err(|e| io("replace", path, e)));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        renamed
    }

    fn write_lines(&self, mut out: BufWriter<File>) -> std::io::Result<()> {
        for item in &self.items {
            let error = item.error.as_ref();
            let line = ReportLine {
                item: &item.item,
                status: item.status,
                job_id: item.job_id.as_deref(),
                output: item.output.as_deref(),
                error_code: error.and_then(|e| e.code.as_ref()).map(ErrorCode::as_str),
                error_message: error.map(|e| e.message.as_str()),
                request_id: error.and_then(|e| e.request_id.as_deref()),
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
    }
}
