//! What a careful user, or a careless one, does around a batch on a file journal: two runs on
//! one journal, folders full of symlinks, a symlink planted at the report, `--journal` pointed
//! at the wrong file, a wrong API key, failures left from an earlier run.

use crate::support::batch::*;
#[cfg(all(unix, feature = "cli"))]
use crate::support::command::{command, text};

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use removebgvideo::batch::{BatchError, Event, ItemStatus};
use removebgvideo::simulator::Simulator;

#[test]
fn a_second_run_on_a_journal_in_use_is_refused_before_sending_anything() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let second: Arc<Mutex<Option<Result<usize, String>>>> = Arc::default();
    let seen = Arc::clone(&second);
    let (sim_url, key) = (sim.base_url().to_owned(), sim.api_key().to_owned());
    let out_again = out.clone();
    // While the first run holds the journal, a second one on it (another process, a cron
    // overlap) starts: it must refuse at once.
    let first = batch(&sim, &out).concurrency(1).on_event(move |event| {
        if matches!(event, Event::Started { .. }) && seen.lock().unwrap().is_none() {
            let client = removebgvideo::Client::builder(key.as_str()).base_url(&sim_url).build().unwrap();
            let result = removebgvideo::batch::Batch::new(client, &out_again).run(url_items(4));
            *seen.lock().unwrap() = Some(result.map(|report| report.items.len()).map_err(|e| match e {
                BatchError::JournalLocked { holder, .. } => holder,
                other => panic!("not the lock error: {other}"),
            }));
        }
    });
    let report = first.run(url_items(4)).unwrap();
    assert!(report.all_succeeded(), "{report:#?}");
    let holder = second.lock().unwrap().take().expect("the second run ran").unwrap_err();
    assert!(holder.contains(&format!("process {}", std::process::id())), "{holder}");
    assert_eq!(sim.job_count(), 4);
    assert_eq!(creates_sent(&sim), 4, "one create per item: the second run sent none");

    // Once the first run has ended, the journal is free again.
    let again = batch(&sim, &out).run(url_items(4)).unwrap();
    assert_eq!(again.count(ItemStatus::AlreadyCompleted), 4);
}

#[cfg(all(target_os = "linux", feature = "cli"))]
#[test]
fn two_commands_on_one_journal_create_each_job_once_and_the_second_exits_2_or_waits() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("list.jsonl");
    let lines: String =
        (0..4).map(|i| format!("{{\"id\": \"v{i}\", \"input\": \"https://videos.example/{i}.mp4\"}}\n")).collect();
    std::fs::write(&manifest, lines).unwrap();
    let out = dir.path().join("out");
    let args =
        ["batch", "--manifest", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--concurrency", "1"];

    // The first run freezes (SIGSTOP) with its first create recorded, holding the journal.
    let mut first = command(&sim, &args).env("REMOVEBGVIDEO_TEST_FREEZE_AT", "create_sent").spawn().unwrap();
    let _first_guard = watchdog(first.id(), Duration::from_secs(20));
    wait_until_stopped(&mut first);
    let refused = command(&sim, &args).output().unwrap();
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in use by") && stderr.contains(&format!("process {}", first.id())), "{stderr}");
    assert!(stderr.contains("--wait-for-lock"), "{stderr}");
    assert_eq!(creates_sent(&sim), 0, "the refused run sent nothing, and the frozen one has not sent yet");

    // A run asked to wait starts once the first has ended, and finds everything done.
    let waiting = command(&sim, &[&args[..], &["--wait-for-lock"]].concat()).spawn().unwrap();
    let _waiting_guard = watchdog(waiting.id(), Duration::from_secs(20));
    signal(&first, "-CONT");
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stdout));
    let waited = waiting.wait_with_output().unwrap();
    assert_eq!(waited.status.code(), Some(0), "{}{}", text(&waited.stdout), text(&waited.stderr));
    assert_eq!(sim.job_count(), 4);
    assert_eq!(creates_sent(&sim), 4, "one create per item across the three runs");
    assert_eq!(outputs(&out).len(), 4);
}

#[cfg(all(unix, feature = "cli"))]
#[test]
fn a_folder_with_symlink_loops_and_two_links_to_one_video_is_one_item() {
    use std::os::unix::fs::symlink;
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let videos = dir.path().join("videos");
    std::fs::create_dir_all(videos.join("sub")).unwrap();
    std::fs::copy(SAMPLE, videos.join("clip.mp4")).unwrap();
    symlink(".", videos.join("again")).unwrap();
    symlink("..", videos.join("sub/up")).unwrap();
    symlink(&videos, videos.join("sub/home")).unwrap();
    symlink(videos.join("clip.mp4"), videos.join("sub/same.mp4")).unwrap();

    let shown = command(&sim, &["batch", videos.to_str().unwrap(), "--dry-run", "--json"]).output().unwrap();
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let estimate: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(estimate["items"].as_array().unwrap().len(), 1, "{estimate}");
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_at_the_report_is_replaced_and_its_target_left_alone() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let victim = dir.path().join("precious.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let report = batch(&sim, &out).run(url_items(2)).unwrap();
    let path = out.join("report.jsonl");
    std::os::unix::fs::symlink(&victim, &path).unwrap();

    report.write_jsonl(&path).unwrap();

    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&path).unwrap().file_type().is_file());
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
}

