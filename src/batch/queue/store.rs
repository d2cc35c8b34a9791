//! Every statement the queue sends: enqueue, claim, one committed step per action, lease
//! renewal, the report. Each is one round trip in autocommit, so a step is durable before the
//! worker acts on it.

use std::path::PathBuf;

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{NoTls, Row, Statement};
use serde::{Deserialize, Serialize};

use crate::batch::item::{JobOptions, Planned, Source};
use crate::batch::report::{ItemError, ItemReport, ItemStatus, Stage};
use crate::batch::BatchError;
use crate::models::settings::JobSettings;
use crate::models::Extra;
use crate::{Background, BgType, ErrorCode, Model, OutputFormat};

/// The stages an item goes through in the queue, as stored in its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing done yet.
    Pending,
    /// The file is uploaded (`video_url` set).
    Uploaded,
    /// A create is about to go, or went and its answer was not recorded.
    CreateSent,
    /// The job exists (`job_id` set).
    Created,
    /// The job completed; its output is still to download.
    Finished,
    /// The output is on disk.
    Completed,
    /// The item failed (the error columns say why).
    Failed,
    /// The create's answer was lost and no job matches it.
    Uncertain,
}

impl Step {
    fn parse(text: &str) -> Result<Step, BatchError> {
        Ok(match text {
            "pending" => Step::Pending,
            "uploaded" => Step::Uploaded,
            "create_sent" => Step::CreateSent,
            "created" => Step::Created,
            "finished" => Step::Finished,
            "completed" => Step::Completed,
            "failed" => Step::Failed,
            "uncertain" => Step::Uncertain,
            other => {
                return Err(BatchError::Queue {
                    reason: format!("an item is at the unknown stage {other:?}; was the table edited?"),
                    source: None,
                })
            }
        })
    }
}

/// One connection, with each statement prepared once: a step then costs one round trip, not
/// a prepare and an execute.
pub(crate) struct Connection {
    client: postgres::Client,
    prepared: HashMap<String, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Connection {
    pub(crate) fn connect(url: &str) -> Result<Connection, BatchError> {
        let client = postgres::Client::connect(url, NoTls)
            .map_err(|e| queue_error("could not connect to the queue's database", e))?;
        Ok(Connection { client, prepared: HashMap::new() })
    }

    /// The connection itself, for the schema's transaction.
    pub(crate) fn raw(&mut self) -> &mut postgres::Client {
        &mut self.client
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params)
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }
}

/// A queue error from a database error.
pub(crate) fn queue_error(reason: impl Into<String>, source: postgres::Error) -> BatchError {
    BatchError::Queue { reason: reason.into(), source: Some(Box::new(source)) }
}

/// An item's options as the row keeps them (the library's types, in their API spelling).
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_format: Option<OutputFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bg_type: Option<BgType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bg_color: Option<[f64; 3]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    background: Option<Background>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Extra>,
}

fn options_text(options: &JobOptions) -> Result<String, BatchError> {
    let settings = &options.settings;
    let stored = StoredOptions {
        model: settings.model.clone(),
        output_format: settings.output_format.clone(),
        bg_type: settings.bg_type.clone(),
        text_prompt: settings.text_prompt.clone(),
        webhook_url: settings.webhook_url.clone(),
        bg_color: settings.bg_color,
        background: settings.background.clone(),
        metadata: options.metadata.clone(),
    };
    serde_json::to_string(&stored)
        .map_err(|e| BatchError::Queue { reason: format!("could not encode an item's options: {e}"), source: None })
}

fn options_of(text: &str) -> Result<JobOptions, BatchError> {
    let stored: StoredOptions = serde_json::from_str(text)
        .map_err(|e| BatchError::Queue { reason: format!("an item's options cannot be read: {e}"), source: None })?;
    Ok(JobOptions {
        settings: JobSettings {
            model: stored.model,
            output_format: stored.output_format,
            bg_type: stored.bg_type,
            text_prompt: stored.text_prompt,
            webhook_url: stored.webhook_url,
            bg_color: stored.bg_color,
            background: stored.background,
        },
        metadata: stored.metadata,
    })
}

