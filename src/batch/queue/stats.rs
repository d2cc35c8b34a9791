//! [`QueueStats`]: where every item of a queue stands, who holds it, how often it lost its
//! worker, and the batch-wide settings, read with `SELECT`s only.

use std::time::SystemTime;

use crate::batch::error::BatchError;
use crate::batch::report::ItemError;

/// An item's last committed step in a [`Queue`](super::Queue) (feature `postgres`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueStep {
    /// Nothing done yet.
    Pending,
    /// The file is uploaded.
    Uploaded,
    /// A create was sent and its answer not recorded yet.
    CreateSent,
    /// The job exists and is being followed.
    Created,
    /// The job completed; its output is being downloaded.
    Finished,
    /// The output is on disk.
    Completed,
    /// The item failed.
    Failed,
    /// The create's answer was lost and no job matches it.
    Uncertain,
}

impl QueueStep {
    /// Every step, in the order an item goes through them.
    pub const ALL: [QueueStep; 8] = [
        QueueStep::Pending,
        QueueStep::Uploaded,
        QueueStep::CreateSent,
        QueueStep::Created,
        QueueStep::Finished,
        QueueStep::Completed,
        QueueStep::Failed,
        QueueStep::Uncertain,
    ];

    /// The step as the table writes it: `pending`, `uploaded`, `create_sent`, `created`,
    /// `finished`, `completed`, `failed`, `uncertain`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStep::Pending => "pending",
            QueueStep::Uploaded => "uploaded",
            QueueStep::CreateSent => "create_sent",
            QueueStep::Created => "created",
            QueueStep::Finished => "finished",
            QueueStep::Completed => "completed",
            QueueStep::Failed => "failed",
            QueueStep::Uncertain => "uncertain",
        }
    }
}

impl QueueStep {
    /// The step a row names; an unknown one is an error (the table was edited).
    pub(crate) fn parse(text: &str) -> Result<QueueStep, BatchError> {
        QueueStep::ALL.into_iter().find(|step| step.as_str() == text).ok_or_else(|| BatchError::Queue {
            reason: format!("an item is at the unknown stage {text:?}; was the table edited?"),
            source: None,
        })
    }
}

/// One item of a queue as it stands: [`QueueStats::items`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ItemState {
    /// The item's id.
    pub item: String,
    /// Its last committed step.
    pub step: QueueStep,
    /// The worker (`host:pid`) holding it under a live lease, if any.
    pub worker: Option<String>,
    /// Since when that worker holds it.
    pub held_since: Option<SystemTime>,
    /// How many creates were sent for it.
    pub attempts: u32,
    /// How many times it lost its worker (a worker died or stalled past its lease, and
    /// another took the item over).
    pub lost_workers: u32,
    /// Its job, once created.
    pub job_id: Option<String>,
    /// Why it failed (or is uncertain): its last error.
    pub error: Option<ItemError>,
}

/// Where a queue's items stand, read with `SELECT`s only: [`Queue::stats`](super::Queue::stats).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueueStats {
    /// Every item, in the order enqueued.
    pub items: Vec<ItemState>,
    /// Whether the batch is cancelled (no new creates).
    pub cancelled: bool,
    /// How many times an item may lose its worker before it is failed instead of taken over
    /// again (`None`: no cap).
    pub max_lost_workers: Option<u32>,
    /// The batch's budget, in credits ([`Queue::set_max_credits`](super::Queue::set_max_credits)).
    pub max_credits: Option<f64>,
    /// The estimates of the items whose create was sent, in credits.
    pub committed_credits: f64,
}

impl QueueStats {
    /// How many items are at `step`.
    #[must_use]
    pub fn count(&self, step: QueueStep) -> usize {
        self.items.iter().filter(|item| item.step == step).count()
    }

    /// The items a worker holds now.
    pub fn held(&self) -> impl Iterator<Item = &ItemState> {
        self.items.iter().filter(|item| item.worker.is_some())
    }
}
