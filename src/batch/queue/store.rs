//! Every statement the queue sends: enqueue, claim, one committed step per action, lease
//! renewal, the report. Each is one round trip in autocommit, so a step is durable before the
//! worker acts on it; and each has the same effect sent twice (the pool sends a statement
//! again when its connection was lost and its answer with it).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio_postgres::types::{ToSql, Type};

use crate::batch::error::BatchError;
use crate::batch::item::{JobOptions, Planned, Source};
use crate::batch::report::{ItemError, ItemReport, ItemStatus, Stage};
use crate::models::settings::JobSettings;
use crate::models::{Background, BgType, ErrorCode, Extra, Model, OutputFormat};

/// The stages an item goes through in the queue, as stored in its row.
pub(crate) use super::stats::QueueStep as Step;

pub(crate) use super::pool::Connection;

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

/// Adds the items not in the queue yet, in one statement; returns how many were added. An
/// item already there with the same input and options is left as it is; one with another input
/// or other options is a conflict: nothing is added ([`BatchError::Conflict`]) unless
/// `replace`, which starts it again from nothing under the new input.
pub(crate) fn enqueue(
    conn: &mut Connection,
    items: &[Planned],
    credits: &[Option<f64>],
    replace: bool,
) -> Result<u64, BatchError> {
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
    // One statement, so that the conflicts are read and acted on in one snapshot, and the
    // whole sent twice has the effect of once (the second finds the items as the first left
    // them: equal, no conflict). `WITH ORDINALITY` keeps the manifest's order in `seq`. A
    // replaced item keeps its attempt count and its past job ids (a lost create is never
    // mistaken for a new one).
    let row = conn.row(
        "could not enqueue the items",
        "WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[])
                    WITH ORDINALITY AS t(item, kind, source, options, credits, n)),
         conflicts AS (SELECT t.item, t.n FROM removebgvideo_queue_items AS i JOIN t ON t.item = i.item
                       WHERE (i.source_kind, i.source, i.options) IS DISTINCT FROM (t.kind, t.source, t.options)),
         added AS (INSERT INTO removebgvideo_queue_items (item, source_kind, source, options, credits)
                   SELECT item, kind, source, options, credits FROM t
                   WHERE $6 OR NOT EXISTS (SELECT 1 FROM conflicts)
                   ORDER BY n
                   ON CONFLICT (item) DO NOTHING
                   RETURNING 1),
         replaced AS (UPDATE removebgvideo_queue_items AS i
                      SET source_kind = t.kind, source = t.source, options = t.options, credits = t.credits,
                          stage = 'pending', video_url = NULL, sent_at = NULL, job_id = NULL, output = NULL,
                          output_size = NULL, error_stage = NULL, error_status = NULL, error_code = NULL,
                          error_message = NULL, request_id = NULL, lease_token = NULL, lease_until = NULL,
                          worker = NULL, claimed_at = NULL, takeovers = 0, updated_at = now()
                      FROM t
                      WHERE $6 AND t.item = i.item AND t.item IN (SELECT item FROM conflicts)
                      RETURNING 1)
         SELECT (SELECT count(*) FROM added),
                ARRAY(SELECT item FROM conflicts ORDER BY n),
                (SELECT count(*) FROM replaced)",
        &[
            (&ids, Type::TEXT_ARRAY),
            (&kinds, Type::TEXT_ARRAY),
            (&sources, Type::TEXT_ARRAY),
            (&options, Type::TEXT_ARRAY),
            (&credits, Type::FLOAT8_ARRAY),
            (&replace, Type::BOOL),
        ],
    )?;
    let Some(row) = row else { return Ok(0) };
    let conflicts: Vec<String> = row.get(1);
    if !conflicts.is_empty() && !replace {
        return Err(BatchError::Conflict { ids: conflicts });
    }
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
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
    /// Why the item failed, when the claim found it failed (over the cap on lost workers).
    pub(crate) error: Option<ItemError>,
}

/// The columns a claim returns, in this order ($5 is the fence bound in seconds).
const CLAIMED_COLUMNS: &str =
    "i.item, i.source_kind, i.source, i.options, i.stage, i.video_url, i.attempt, i.sent_at, i.job_id,
     GREATEST(0, COALESCE(i.sent_at + $5::float8 - extract(epoch FROM now())::float8, 0))::float8,
     i.error_stage, i.error_message";