/// Adds the items not in the queue yet, in one transaction; returns how many were added. An
/// item already there with the same input and options is left as it is.
pub(crate) fn enqueue(conn: &mut Connection, items: &[Planned], replace: bool) -> Result<u64, BatchError> {
    let mut ids = Vec::with_capacity(items.len());
    let mut kinds = Vec::with_capacity(items.len());
    let mut sources = Vec::with_capacity(items.len());
    let mut options = Vec::with_capacity(items.len());
    for item in items {
        ids.push(item.id.clone());
        let (kind, source) = match &item.source {
            Source::File(path) => {
                // Workers on other machines read the same path: keep it whole.
                let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let text = path.to_str().ok_or_else(|| {
                    crate::batch::error::invalid("item", format!("the path of item {:?} is not UTF-8", item.id))
                })?;
                ("file", text.to_owned())
            }
            Source::Url(url) => ("url", url.clone()),
        };
        kinds.push(kind.to_owned());
        sources.push(source);
        options.push(options_text(&item.options)?);
    }
    // One transaction: the new items go in (`WITH ORDINALITY` keeps the manifest's order in
    // `seq`); an id already there with another input or other options is a conflict, refused
    // (nothing added) unless `replace`, which starts it again from nothing under the new
    // input (its attempt count kept, so a lost create is never mistaken for a new one).
    let fail = |reason: &'static str| move |e| queue_error(reason, e);
    let mut tx = conn.raw().transaction().map_err(fail("could not start a transaction"))?;
    let added = tx
        .execute(
            "INSERT INTO removebgvideo_queue_items (item, source_kind, source, options)
             SELECT item, kind, source, options
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(item, kind, source, options, n)
             ORDER BY n
             ON CONFLICT (item) DO NOTHING",
            &[&ids, &kinds, &sources, &options],
        )
        .map_err(fail("could not enqueue the items"))?;
    let conflicts: Vec<String> = tx
        .query(
            "SELECT i.item FROM removebgvideo_queue_items AS i
             JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(item, kind, source, options, n)
               ON t.item = i.item
             WHERE (i.source_kind, i.source, i.options) IS DISTINCT FROM (t.kind, t.source, t.options)
             ORDER BY t.n",
            &[&ids, &kinds, &sources, &options],
        )
        .map_err(fail("could not compare the items with the queue's"))?
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    if !conflicts.is_empty() {
        if !replace {
            return Err(BatchError::Conflict { ids: conflicts });
        }
        tx.execute(
            "UPDATE removebgvideo_queue_items AS i
             SET source_kind = t.kind, source = t.source, options = t.options, stage = 'pending', video_url = NULL,
                 sent_at = NULL, job_id = NULL, output = NULL, output_size = NULL, error_stage = NULL,
                 error_status = NULL, error_code = NULL, error_message = NULL, request_id = NULL,
                 lease_token = NULL, lease_until = NULL, updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(item, kind, source, options)
             WHERE t.item = i.item AND t.item = ANY($5)",
            &[&ids, &kinds, &sources, &options, &conflicts],
        )
        .map_err(fail("could not replace the items"))?;
    }
    tx.commit().map_err(fail("could not commit the items"))?;
    Ok(added)
}

/// An item as claimed: what it is and its last committed step.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub(crate) item: Planned,
    pub(crate) step: Step,
    pub(crate) video_url: Option<String>,
    pub(crate) attempt: u32,
    pub(crate) sent_at: u64,
    pub(crate) job_id: Option<String>,
    /// At `create_sent`: how long, on the database's clock, until the create it records is
    /// older than the fence bound (zero once it is).
    pub(crate) fence_wait: std::time::Duration,
}

/// The columns a claim returns, in this order ($5 is the fence bound in seconds).
const CLAIMED_COLUMNS: &str =
    "i.item, i.source_kind, i.source, i.options, i.stage, i.video_url, i.attempt, i.sent_at, i.job_id,
     GREATEST(0, COALESCE(i.sent_at + $5::float8 - extract(epoch FROM now())::float8, 0))::float8";