#[test]
fn a_journal_option_pointed_at_a_manifest_is_refused_and_the_file_left_intact() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("list.jsonl");
    // No final newline: a journal would take the last line for a torn write and cut it off.
    let text = "{\"id\": \"a\", \"input\": \"https://videos.example/a.mp4\"}\n{\"id\": \"b\", \"input\": \"https://videos.example/b.mp4\"}";
    std::fs::write(&manifest, text).unwrap();

    let refused = batch(&sim, dir.path()).journal(&manifest).run(url_items(1)).unwrap_err();
    assert!(matches!(refused, BatchError::Journal { .. }), "{refused}");
    assert!(refused.to_string().contains("not a journal"), "{refused}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text, "not a byte changed");
    assert_eq!(sim.requests().len(), 0);

    // A file that is nothing like a journal at all, with no newline, is refused too.
    let note = dir.path().join("notes.txt");
    std::fs::write(&note, "remember the milk").unwrap();
    assert!(batch(&sim, dir.path()).journal(&note).run(url_items(1)).is_err());
    assert_eq!(std::fs::read_to_string(&note).unwrap(), "remember the milk");
}

#[cfg(unix)]
#[test]
fn a_journal_that_is_a_symlink_is_not_followed() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.jsonl");
    std::fs::write(&elsewhere, "").unwrap();
    let journal = dir.path().join("journal.jsonl");
    std::os::unix::fs::symlink(&elsewhere, &journal).unwrap();
    let refused = batch(&sim, dir.path()).journal(&journal).run(url_items(1)).unwrap_err();
    assert!(matches!(refused, BatchError::Journal { .. }), "{refused}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "");
    assert_eq!(sim.requests().len(), 0);
}

/// A client of `sim` with another key than its own.
fn wrong_key_batch(sim: &Simulator, out: &Path) -> removebgvideo::batch::Batch {
    let client = removebgvideo::Client::builder("rbv_wrong_key").base_url(sim.base_url()).build().unwrap();
    removebgvideo::batch::Batch::new(client, out).poll_interval(Duration::from_millis(1), Duration::from_millis(4))
}

#[test]
fn a_wrong_key_stops_the_run_at_once_and_a_rerun_with_the_right_key_carries_on() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let mut items = url_items(5);
    items.extend(file_items(&dir.path().join("in"), 2));

    let stopped = wrong_key_batch(&sim, dir.path()).concurrency(1).run(items.clone()).unwrap_err();
    assert!(matches!(stopped, BatchError::Unauthorized(_)), "{stopped}");
    assert!(stopped.to_string().contains("check the API key"), "{stopped}");
    let refused = sim.requests().iter().filter(|r| r.method != "GET").count();
    assert!(refused <= 2, "stopped at the first 401, not tried item by item: {refused} requests");
    let journal = std::fs::read_to_string(journal(dir.path())).unwrap();
    assert!(!journal.contains("\"failed\""), "no item recorded as failed: {journal}");

    let report = batch(&sim, dir.path()).run(items).unwrap();
    assert!(report.all_succeeded(), "{report:#?}");
    assert_eq!(report.earlier_failures, 0);
    assert_eq!(sim.job_count(), 7);
}

#[cfg(all(unix, feature = "cli"))]
#[test]
fn the_command_exits_2_on_a_wrong_key_and_a_rerun_names_the_earlier_failures() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("list.jsonl");
    std::fs::write(
        &manifest,
        "{\"id\": \"good\", \"input\": \"https://videos.example/good.mp4\"}\n\
         {\"id\": \"bad\", \"input\": \"https://videos.example/simulate-failure.mp4\"}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let args = ["batch", "--manifest", manifest.to_str().unwrap(), "--out", out.to_str().unwrap()];

    let wrong = command(&sim, &args).env("REMOVEBGVIDEO_API_KEY", "rbv_wrong_key").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    assert!(text(&wrong.stderr).contains("check the API key"), "{}", text(&wrong.stderr));
    assert!(!text(&wrong.stderr).contains("rbv_wrong_key"), "the key stays out of messages");

    let first = command(&sim, &args).output().unwrap();
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stdout));
    assert!(!text(&first.stdout).contains("earlier run"), "{}", text(&first.stdout));
    let second = command(&sim, &args).output().unwrap();
    let stdout = text(&second.stdout);
    assert!(stdout.contains("1 item failed in an earlier run; --retry-failed retries it"), "{stdout}");
    assert_eq!(sim.job_count(), 2, "the failed item was not created again");
}
