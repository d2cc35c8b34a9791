//! The queue's tables, created and versioned by the crate: each version's statements run once,
//! in order, under an advisory lock so that workers starting together do not race. A
//! connection to tables already at this build's version runs one `SELECT`, no DDL, so a role
//! that may only read and write rows can work and report.

use tokio_postgres::Client;

use super::pool::{queue_error, Shared};
use crate::batch::error::BatchError;

/// The version this build writes. A database at a higher version was set up by a newer
/// release: this one refuses it rather than misread it.
pub(crate) const VERSION: i32 = 2;

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
    // 2: since when the worker holds the item, how many times it lost its worker, its
    // estimated credits; the batch-wide settings (one row): cancelled, the cap on lost
    // workers, the budget; the leases by token (a claim sent again, a renewal).
    "ALTER TABLE removebgvideo_queue_items
        ADD COLUMN claimed_at timestamptz,
        ADD COLUMN takeovers integer NOT NULL DEFAULT 0,
        ADD COLUMN credits float8;
    CREATE TABLE removebgvideo_queue_control (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        cancelled boolean NOT NULL DEFAULT false,
        max_takeovers integer,
        max_credits float8
    );
    INSERT INTO removebgvideo_queue_control DEFAULT VALUES;
    CREATE INDEX removebgvideo_queue_lease ON removebgvideo_queue_items (lease_token) WHERE lease_token IS NOT NULL;",
];

/// Checks the tables' version with one `SELECT`; creates or upgrades them when `migrate`,
/// refuses otherwise.
pub(crate) fn prepare(
    shared: &Shared,
    client: &mut Client,
    migrate: bool,
    schema: Option<&str>,
) -> Result<(), BatchError> {
    shared.block_on(async {
        let found = version(shared, client).await?;
        if found == VERSION {
            return Ok(());
        }
        check_not_newer(found)?;
        if !migrate {
            return Err(BatchError::Queue {
                reason: format!(
                    "the queue's tables are at version {found} (0: not created) and this build needs version {VERSION}; \
                     connect once with migrations on, as a role that may create tables"
                ),
                source: None,
            });
        }
        let tx = client.transaction().await.map_err(|e| queue_error("could not start a transaction", e))?;
        tx.query_typed("SELECT pg_advisory_xact_lock($1)", &[(&MIGRATION_LOCK, tokio_postgres::types::Type::INT8)])
            .await
            .map_err(|e| queue_error("could not take the migration lock", e))?;
        if let Some(schema) = schema {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await
                .map_err(|e| queue_error(format!("could not create the schema {schema}"), e))?;
        }
        tx.batch_execute(&shared.qualify(
            "CREATE TABLE IF NOT EXISTS removebgvideo_queue_schema (version integer NOT NULL)",
        ))
        .await
        .map_err(|e| queue_error("could not create the schema table", e))?;
        let found: Option<i32> = tx
            .query_opt(&shared.qualify("SELECT max(version) FROM removebgvideo_queue_schema"), &[])
            .await
            .map_err(|e| queue_error("could not read the schema version", e))?
            .and_then(|row| row.get(0));
        let found = found.unwrap_or(0);
        check_not_newer(found)?;
        for (done, statements) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
            tx.batch_execute(&shared.qualify(statements))
                .await
                .map_err(|e| queue_error(format!("could not apply version {}", done + 1), e))?;
        }
        if found < VERSION {
            let record = shared.qualify(&format!(
                "DELETE FROM removebgvideo_queue_schema; INSERT INTO removebgvideo_queue_schema (version) VALUES ({VERSION})"
            ));
            tx.batch_execute(&record).await.map_err(|e| queue_error("could not record the schema version", e))?;
        }
        tx.commit().await.map_err(|e| queue_error("could not commit the schema", e))
    })
}

/// The tables' version, 0 when there are none: reads only.
async fn version(shared: &Shared, client: &Client) -> Result<i32, BatchError> {
    let table = shared.qualify(" removebgvideo_queue_schema");
    let exists = client
        .query_typed("SELECT to_regclass($1) IS NOT NULL", &[(&table.trim(), tokio_postgres::types::Type::TEXT)])
        .await
        .map_err(|e| queue_error("could not look for the queue's tables", e))?;
    if !exists.first().is_some_and(|row| row.get::<_, bool>(0)) {
        return Ok(0);
    }
    let rows = client
        .query_typed(&shared.qualify("SELECT max(version) FROM removebgvideo_queue_schema"), &[])
        .await
        .map_err(|e| queue_error("could not read the schema version", e))?;
    Ok(rows.first().and_then(|row| row.get::<_, Option<i32>>(0)).unwrap_or(0))
}

fn check_not_newer(found: i32) -> Result<(), BatchError> {
    if found > VERSION {
        return Err(BatchError::Queue {
            reason: format!(
                "the queue's tables are at version {found}, written by a newer removebgvideo; this one knows up to {VERSION}"
            ),
            source: None,
        });
    }
    Ok(())
}