/// The credits the batch has committed: the estimates of the items whose create was sent.
const COMMITTED: &str = "(SELECT coalesce(sum(credits), 0) FROM removebgvideo_queue_items
    WHERE stage IN ('create_sent', 'created', 'finished', 'completed') OR (stage IN ('failed', 'uncertain') AND attempt > 0))";

/// The items a worker leaves alone, their job not created yet (or left uncertain, to be
/// created again): all of them when the batch is cancelled, and those whose estimate would take
/// the batch past its budget (the estimates are summed, a scan of the table, only when there is
/// a budget).
const NOT_NOW: &str = "stage IN ('pending', 'uploaded', 'uncertain') AND (
    coalesce((SELECT cancelled FROM removebgvideo_queue_control), false)
    OR CASE WHEN (SELECT max_credits FROM removebgvideo_queue_control) IS NULL THEN false
       ELSE {COMMITTED} + coalesce(credits, 0) > (SELECT max_credits FROM removebgvideo_queue_control) END)";

/// [`NOT_NOW`] with the committed credits written in.
fn not_now() -> String {
    NOT_NOW.replace("{COMMITTED}", COMMITTED)
}

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
    // Sent twice (an answer lost with its connection), it returns the item the first one
    // claimed under this token rather than claim a second. A cancelled batch gives out no
    // item still to create. An item taken from a lost worker more times than the batch's cap
    // is failed (and returned so) instead of tried again.
    let sql = format!(
        "WITH mine AS (SELECT item FROM removebgvideo_queue_items
                       WHERE lease_token = $1 AND stage NOT IN ('completed', 'failed')
                         AND (stage <> 'uncertain' OR $4)),
         c AS (SELECT item FROM removebgvideo_queue_items
               WHERE NOT EXISTS (SELECT 1 FROM mine)
                 AND stage NOT IN ('completed', 'failed') AND (stage <> 'uncertain' OR $4)
                 AND (lease_until IS NULL OR lease_until < now())
                 AND NOT ({not_now})
               ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED),
         f AS (SELECT t.item, t.lease_token IS NOT NULL AND t.lease_token <> $1 AS taken,
                      t.lease_token IS NOT NULL AND t.lease_token <> $1
                        AND t.takeovers + 1 > (SELECT max_takeovers FROM removebgvideo_queue_control) AS over
               FROM removebgvideo_queue_items AS t
               WHERE t.item IN (SELECT item FROM mine UNION ALL SELECT item FROM c))
         UPDATE removebgvideo_queue_items AS i
         SET lease_token = $1, worker = $3, updated_at = now(),
             lease_until = CASE WHEN f.over THEN NULL ELSE now() + make_interval(secs => $2) END,
             claimed_at = CASE WHEN i.lease_token = $1 THEN i.claimed_at ELSE now() END,
             takeovers = i.takeovers + CASE WHEN f.taken THEN 1 ELSE 0 END,
             stage = CASE WHEN f.over THEN 'failed' ELSE i.stage END,
             error_stage = CASE WHEN NOT f.over THEN i.error_stage
                 WHEN i.stage = 'pending' THEN 'upload' WHEN i.stage = 'created' THEN 'poll'
                 WHEN i.stage = 'finished' THEN 'download' ELSE 'create' END,
             error_message = CASE WHEN f.over THEN format(
                 'the item lost its worker %s times, more than the batch allows (%s); it is reported instead of tried again',
                 i.takeovers + 1, (SELECT max_takeovers FROM removebgvideo_queue_control)) ELSE i.error_message END,
             error_status = CASE WHEN f.over THEN NULL ELSE i.error_status END,
             error_code = CASE WHEN f.over THEN NULL ELSE i.error_code END,
             request_id = CASE WHEN f.over THEN NULL ELSE i.request_id END
         FROM f
         WHERE i.item = f.item
         RETURNING {CLAIMED_COLUMNS}",
        not_now = not_now()
    );
    let row = conn.row(
        "could not claim an item",
        &sql,
        &[
            (&token, Type::INT8),
            (&lease_secs, Type::FLOAT8),
            (&worker, Type::TEXT),
            (&uncertain, Type::BOOL),
            (&fence_secs, Type::FLOAT8),
        ],
    )?;
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
    let step = Step::parse(&stage)?;
    let error = (step == Step::Failed).then(|| ItemError {
        stage: row.get::<_, Option<String>>(10).and_then(|stage| Stage::parse(&stage)).unwrap_or(Stage::Job),
        status: None,
        code: None,
        message: row.get::<_, Option<String>>(11).unwrap_or_default(),
        request_id: None,
    });
    Ok(Some(Claimed {
        item: Planned { id, source, options: options_of(&options)? },
        step,
        video_url: row.get(5),
        attempt: u32::try_from(attempt).unwrap_or(0),
        sent_at: sent_at.and_then(|at| u64::try_from(at).ok()).unwrap_or(0),
        job_id: row.get(8),
        fence_wait: std::time::Duration::try_from_secs_f64(row.get::<_, f64>(9)).unwrap_or_default(),
        error,
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
    // An item at its end keeps the token of the worker that ended it, so that the same
    // statement sent again still finds it (no claim looks at an ended item).
    const RELEASE: &str = "lease_until = NULL, updated_at = now()";
    let what = format!("could not record a step of item {item:?}");
    let key: [(&(dyn ToSql + Sync), Type); 3] =
        [(&item, Type::TEXT), (&token, Type::INT8), (&lease_secs, Type::FLOAT8)];
    let rows = match write {
        Write::Uploaded { video_url } => conn.execute(
            &what,
            &format!("UPDATE removebgvideo_queue_items SET stage = 'uploaded', video_url = $4, {KEEP} WHERE item = $1 AND lease_token = $2"),
            &with(&key, &[(video_url, Type::TEXT)]),
        ),
        Write::CreateSent { attempt, video_url } => {
            let attempt = i32::try_from(*attempt).unwrap_or(i32::MAX);
            // Cancelled, or over the budget, no create goes: the item is given back and the
            // worker told its lease is gone (the statement's count is the outer update's). The
            // same statement sent again finds its own `create_sent` already counted, and goes
            // on. `sent_at` is on the database's clock (rounded up): the fence bound is
            // measured on it.
            conn.execute(
                &what,
                &format!(
                    "WITH cancelled AS (SELECT NOT EXISTS (SELECT 1 FROM removebgvideo_queue_items
                                WHERE item = $1 AND lease_token = $2 AND stage = 'create_sent' AND attempt = $4)
                         AND (coalesce((SELECT cancelled FROM removebgvideo_queue_control), false)
                         OR CASE WHEN (SELECT max_credits FROM removebgvideo_queue_control) IS NULL THEN false
                            ELSE {COMMITTED} + coalesce((SELECT credits FROM removebgvideo_queue_items WHERE item = $1), 0)
                                 > (SELECT max_credits FROM removebgvideo_queue_control) END) AS yes),
                     given_back AS (UPDATE removebgvideo_queue_items SET lease_token = NULL, lease_until = NULL
                                    WHERE item = $1 AND lease_token = $2 AND (SELECT yes FROM cancelled) RETURNING 1)
                     UPDATE removebgvideo_queue_items SET stage = 'create_sent', attempt = $4, video_url = $5,
                     sent_at = ceil(extract(epoch FROM now()))::bigint, job_id = NULL, {KEEP}
                     WHERE item = $1 AND lease_token = $2 AND NOT (SELECT yes FROM cancelled)"
                ),
                &with(&key, &[(&attempt, Type::INT4), (video_url, Type::TEXT)]),
            )
        }
        Write::CreateRefused => conn.execute(
            &what,
            &format!("UPDATE removebgvideo_queue_items SET stage = 'uploaded', {KEEP} WHERE item = $1 AND lease_token = $2"),
            &key,
        ),
        Write::Created { job_id } => conn.execute(
            &what,
            &format!(
                "UPDATE removebgvideo_queue_items SET stage = 'created', job_id = $4,
                 job_ids = CASE WHEN $4 = ANY(job_ids) THEN job_ids ELSE array_append(job_ids, $4) END,
                 {KEEP} WHERE item = $1 AND lease_token = $2"
            ),
            &with(&key, &[(job_id, Type::TEXT)]),
        ),
        Write::Finished => conn.execute(
            &what,
            &format!("UPDATE removebgvideo_queue_items SET stage = 'finished', {KEEP} WHERE item = $1 AND lease_token = $2"),
            &key,
        ),
        Write::Completed { path, size } => {
            let size = i64::try_from(*size).unwrap_or(i64::MAX);
            conn.execute(
                &what,
                &format!(
                    "UPDATE removebgvideo_queue_items SET stage = 'completed', output = $4, output_size = $5, error_stage = NULL,
                     error_status = NULL, error_code = NULL, error_message = NULL, request_id = NULL, {RELEASE}
                     WHERE item = $1 AND lease_token = $2 AND $3::float8 IS NOT NULL"
                ),
                &with(&key, &[(path, Type::TEXT), (&size, Type::INT8)]),
            )
        }
        Write::Failed(error) | Write::Uncertain(error) => {
            let stage = if matches!(write, Write::Failed(_)) { "failed" } else { "uncertain" };
            let status = error.status.map(i32::from);
            let code = error.code.as_ref().map(ErrorCode::as_str);
            let error_stage = error.stage.as_str();
            conn.execute(
                &what,
                &format!(
                    "UPDATE removebgvideo_queue_items SET stage = '{stage}', error_stage = $4, error_status = $5,
                     error_code = $6, error_message = $7, request_id = $8, {RELEASE}
                     WHERE item = $1 AND lease_token = $2 AND $3::float8 IS NOT NULL"
                ),
                &with(&key, &[
                    (&error_stage, Type::TEXT),
                    (&status, Type::INT4),
                    (&code, Type::TEXT),
                    (&error.message, Type::TEXT),
                    (&error.request_id, Type::TEXT),
                ]),
            )
        }
    }?;
    Ok(rows == 1)
}