/// Claims the oldest open item whose lease is free or expired, under a new lease `token`
/// (items left uncertain too when `uncertain` is set). Rows another worker is claiming at
/// this instant are skipped, not waited for.
pub(crate) fn claim(
    conn: &mut Connection,
    token: i64,
    lease_secs: f64,
    worker: &str,
    uncertain: bool,
    fence_secs: f64,
) -> Result<Option<Claimed>, BatchError> {
    let sql = format!(
        "UPDATE removebgvideo_queue_items AS i
         SET lease_token = $1, lease_until = now() + make_interval(secs => $2), worker = $3, updated_at = now()
         FROM (SELECT item FROM removebgvideo_queue_items
               WHERE stage NOT IN ('completed', 'failed') AND (stage <> 'uncertain' OR $4)
                 AND (lease_until IS NULL OR lease_until < now())
               ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) AS c
         WHERE i.item = c.item
         RETURNING {CLAIMED_COLUMNS}"
    );
    let row = conn
        .query_opt(&sql, &[&token, &lease_secs, &worker, &uncertain, &fence_secs])
        .map_err(|e| queue_error("could not claim an item", e))?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.get(0);
    let kind: String = row.get(1);
    let source: String = row.get(2);
    let options: String = row.get(3);
    let stage: String = row.get(4);
    let attempt: i32 = row.get(6);
    let sent_at: Option<i64> = row.get(7);
    let source = match kind.as_str() {
        "file" => Source::File(PathBuf::from(source)),
        _ => Source::Url(source),
    };
    Ok(Some(Claimed {
        item: Planned { id, source, options: options_of(&options)? },
        step: Step::parse(&stage)?,
        video_url: row.get(5),
        attempt: u32::try_from(attempt).unwrap_or(0),
        sent_at: sent_at.and_then(|at| u64::try_from(at).ok()).unwrap_or(0),
        job_id: row.get(8),
        fence_wait: std::time::Duration::try_from_secs_f64(row.get::<_, f64>(9)).unwrap_or_default(),
    }))
}

/// What a step writes besides its stage.
#[derive(Debug)]
pub(crate) enum Write<'a> {
    Uploaded {
        video_url: &'a str,
    },
    CreateSent {
        attempt: u32,
        video_url: &'a str,
    },
    /// The server answered the create with an error: back to "ready to create".
    CreateRefused,
    Created {
        job_id: &'a str,
    },
    Finished,
    Completed {
        path: &'a str,
        size: u64,
    },
    Failed(&'a ItemError),
    Uncertain(&'a ItemError),
}

/// Commits one step of the item held under `token` and renews its lease; `false` when the
/// lease was lost (another worker has the item now): the caller must not act.
pub(crate) fn record(
    conn: &mut Connection,
    item: &str,
    token: i64,
    lease_secs: f64,
    write: &Write<'_>,
) -> Result<bool, BatchError> {
    const KEEP: &str = "lease_until = now() + make_interval(secs => $3), updated_at = now()";
    const RELEASE: &str = "lease_token = NULL, lease_until = NULL, updated_at = now()";
    let key: [&(dyn ToSql + Sync); 3] = [&item, &token, &lease_secs];
    let rows = match write {
        Write::Uploaded { video_url } => conn.execute(
            &format!("UPDATE removebgvideo_queue_items SET stage = 'uploaded', video_url = $4, {KEEP} WHERE item = $1 AND lease_token = $2"),
            &[key[0], key[1], key[2], video_url],
        ),
        // `sent_at` on the database's clock (rounded up): the fence bound is measured on it.
        Write::CreateSent { attempt, video_url } => {
            let attempt = i32::try_from(*attempt).unwrap_or(i32::MAX);
            conn.execute(
                &format!(
                    "UPDATE removebgvideo_queue_items SET stage = 'create_sent', attempt = $4, video_url = $5,
                     sent_at = ceil(extract(epoch FROM now()))::bigint, job_id = NULL, {KEEP}
                     WHERE item = $1 AND lease_token = $2"
                ),
                &[key[0], key[1], key[2], &attempt, video_url],
            )
        }
        Write::CreateRefused => conn.execute(
            &format!("UPDATE removebgvideo_queue_items SET stage = 'uploaded', {KEEP} WHERE item = $1 AND lease_token = $2"),
            &key,
        ),
        Write::Created { job_id } => conn.execute(
            &format!(
                "UPDATE removebgvideo_queue_items SET stage = 'created', job_id = $4, job_ids = array_append(job_ids, $4),
                 {KEEP} WHERE item = $1 AND lease_token = $2"
            ),
            &[key[0], key[1], key[2], job_id],
        ),
        Write::Finished => conn.execute(
            &format!("UPDATE removebgvideo_queue_items SET stage = 'finished', {KEEP} WHERE item = $1 AND lease_token = $2"),
            &key,
        ),
        Write::Completed { path, size } => {
            let size = i64::try_from(*size).unwrap_or(i64::MAX);
            conn.execute(
                &format!(
                    "UPDATE removebgvideo_queue_items SET stage = 'completed', output = $4, output_size = $5, error_stage = NULL,
                     error_status = NULL, error_code = NULL, error_message = NULL, request_id = NULL, {RELEASE}
                     WHERE item = $1 AND lease_token = $2 AND $3::float8 IS NOT NULL"
                ),
                &[key[0], key[1], key[2], path, &size],
            )
        }
        Write::Failed(error) | Write::Uncertain(error) => {
            let stage = if matches!(write, Write::Failed(_)) { "failed" } else { "uncertain" };
            let status = error.status.map(i32::from);
            let code = error.code.as_ref().map(ErrorCode::as_str);
            conn.execute(
                &format!(
                    "UPDATE removebgvideo_queue_items SET stage = '{stage}', error_stage = $4, error_status = $5,
                     error_code = $6, error_message = $7, request_id = $8, {RELEASE}
                     WHERE item = $1 AND lease_token = $2 AND $3::float8 IS NOT NULL"
                ),
                &[key[0], key[1], key[2], &error.stage.as_str(), &status, &code, &error.message, &error.request_id],
            )
        }
    }
    .map_err(|e| queue_error(format!("could not record a step of item {item:?}"), e))?;
    Ok(rows == 1)
}

/// Gives an item back without a step (the worker stops): another worker may take it at once.
pub(crate) fn release(conn: &mut Connection, item: &str, token: i64) -> Result<(), BatchError> {
    conn.execute(
        "UPDATE removebgvideo_queue_items SET lease_token = NULL, lease_until = NULL WHERE item = $1 AND lease_token = $2",
        &[&item, &token],
    )
    .map(drop)
    .map_err(|e| queue_error("could not release an item", e))
}

/// Renews every lease held under `tokens`; returns the tokens still held (and renewed).
pub(crate) fn renew(conn: &mut Connection, tokens: &[i64], lease_secs: f64) -> Result<Vec<i64>, BatchError> {
    let rows = conn
        .query(
            "UPDATE removebgvideo_queue_items SET lease_until = now() + make_interval(secs => $2)
             WHERE lease_token = ANY($1) RETURNING lease_token",
            &[&tokens, &lease_secs],
        )
        .map_err(|e| queue_error("could not renew the leases", e))?;
    Ok(rows.into_iter().map(|row| row.get(0)).collect())
}

/// How many items are not at an end yet (uncertain ones too when `uncertain` is set), and how
/// many of those no live lease holds.
pub(crate) fn open_items(conn: &mut Connection, uncertain: bool) -> Result<(i64, i64), BatchError> {
    let row = conn
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE lease_until IS NULL OR lease_until < now())
             FROM removebgvideo_queue_items
             WHERE stage NOT IN ('completed', 'failed') AND (stage <> 'uncertain' OR $1)",
            &[&uncertain],
        )
        .map_err(|e| queue_error("could not count the open items", e))?;
    Ok((row.get(0), row.get(1)))
}

