//! Helpers shared by the batch tests: a simulator, a client that never really sleeps between
//! its own retries, and a batch with millisecond poll intervals and back-offs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::process::{Child, Command};
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

use removebgvideo::batch::{Batch, Item};
use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::{Simulator, SimulatorBuilder};

/// The sample video shipped with the examples (2 s of H.264).
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");
/// The size of every simulated output.
pub const OUTPUT_SIZE: usize = 2048;

/// A simulator whose jobs finish on their first poll, with small outputs.
pub fn simulator() -> Simulator {
    sim_builder().start().expect("simulator")
}

/// The settings of [`simulator`], to change before starting.
pub fn sim_builder() -> SimulatorBuilder {
    Simulator::builder().polls_to_complete(1).output_size(OUTPUT_SIZE).worker_threads(8).webhook_secret(None)
}

/// A batch on `sim` writing into `out`: the client's own retries pause on a manual clock, the
/// batch polls and backs off in milliseconds.
pub fn batch(sim: &Simulator, out: &Path) -> Batch {
    let client = sim.client_builder().clock(ManualClock::new()).build().expect("client");
    Batch::new(client, out).poll_interval(Duration::from_millis(1), Duration::from_millis(4))
}

/// `n` URL items `u000`, `u001`, ...
pub fn url_items(n: usize) -> Vec<Item> {
    (0..n).map(|i| Item::url(format!("u{i:03}"), format!("https://videos.example/{i}.mp4"))).collect()
}

/// `n` file items, each a copy of the sample under `dir` named `f000.mp4`, ...
pub fn file_items(dir: &Path, n: usize) -> Vec<Item> {
    std::fs::create_dir_all(dir).expect("input folder");
    (0..n)
        .map(|i| {
            let path = dir.join(format!("f{i:03}.mp4"));
            std::fs::copy(SAMPLE, &path).expect("copy the sample");
            Item::file(path)
        })
        .collect()
}

/// Every file in `dir` (not in sub-folders) with its size, by name.
pub fn files(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .expect("read the output folder")
        .map(|entry| entry.expect("entry"))
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry.metadata().expect("metadata").len()))
        .collect()
}

/// The outputs in `dir`: every file but the journal, its lock file and the report.
pub fn outputs(dir: &Path) -> BTreeMap<String, u64> {
    files(dir).into_iter().filter(|(name, _)| !name.ends_with(".jsonl") && !name.ends_with(".jsonl.lock")).collect()
}

/// The journal of a batch writing into `out`.
pub fn journal(out: &Path) -> PathBuf {
    out.join("journal.jsonl")
}

/// How many `POST /v1/jobs` the simulator received.
pub fn creates_sent(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/jobs").count()
}

/// Waits until process `child` has stopped itself (`SIGSTOP` at a test hook), as
/// `/proc/<pid>/stat` shows.
#[cfg(target_os = "linux")]
pub fn wait_until_stopped(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(8);
    let stat = format!("/proc/{}/stat", child.id());
    loop {
        let text = std::fs::read_to_string(&stat).unwrap_or_default();
        // The state follows the command name in parentheses.
        if text.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T')) {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the process ended instead of stopping");
        assert!(Instant::now() < deadline, "the process did not stop at its hook");
        std::thread::yield_now();
    }
}

/// Kills process `pid` (`SIGKILL`, which ends a stopped process too) unless the returned
/// guard is dropped within `limit`: a test that goes wrong fails instead of hanging on a
/// process stopped for good.
#[cfg(target_os = "linux")]
pub fn watchdog(pid: u32, limit: Duration) -> std::sync::mpsc::Sender<()> {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    });
    done
}

#[cfg(target_os = "linux")]
pub fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
}
