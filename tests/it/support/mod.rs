//! Helpers shared by the integration tests: clients aimed at a mockito server, with retries
//! and waits that never really sleep.
#![allow(dead_code)]

use std::fmt::Display;
use std::io::Write;
use std::time::Duration;

use mockito::{Matcher, ServerGuard};
use removebgvideo::clock::ManualClock;
use removebgvideo::{AdminClient, Client, RetryPolicy};
use serde_json::Value;

/// A key that is easy to spot if it ever leaks into a message.
pub const KEY: &str = "sk_test_LEAKCHECK_7f3a9c";
/// An admin token that is easy to spot if it ever leaks into a message.
pub const TOKEN: &str = "adm_test_LEAKCHECK_91bc42";

/// The default retry policy, with backoffs of a millisecond or two.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_initial_backoff(Duration::from_millis(1)).with_max_backoff(Duration::from_millis(2))
}

/// A client for `server` with fast retries.
pub fn client(server: &ServerGuard) -> Client {
    Client::builder(KEY).base_url(server.url()).retry_policy(fast_retries()).build().expect("client")
}

/// A client for `server` whose retries and waits go through a [`ManualClock`].
pub fn client_with_clock(server: &ServerGuard) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = Client::builder(KEY).base_url(server.url()).clock(clock.clone()).build().expect("client");
    (client, clock)
}

/// An admin client for `server` with fast retries.
pub fn admin(server: &ServerGuard) -> AdminClient {
    AdminClient::builder(TOKEN).base_url(server.url()).retry_policy(fast_retries()).build().expect("admin client")
}

/// Matches the crate's User-Agent: `removebgvideo-rust/<version>`.
pub fn user_agent() -> Matcher {
    Matcher::Regex(r"^removebgvideo-rust/\d+\.\d+\.\d+".to_owned())
}

/// Matches a JSON body exactly (absent fields must be absent, not `null`).
pub fn json_body(value: Value) -> Matcher {
    Matcher::Json(value)
}

/// A job answer as JSON text.
pub fn job(id: &str, status: &str, progress: Option<f64>) -> String {
    let mut job = serde_json::json!({ "id": id, "status": status });
    if let Some(progress) = progress {
        job["progress"] = serde_json::json!(progress);
    }
    job.to_string()
}

/// The names in `dir` (files and folders, hidden ones such as partial outputs included), sorted.
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Says loudly, on the real standard error (past the test harness's capture, so `cargo test`
/// shows it), that the running test checked nothing: `SKIPPED: <test>: <reason>`.
pub fn skipped(reason: impl Display) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
}

/// A component a test needs from the machine (ffmpeg, PostgreSQL), as `found` says: `Some` when
/// found; when not, a failure in CI (the `CI` variable set: a skip there would count as a
/// pass) and elsewhere `None` after a [`skipped`] line naming the component, so the test returns
/// at once:
///
/// ```ignore
/// let Some(ffmpeg) = support::require("ffmpeg", Ffmpeg::locate()) else { return };
/// ```
pub fn require<T, E: Display>(component: &str, found: Result<T, E>) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(error) if std::env::var_os("CI").is_some() => panic!("CI is set but {component} is missing: {error}"),
        Err(error) => {
            skipped(format_args!("needs {component}: {error}"));
            None
        }
    }
}

/// The settings of a property test of this suite: `cases` cases, and its saved failing cases
/// read from and written to `file` in the crate's one `proptest-regressions` folder
/// (`proptest-regressions/it/<module>.txt`, relative to the crate root, where cargo runs the
/// tests).
pub fn props(cases: u32, file: &'static str) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence};
    Config { cases, failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))), ..Config::default() }
}

/// How many times the soak run (`cargo test -- --ignored`) repeats each property test, each time
/// with fresh random cases: the default run keeps the case counts that find bugs, the soak run
/// only repeats them.
pub const SOAK_ROUNDS: u32 = 20;

pub mod batch;
#[cfg(all(unix, feature = "cli"))]
pub mod command;
pub mod held_clock;
#[cfg(all(unix, feature = "cli", feature = "postgres"))]
pub mod queue;
pub mod sim_http;
pub mod webhook_receiver;
pub mod wire;