/// Every job id any item of the queue has had: a lost create never adopts one of them.
pub(crate) fn known_jobs(conn: &mut Connection) -> Result<std::collections::HashSet<String>, BatchError> {
    let rows = conn
        .query("SELECT DISTINCT unnest(job_ids) FROM removebgvideo_queue_items", &[])
        .map_err(|e| queue_error("could not read the known jobs", e))?;
    Ok(rows.into_iter().filter_map(|row| row.get::<_, Option<String>>(0)).collect())
}

/// One line per item, in the order enqueued.
pub(crate) fn report(conn: &mut Connection) -> Result<Vec<ItemReport>, BatchError> {
    let rows = conn
        .query(
            "SELECT item, stage, job_id, output, error_stage, error_status, error_code, error_message, request_id
             FROM removebgvideo_queue_items ORDER BY seq",
            &[],
        )
        .map_err(|e| queue_error("could not read the queue", e))?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let stage: String = row.get(1);
        let status = match Step::parse(&stage)? {
            Step::Completed => ItemStatus::Completed,
            Step::Failed => ItemStatus::Failed,
            Step::Uncertain => ItemStatus::Uncertain,
            _ => ItemStatus::Unfinished,
        };
        let error_stage: Option<String> = row.get(4);
        let error = error_stage.map(|stage| ItemError {
            stage: Stage::parse(&stage).unwrap_or(Stage::Job),
            status: row.get::<_, Option<i32>>(5).and_then(|status| u16::try_from(status).ok()),
            code: row.get::<_, Option<String>>(6).map(|code| ErrorCode::from(code.as_str())),
            message: row.get::<_, Option<String>>(7).unwrap_or_default(),
            request_id: row.get(8),
        });
        items.push(ItemReport {
            item: row.get(0),
            status,
            job_id: row.get(2),
            output: row.get::<_, Option<String>>(3).map(PathBuf::from),
            error,
        });
    }
    Ok(items)
}
