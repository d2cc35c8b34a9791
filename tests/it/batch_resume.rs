//! A run stopped at each journal step in turn, then resumed: exactly one job per item and one
//! output per item, whatever the step. "Stopped" is a cancel as the k-th journal line is
//! written (the requests under way finish and are journaled), optionally followed by losing
//! the last journal line and leaving a torn half line, which is what a `kill -9` between a
//! request and its journal line looks like.

use crate::support::batch as batch_support;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use batch_support::*;
use removebgvideo::batch::{Event, Item, ItemStatus};

fn items(dir: &std::path::Path) -> Vec<Item> {
    let mut items = file_items(&dir.join("in"), 1);
    items.push(Item::url("remote", "https://videos.example/remote.mp4"));
    items
}

/// Whether an event follows a journal line.
fn journaled(event: &Event) -> bool {
    matches!(
        event,
        Event::Uploaded { .. }
            | Event::CreateSent { .. }
            | Event::Created { .. }
            | Event::Finished { .. }
            | Event::Downloaded { .. }
            | Event::Failed { .. }
    )
}

fn journal_lines(out: &std::path::Path) -> usize {
    std::fs::read_to_string(journal(out)).unwrap_or_default().lines().count()
}

#[test]
fn a_run_stopped_at_any_journal_step_resumes_to_one_job_and_one_output_per_item() {
    // A full run, to count the steps.
    let steps = {
        let sim = simulator();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        assert!(batch(&sim, &out).run(items(dir.path())).unwrap().all_succeeded());
        journal_lines(&out)
    };
    assert_eq!(steps, 9, "upload, create sent, created, finished, downloaded for the file; four for the URL");

    for k in 1..=steps {
        for lose_last_line in [false, true] {
            let sim = simulator();
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let first = batch(&sim, &out).concurrency(2);
            let cancel = first.cancel_handle();
            let seen = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&seen);
            let stopped = first
                .on_event(move |event| {
                    if journaled(event) && counter.fetch_add(1, Ordering::SeqCst) + 1 == k {
                        cancel.cancel();
                    }
                })
                .run(items(dir.path()))
                .unwrap();
            assert!(journal_lines(&out) >= k, "step {k}: the journal holds the steps seen");
            if lose_last_line {
                let text = std::fs::read_to_string(journal(&out)).unwrap();
                let kept: Vec<&str> = text.lines().collect();
                let kept = kept[..kept.len() - 1].join("\n");
                let mut torn = if kept.is_empty() { String::new() } else { format!("{kept}\n") };
                torn.push_str(r#"{"item":"remote","event":"crea"#);
                std::fs::write(journal(&out), torn).unwrap();
            }

            let resumed = batch(&sim, &out).run(items(dir.path())).unwrap();

            let context = format!("step {k}, last line lost: {lose_last_line}, first run: {stopped:?}");
            assert!(resumed.all_succeeded(), "{context}\n{resumed:#?}");
            assert_eq!(sim.job_count(), 2, "{context}");
            let outputs = outputs(&out);
            assert_eq!(outputs.keys().collect::<Vec<_>>(), ["f000.webm", "remote.webm"], "{context}");
            assert!(outputs.values().all(|size| *size == OUTPUT_SIZE as u64), "{context}");
            assert!(!files(&out).keys().any(|name| name.ends_with(".part")), "{context}");
            assert!(resumed.items.iter().all(|item| item.status != ItemStatus::Uncertain), "{context}");
        }
    }
}

#[test]
fn a_create_sent_line_with_no_request_behind_it_is_uncertain_not_created() {
    // The process died after writing `create_sent` and before the request left.
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut file = OpenOptions::new().create(true).append(true).open(journal(&out)).unwrap();
    writeln!(
        file,
        r#"{{"item":"u000","event":"create_sent","attempt":1,"video_url":"https://videos.example/0.mp4","at":1}}"#
    )
    .unwrap();
    drop(file);

    let report = batch(&sim, &out).run(url_items(1)).unwrap();
    assert_eq!(report.items[0].status, ItemStatus::Uncertain);
    assert_eq!(creates_sent(&sim), 0);

    let report = batch(&sim, &out).recreate_uncertain(true).run(url_items(1)).unwrap();
    assert!(report.all_succeeded());
    assert_eq!(sim.job_count(), 1);
    let body: serde_json::Value = serde_json::from_slice(
        &sim.requests().iter().find(|r| r.method == "POST" && r.path == "/v1/jobs").unwrap().body,
    )
    .unwrap();
    assert_eq!(body["metadata"]["removebgvideo_batch_item"], "u000");
    assert_eq!(body["metadata"]["removebgvideo_batch_attempt"], 2, "a new attempt number");
}