/// The item's key parameters followed by a step's own.
fn with<'a>(
    key: &[(&'a (dyn ToSql + Sync), Type)],
    extra: &[(&'a (dyn ToSql + Sync), Type)],
) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    key.iter().chain(extra).cloned().collect()
}

/// Gives an item back without a step (the worker stops): another worker may take it at once.
pub(crate) fn release(conn: &mut Connection, item: &str, token: i64) -> Result<(), BatchError> {
    conn.execute(
        "could not release an item",
        "UPDATE removebgvideo_queue_items SET lease_token = NULL, lease_until = NULL WHERE item = $1 AND lease_token = $2",
        &[(&item, Type::TEXT), (&token, Type::INT8)],
    )
    .map(drop)
}

/// Renews every lease held under `tokens`; returns the tokens still held (and renewed). An
/// ended item keeps its token but is not renewed.
pub(crate) fn renew(conn: &mut Connection, tokens: &[i64], lease_secs: f64) -> Result<Vec<i64>, BatchError> {
    let rows = conn.rows(
        "could not renew the leases",
        "UPDATE removebgvideo_queue_items SET lease_until = now() + make_interval(secs => $2)
         WHERE lease_token = ANY($1) AND stage NOT IN ('completed', 'failed', 'uncertain')
         RETURNING lease_token",
        &[(&tokens, Type::INT8_ARRAY), (&lease_secs, Type::FLOAT8)],
    )?;
    Ok(rows.into_iter().map(|row| row.get(0)).collect())
}

/// How many items are not at an end yet (uncertain ones too when `uncertain` is set), and how
/// many of those no live lease holds.
pub(crate) fn open_items(conn: &mut Connection, uncertain: bool) -> Result<(i64, i64), BatchError> {
    let row = conn.row(
        "could not count the open items",
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE lease_until IS NULL OR lease_until < now())
         FROM removebgvideo_queue_items
         WHERE stage NOT IN ('completed', 'failed') AND (stage <> 'uncertain' OR $1) AND NOT ({})",
            not_now()
        ),
        &[(&uncertain, Type::BOOL)],
    )?;
    Ok(row.map_or((0, 0), |row| (row.get(0), row.get(1))))
}

