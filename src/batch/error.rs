//! [`BatchError`]: why a batch did not run.

use std::path::PathBuf;

/// Why [`Batch::run`](super::Batch::run) or [`Batch::estimate`](super::Batch::estimate)
/// returned no report. Once a run has started, one item's failure is never an error: it is
/// listed in the [`BatchReport`](super::BatchReport).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// An item or an option was refused before anything was sent.
    #[error("invalid batch input: {0}")]
    InvalidInput(String),

    /// The estimate is above [`Batch::max_credits`](super::Batch::max_credits): nothing was
    /// uploaded or created.
    #[error(
        "the batch is estimated at {estimated_credits:.1} credits, above the budget of {max_credits} credits{}; nothing was sent",
        unknown_note(*.unknown_items)
    )]
    OverBudget {
        /// The estimate of the items that would be created, in credits.
        estimated_credits: f64,
        /// The budget.
        max_credits: f64,
        /// How many of those items have no estimate (duration or price unknown).
        unknown_items: usize,
    },

    /// The journal could not be read, written or synced. A run stops at once when this happens:
    /// it cannot promise what it has not recorded.
    #[error("journal {path}: {reason}")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
        /// The operating system's error, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },

    /// A local file or folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the batch was doing.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The PostgreSQL queue (feature `postgres`) could not be reached, read or written. A worker
    /// stops at once when this happens: it cannot promise what it has not committed.
    #[error("queue: {reason}")]
    Queue {
        /// What went wrong.
        reason: String,
        /// The database client's error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The queue's database server (feature `postgres`) presented a certificate that failed a
    /// check its `sslmode` asks for: nothing was sent to it.
    #[cfg(feature = "postgres")]
    #[error("queue: the certificate of {server} was refused: {check}")]
    QueueCertificate {
        /// The server, as `host:port`.
        server: String,
        /// The check that failed.
        check: crate::batch::queue::CertificateCheck,
    },

    /// A call needed before the run (the pricing for an estimate, the job list when looking
    /// for lost creates) failed.
    #[error(transparent)]
    Api(#[from] crate::Error),
}

fn unknown_note(unknown: usize) -> String {
    match unknown {
        0 => String::new(),
        1 => " (one more item has no estimate)".to_owned(),
        n => format!(" ({n} more items have no estimate)"),
    }
}

pub(crate) fn invalid(reason: impl Into<String>) -> BatchError {
    BatchError::InvalidInput(reason.into())
}

pub(crate) fn journal_error(
    path: &std::path::Path,
    reason: impl Into<String>,
    source: Option<std::io::Error>,
) -> BatchError {
    BatchError::Journal { path: path.to_owned(), reason: reason.into(), source }
}
