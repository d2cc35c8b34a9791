//! The `batch` example as a user runs it: killed with SIGKILL in the middle of a run and run
//! again, it carries on to one job and one output per video; its exit statuses.
#![cfg(unix)]

mod batch_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use batch_support::*;
use removebgvideo::simulator::{Fault, FaultRule, Simulator};

/// Builds the example and returns its path (from cargo's own report of what it built).
fn example() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "batch", "--message-format=json", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(output.status.success(), "cargo build --example batch failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "batch")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the example's executable")
}

fn start(exe: &Path, sim: &Simulator, args: &[&std::ffi::OsStr]) -> Child {
    Command::new(exe)
        .args(args)
        .env("REMOVEBGVIDEO_API_KEY", sim.api_key())
        .env("REMOVEBGVIDEO_BASE_URL", sim.base_url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example")
}

/// Waits, within a generous deadline, until the journal holds a line containing `needle`.
fn wait_for_journal(journal: &Path, needle: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if std::fs::read_to_string(journal).is_ok_and(|text| text.lines().any(|line| line.contains(needle))) {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the example ended before its journal showed {needle}");
        assert!(Instant::now() < deadline, "no {needle} line in the journal after 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_mid_run_with_sigkill_the_example_resumes_to_one_job_and_one_output_per_video() {
    let exe = example();
    let sim = sim_builder().polls_to_complete(2).start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    file_items(&inputs, 12);
    let out = dir.path().join("out");
    let args = [inputs.as_os_str(), "--out".as_ref(), out.as_os_str(), "--concurrency".as_ref(), "2".as_ref()];

    let mut first = start(&exe, &sim, &args);
    wait_for_journal(&journal(&out), "\"event\":\"created\"", &mut first);
    first.kill().expect("SIGKILL");
    let killed = first.wait().unwrap();
    assert!(!killed.success());
    let created_before = sim.job_count();
    assert!(created_before < 12 || outputs(&out).len() < 12, "the kill came mid-run");

    let second = start(&exe, &sim, &args).wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.starts_with("Using the RemoveBGVideo API at"), "{stdout}");
    // A kill between a `create_sent` line and its request reaching the server leaves that item
    // uncertain: the rerun finds no job for it and, as promised, does not create one.
    let uncertain = report_statuses(&out).iter().filter(|status| *status == "uncertain").count();
    if uncertain == 0 {
        assert_eq!(second.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&second.stderr));
    } else {
        assert_eq!(second.status.code(), Some(1), "{stdout}");
        assert_eq!(sim.job_count(), 12 - uncertain, "no job for an uncertain item: {stdout}");
        let mut recreate = args.to_vec();
        recreate.push("--recreate-uncertain".as_ref());
        let third = start(&exe, &sim, &recreate).wait_with_output().unwrap();
        assert_eq!(third.status.code(), Some(0), "{}", String::from_utf8_lossy(&third.stdout));
    }
    assert_eq!(sim.job_count(), 12, "one job per video, none twice");
    let outputs = outputs(&out);
    assert_eq!(outputs.len(), 12, "{outputs:?}");
    assert!(outputs.keys().all(|name| name.starts_with('f') && name.ends_with(".webm")));
    let statuses = report_statuses(&out);
    assert_eq!(statuses.len(), 12);
    assert!(statuses.iter().all(|status| status == "completed" || status == "already_completed"), "{statuses:?}");
}

/// The `status` of each line of the example's report.
fn report_statuses(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn ctrl_c_stops_the_example_cleanly_and_a_rerun_finishes() {
    let exe = example();
    let sim = sim_builder().polls_to_complete(2).start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    file_items(&inputs, 8);
    let out = dir.path().join("out");
    let args = [inputs.as_os_str(), "--out".as_ref(), out.as_os_str(), "--concurrency".as_ref(), "2".as_ref()];

    let mut first = start(&exe, &sim, &args);
    wait_for_journal(&journal(&out), "\"event\":\"created\"", &mut first);
    let sent = Command::new("kill").args(["-INT", &first.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let stopped = first.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&stopped.stdout);
    assert_eq!(stopped.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("cancelled; run again"), "{stdout}");
    let report = std::fs::read_to_string(out.join("report.jsonl")).unwrap();
    assert!(report.contains("\"status\":\"unfinished\""), "{report}");

    let second = start(&exe, &sim, &args).wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stdout));
    assert_eq!(sim.job_count(), 8);
    assert_eq!(outputs(&out).len(), 8);
}

#[test]
fn the_exit_status_says_credits_and_bad_usage() {
    let exe = example();
    let sim = simulator();
    sim.inject(FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").times(u32::MAX));
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    file_items(&inputs, 2);
    let out = dir.path().join("out");

    let credits =
        start(&exe, &sim, &[inputs.as_os_str(), "--out".as_ref(), out.as_os_str()]).wait_with_output().unwrap();
    assert_eq!(credits.status.code(), Some(3), "{}", String::from_utf8_lossy(&credits.stdout));
    assert!(String::from_utf8_lossy(&credits.stdout).contains("out of credits"));
    assert_eq!(sim.job_count(), 0);

    for bad in [vec!["--concurrency", "0"], vec!["--shard", "2/2"], vec!["--no-such-flag"], vec!["/no/such/input"]] {
        let mut args: Vec<&std::ffi::OsStr> = vec![inputs.as_os_str(), "--out".as_ref(), out.as_os_str()];
        args.extend(bad.iter().map(std::ffi::OsStr::new));
        let status = start(&exe, &sim, &args).wait().unwrap();
        assert_eq!(status.code(), Some(2), "{bad:?}");
    }
}