/// Every job id any item of the queue has had: a lost create never adopts one of them.
pub(crate) fn known_jobs(conn: &mut Connection) -> Result<std::collections::HashSet<String>, BatchError> {
    let rows = conn.rows(
        "could not read the known jobs",
        "SELECT DISTINCT unnest(job_ids) FROM removebgvideo_queue_items",
        &[],
    )?;
    Ok(rows.into_iter().filter_map(|row| row.get::<_, Option<String>>(0)).collect())
}

/// One line per item, in the order enqueued.
pub(crate) fn report(conn: &mut Connection) -> Result<Vec<ItemReport>, BatchError> {
    let rows = conn.rows(
        "could not read the queue",
        "SELECT item, stage, job_id, output, error_stage, error_status, error_code, error_message, request_id
         FROM removebgvideo_queue_items ORDER BY seq",
        &[],
    )?;
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

/// The batch-wide settings.
#[derive(Debug, Default)]
pub(crate) struct Control {
    pub(crate) cancelled: bool,
    pub(crate) max_takeovers: Option<u32>,
    pub(crate) max_credits: Option<f64>,
    pub(crate) committed_credits: f64,
}

/// The batch-wide settings, and the credits committed so far.
pub(crate) fn control(conn: &mut Connection) -> Result<Control, BatchError> {
    let row = conn.row(
        "could not read the batch's settings",
        &format!("SELECT cancelled, max_takeovers, max_credits, {COMMITTED} FROM removebgvideo_queue_control"),
        &[],
    )?;
    Ok(row.map_or_else(Control::default, |row| Control {
        cancelled: row.get(0),
        max_takeovers: row.get::<_, Option<i32>>(1).and_then(|cap| u32::try_from(cap).ok()),
        max_credits: row.get(2),
        committed_credits: row.get(3),
    }))
}

/// Sets or clears the batch's budget.
pub(crate) fn set_max_credits(conn: &mut Connection, max: Option<f64>) -> Result<(), BatchError> {
    conn.execute(
        "could not change the batch's budget",
        "UPDATE removebgvideo_queue_control SET max_credits = $1",
        &[(&max, Type::FLOAT8)],
    )
    .map(drop)
}

/// Sets or clears the batch's cancel.
pub(crate) fn set_cancelled(conn: &mut Connection, cancelled: bool) -> Result<(), BatchError> {
    conn.execute(
        "could not change the batch's cancel",
        "UPDATE removebgvideo_queue_control SET cancelled = $1",
        &[(&cancelled, Type::BOOL)],
    )
    .map(drop)
}

/// Sets or clears the cap on how many times an item may lose its worker.
pub(crate) fn set_max_takeovers(conn: &mut Connection, cap: Option<u32>) -> Result<(), BatchError> {
    let cap = cap.map(|cap| i32::try_from(cap).unwrap_or(i32::MAX));
    conn.execute(
        "could not change the batch's cap on lost workers",
        "UPDATE removebgvideo_queue_control SET max_takeovers = $1",
        &[(&cap, Type::INT4)],
    )
    .map(drop)
}

/// Puts the failed items back to be created again (from their upload, when they have one);
/// returns how many.
pub(crate) fn retry_failed(conn: &mut Connection) -> Result<u64, BatchError> {
    conn.execute(
        "could not put the failed items back",
        "UPDATE removebgvideo_queue_items
         SET stage = CASE WHEN video_url IS NULL OR source_kind = 'url' THEN 'pending' ELSE 'uploaded' END,
             job_id = NULL, error_stage = NULL, error_status = NULL, error_code = NULL, error_message = NULL,
             request_id = NULL, lease_token = NULL, lease_until = NULL, worker = NULL, claimed_at = NULL,
             takeovers = 0, updated_at = now()
         WHERE stage = 'failed'",
        &[],
    )
}

/// Each item's state for [`Queue::stats`](super::Queue::stats), in the order enqueued.
pub(crate) fn stats(conn: &mut Connection) -> Result<Vec<super::stats::ItemState>, BatchError> {
    let rows = conn.rows(
        "could not read the queue",
        "SELECT item, stage, lease_until > now(), worker, claimed_at, attempt, takeovers, job_id,
                error_stage, error_status, error_code, error_message, request_id
         FROM removebgvideo_queue_items ORDER BY seq",
        &[],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let step = Step::parse(&row.get::<_, String>(1))?;
        let held = row.get::<_, Option<bool>>(2).unwrap_or(false);
        let error_stage: Option<String> = row.get(8);
        let error = error_stage.map(|stage| ItemError {
            stage: Stage::parse(&stage).unwrap_or(Stage::Job),
            status: row.get::<_, Option<i32>>(9).and_then(|status| u16::try_from(status).ok()),
            code: row.get::<_, Option<String>>(10).map(|code| ErrorCode::from(code.as_str())),
            message: row.get::<_, Option<String>>(11).unwrap_or_default(),
            request_id: row.get(12),
        });
        items.push(super::stats::ItemState {
            item: row.get(0),
            step,
            worker: if held { row.get(3) } else { None },
            held_since: if held { row.get(4) } else { None },
            attempts: u32::try_from(row.get::<_, i32>(5)).unwrap_or(0),
            lost_workers: u32::try_from(row.get::<_, i32>(6)).unwrap_or(0),
            job_id: row.get(7),
            error,
        });
    }
    Ok(items)
}
