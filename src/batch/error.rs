//! [`BatchError`]: why a batch did not run.

use std::path::PathBuf;

/// Why [`Batch::run`](super::Batch::run) or [`Batch::estimate`](super::Batch::estimate)
/// returned no report. Once a run has started, one item's failure is never an error: it is
/// listed in the [`BatchReport`](super::BatchReport).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// An item or an option was refused before anything was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The item, option or setting refused.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// Another run holds the journal (a second run on one journal would create every job
    /// twice). Nothing was sent. Wait for it, or ask to wait with
    /// [`Batch::wait_for_lock`](super::Batch::wait_for_lock).
    #[error(
        "the journal {path} is in use by {holder}; nothing was sent (wait for that run to end, or ask to wait for it)"
    )]
    JournalLocked {
        /// The journal file.
        path: PathBuf,
        /// Who holds it, as it wrote itself down (process id and host).
        holder: String,
    },

    /// The API refused the batch's key (401, or a disabled key): the run stopped at the first
    /// such answer, and no item was marked failed by it. Run again with the right key to carry
    /// on.
    #[error("the API refused the key; check the API key (the run stopped; no item was marked failed)")]
    Unauthorized(#[source] crate::client::Error),

    /// Enqueuing found items already in the queue with another input or other options
    /// (feature `postgres`); nothing was added. Enqueue them under other ids, or replace them.
    #[error("{} already in the queue with another input or other options: {}; nothing was added", plural(ids.len()), list(ids))]
    Conflict {
        /// The ids of those items.
        ids: Vec<String>,
    },

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
    #[error("could not {action} {path}")]
    Io {
        /// What the batch was doing (`create the output folder`, `write`, …).
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
        check: CertificateCheck,
    },

    /// A call of the client needed before the run (the pricing for an estimate or a budget,
    /// the job list when looking for lost creates) failed: any of the client's errors.
    #[error(transparent)]
    Client(#[from] crate::client::Error),
}

fn unknown_note(unknown: usize) -> String {
    match unknown {
        0 => String::new(),
        1 => " (one more item has no estimate)".to_owned(),
        n => format!(" ({n} more items have no estimate)"),
    }
}

fn plural(count: usize) -> String {
    match count {
        1 => "one item is".to_owned(),
        n => format!("{n} items are"),
    }
}

/// The first ids, quoted, and how many more.
fn list(ids: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = ids.iter().take(SHOWN).map(|id| format!("{id:?}")).collect::<Vec<_>>().join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    text
}

/// `error`, then its source, and that one's, to the end of the chain: where a connect's
/// error is read for what the user can do about it.
#[cfg(feature = "postgres")]
pub(crate) fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |error| error.source())
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> BatchError {
    BatchError::InvalidInput { field, reason: reason.into() }
}

pub(crate) fn journal_error(
    path: &std::path::Path,
    reason: impl Into<String>,
    source: Option<std::io::Error>,
) -> BatchError {
    BatchError::Journal { path: path.to_owned(), reason: reason.into(), source }
}

#[cfg(feature = "postgres")]
/// Which check the queue's database server's certificate failed (feature `postgres`), in
/// [`BatchError::QueueCertificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateCheck {
    /// No trusted authority (`sslrootcert`) signed it.
    UnknownIssuer,
    /// It does not name the host connected to (`sslmode=verify-full`).
    NameMismatch,
    /// It has expired.
    Expired,
    /// It is not valid yet.
    NotYetValid,
    /// Its authority revoked it.
    Revoked,
    /// Another check, as the TLS library names it.
    Other(String),
}

#[cfg(feature = "postgres")]
impl std::fmt::Display for CertificateCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateCheck::UnknownIssuer => f.write_str("no trusted authority (sslrootcert) signed it"),
            CertificateCheck::NameMismatch => f.write_str("it does not name the host connected to"),
            CertificateCheck::Expired => f.write_str("it has expired"),
            CertificateCheck::NotYetValid => f.write_str("it is not valid yet"),
            CertificateCheck::Revoked => f.write_str("it is revoked"),
            CertificateCheck::Other(check) => write!(f, "it failed the check {check}"),
        }
    }
}
