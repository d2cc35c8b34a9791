//! Finding the jobs of creates whose answers were lost, among the account's jobs.

use std::collections::{HashMap, HashSet};
use std::time::UNIX_EPOCH;

use serde_json::Value;

use super::item::{ATTEMPT_MARKER, ITEM_MARKER};
use crate::client::{Client, Error};
use crate::models::{Job, ListJobs};

/// Jobs per page when listing.
const PAGE: u32 = 100;
/// How far before the oldest lost create the listing goes (clocks differ).
const CLOCK_SLACK_SECS: u64 = 3600;
/// The most pages read in one search (100,000 jobs).
const MAX_PAGES: u32 = 1000;

/// A create whose job is looked for.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub(crate) item: String,
    pub(crate) attempt: u32,
    pub(crate) video_url: String,
    /// When the create was sent, in Unix seconds.
    pub(crate) sent_at: u64,
}

/// Pages through the account's jobs, newest first, and returns the job id found for each wanted
/// create (by index into `wanted`). The listing stops when every create is found, when the jobs
/// get older than the oldest create (less an hour of clock slack), or at the last page.
///
/// A job matches when it echoes the create's `video_url` and, if it echoes `metadata`, the
/// item id and attempt number the batch put there. Jobs in `known` (already another item's, or
/// an earlier attempt's) never match.
pub(crate) fn find_jobs(
    client: &Client,
    wanted: &[Wanted],
    known: &HashSet<String>,
) -> Result<HashMap<usize, String>, Error> {
    let mut found = HashMap::new();
    let oldest = wanted.iter().map(|w| w.sent_at).min().unwrap_or_default().saturating_sub(CLOCK_SLACK_SECS);
    // The pager stops by itself after a short or empty page.
    let mut jobs = client.list_all_jobs(&ListJobs::new().limit(PAGE));
    let mut read = 0u32;
    while found.len() < wanted.len() && read < MAX_PAGES * PAGE {
        let Some(job) = jobs.next().transpose()? else { break };
        read += 1;
        if !known.contains(&job.id) {
            for (index, want) in wanted.iter().enumerate() {
                if !found.contains_key(&index) && !found.values().any(|id| id == &job.id) && matches(&job, want) {
                    found.insert(index, job.id.clone());
                }
            }
        }
        // A whole page read: stop once its last job is older than the oldest create.
        if read.is_multiple_of(PAGE) && created_at(&job).is_some_and(|created| created < oldest) {
            break;
        }
    }
    Ok(found)
}

fn matches(job: &Job, want: &Wanted) -> bool {
    if job.extra.get("video_url").and_then(Value::as_str) != Some(want.video_url.as_str()) {
        return false;
    }
    match job.extra.get("metadata").filter(|metadata| metadata.is_object()) {
        // The server does not echo metadata: the video URL is all there is to match.
        None => true,
        Some(metadata) => {
            metadata.get(ITEM_MARKER).and_then(Value::as_str) == Some(want.item.as_str())
                && metadata.get(ATTEMPT_MARKER).and_then(Value::as_u64) == Some(u64::from(want.attempt))
        }
    }
}

/// A job's `created_at` in Unix seconds, when it has one the crate can read.
fn created_at(job: &Job) -> Option<u64> {
    job.created_at_time()?.duration_since(UNIX_EPOCH).ok().map(|since| since.as_secs())
}
