//! The queue's tables, created and versioned by the crate: each version's statements run once,
//! in order, under an advisory lock so that workers starting together do not race.

use super::store::{queue_error, Connection};
use crate::batch::BatchError;

/// The version this build writes. A database at a higher version was set up by a newer
/// release: this one refuses it rather than misread it.
pub(crate) const VERSION: i32 = 1;

/// Any fixed number: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x7262_7676_7175_6575; // "rbvvqueu"

/// The statements that take version `n - 1` to version `n`, for n from 1.
const MIGRATIONS: &[&str] = &[
    // 1: the items, one row each, with their last committed step and their lease.
    "CREATE TABLE removebgvideo_queue_items (
        seq bigserial NOT NULL,
        item text PRIMARY KEY,
        source_kind text NOT NULL,
        source text NOT NULL,
        options text NOT NULL,
        stage text NOT NULL DEFAULT 'pending',
        video_url text,
        attempt integer NOT NULL DEFAULT 0,
        sent_at bigint,
        job_id text,
        job_ids text[] NOT NULL DEFAULT '{}',
        output text,
        output_size bigint,
        error_stage text,
        error_status integer,
        error_code text,
        error_message text,
        request_id text,
        lease_token bigint,
        lease_until timestamptz,
        worker text,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX removebgvideo_queue_open ON removebgvideo_queue_items (seq)
        WHERE stage NOT IN ('completed', 'failed', 'uncertain');",
];

/// Creates the tables, or brings them to [`VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), BatchError> {
    let mut tx = conn.raw().transaction().map_err(|e| queue_error("could not start a transaction", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(|e| queue_error("could not take the migration lock", e))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS removebgvideo_queue_schema (version integer NOT NULL)")
        .map_err(|e| queue_error("could not create the schema table", e))?;
    let found: Option<i32> = tx
        .query_opt("SELECT max(version) FROM removebgvideo_queue_schema", &[])
        .map_err(|e| queue_error("could not read the schema version", e))?
        .and_then(|row| row.get(0));
    let found = found.unwrap_or(0);
    if found > VERSION {
        return Err(BatchError::Queue {
            reason: format!(
                "the queue's tables are at version {found}, written by a newer removebgvideo; this one knows up to {VERSION}"
            ),
            source: None,
        });
    }
    for (done, statements) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(statements).map_err(|e| queue_error(format!("could not apply version {}", done + 1), e))?;
    }
    if found < VERSION {
        tx.execute("DELETE FROM removebgvideo_queue_schema", &[])
            .and_then(|_| tx.execute("INSERT INTO removebgvideo_queue_schema (version) VALUES ($1)", &[&VERSION]))
            .map_err(|e| queue_error("could not record the schema version", e))?;
    }
    tx.commit().map_err(|e| queue_error("could not commit the schema", e))
}
