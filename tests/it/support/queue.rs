//! Helpers shared by the PostgreSQL queue tests (`queue`, `queue_ops`, `queue_net`): a database
//! of the test's own, a manifest, the command's worker, and [`enqueued`], the start most of
//! them share.
//!
//! The database comes from `REMOVEBGVIDEO_TEST_POSTGRES_URL` (`.ci/run` starts a throwaway
//! cluster and sets it; CONTRIBUTING says how to run them locally). Without it the tests are
//! skipped, except under CI (`CI` set), where they fail.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use removebgvideo::simulator::{Simulator, SimulatorBuilder};
use tempfile::TempDir;

use super::batch::{outputs, sim_builder};
use super::command::{run, text};

const URL_ENV: &str = "REMOVEBGVIDEO_TEST_POSTGRES_URL";

/// A fresh database on the test server, as a URL; `None` (skip) when no server is configured
/// outside CI.
pub fn database() -> Option<String> {
    let set = std::env::var(URL_ENV).ok().filter(|url| !url.is_empty());
    let url = super::require(
        "PostgreSQL",
        set.ok_or_else(|| format!("{URL_ENV} is not set (see CONTRIBUTING: running the PostgreSQL tests)")),
    )?;
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect to the test database server");
    let name = format!("rbv_test_{:016x}", fastrand::u64(..));
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let (base, _) = url.rsplit_once('/').expect("the URL names a database");
    Some(format!("{base}/{name}"))
}

/// A manifest of `n` URL items `q000`, `q001`, ...
pub fn manifest(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("manifest.jsonl");
    let lines: String =
        (0..n).map(|i| format!("{{\"id\": \"q{i:03}\", \"input\": \"https://videos.example/{i}.mp4\"}}\n")).collect();
    std::fs::write(&path, lines).unwrap();
    path
}

/// A worker on `db` writing into `out` with `threads` threads, polling every `poll` seconds or
/// so, with a short lease.
pub fn worker_args<'a>(db: &'a str, out: &'a str, threads: &'a str, lease: &'a str, poll: &'a str) -> Vec<&'a str> {
    vec![
        "batch",
        "--queue",
        db,
        "--out",
        out,
        "--concurrency",
        threads,
        "--lease",
        lease,
        "--poll-first",
        poll,
        "--poll-max",
        poll,
    ]
}

/// The final outputs in `out` by item: a worker's own download names start with a dot.
pub fn final_outputs(out: &Path) -> BTreeMap<String, u64> {
    outputs(out).into_iter().filter(|(name, _)| !name.starts_with('.')).collect()
}

/// Each item's job, from the simulator's list (`metadata` carries the item id).
pub fn jobs_by_item(sim: &Simulator) -> BTreeMap<String, Vec<String>> {
    let client = sim.client().unwrap();
    let mut by_item: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in client.list_all_jobs(&removebgvideo::models::ListJobs::new().limit(100)) {
        let job = job.unwrap();
        let item = job.extra["metadata"]["removebgvideo_batch_item"].as_str().unwrap().to_owned();
        by_item.entry(item).or_default().push(job.id);
    }
    by_item
}

/// A queue with a manifest of URL items enqueued through the command, and what a test works it
/// with. Keep it whole while the test runs: its folder goes when it is dropped.
pub struct Enqueued {
    /// The queue's URL.
    pub db: String,
    /// The simulator the command talks to.
    pub sim: Simulator,
    /// The test's folder, holding the manifest.
    pub dir: TempDir,
    /// The manifest enqueued: [`manifest`]'s items `q000`, `q001`, ...
    pub manifest: String,
    /// Where the workers write: `out` in the test's folder, not yet created.
    pub out: String,
    /// What the enqueuing command printed; it exited 0.
    pub enqueued: Output,
}

/// A fresh [`database`] with `items` URL items enqueued on the default simulator; `None` (the
/// test returns: a skip, or in CI a failure first) as with [`database`].
pub fn enqueued(items: usize) -> Option<Enqueued> {
    enqueued_with(items, sim_builder(), &[])
}

/// [`enqueued`] on a simulator of `sim`'s settings, the command given `flags` after the
/// manifest.
pub fn enqueued_with(items: usize, sim: SimulatorBuilder, flags: &[&str]) -> Option<Enqueued> {
    let db = database()?;
    Some(enqueue_on(db, items, sim, flags))
}

/// [`enqueued_with`] on the queue at `url` (another server, a schema of its own).
pub fn enqueue_on(url: String, items: usize, sim: SimulatorBuilder, flags: &[&str]) -> Enqueued {
    let sim = sim.start().expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest(dir.path(), items).to_str().unwrap().to_owned();
    let out = dir.path().join("out").to_str().unwrap().to_owned();
    let mut args = vec!["batch", "--queue", &url, "--enqueue", &manifest];
    args.extend_from_slice(flags);
    let enqueued = run(&sim, &args);
    assert_eq!(enqueued.status.code(), Some(0), "{}", text(&enqueued.stderr));
    Enqueued { db: url, sim, dir, manifest, out, enqueued }
}
