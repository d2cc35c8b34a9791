//! The batch library in a few lines: a folder of videos, a crash-safe journal, a budget, a
//! report. For the full command (progress bars, manifests, shards, a PostgreSQL queue shared by
//! many machines) install `removebgvideo --features cli` and run `removebgvideo batch`.
//!
//! ```text
//! cargo run --example batch                        # offline: the sample video, against the simulator
//! REMOVEBGVIDEO_API_KEY=... cargo run --example batch -- videos/
//! ```
//!
//! Kill it and run it again: the journal in `./removebgvideo-out` carries it on, with no job
//! created twice.

use std::path::PathBuf;
use std::time::Duration;

use removebgvideo::batch::{Batch, Event, Item, ItemStatus, JobOptions};
use removebgvideo::client::API_KEY_ENV;
use removebgvideo::simulator::Simulator;
use removebgvideo::{Client, Model};

const SAMPLE_VIDEO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The real API when a key is set, else the built-in simulator (kept alive until the end).
    let (_simulator, client) = if std::env::var_os(API_KEY_ENV).is_some() {
        (None, Client::from_env()?)
    } else {
        let simulator = Simulator::builder().polls_to_complete(2).start()?;
        println!("No {API_KEY_ENV} set: running offline against the simulator at {}.", simulator.base_url());
        let client = simulator.client()?;
        (Some(simulator), client)
    };

    let mut items = Vec::new();
    for folder in std::env::args_os().skip(1).map(PathBuf::from) {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "mp4" || ext == "mov") {
                items.push(Item::file(path));
            }
        }
    }
    if items.is_empty() {
        items.push(Item::file(SAMPLE_VIDEO));
    }

    let batch = Batch::new(client, "removebgvideo-out")
        .concurrency(4)
        .options(JobOptions::new().model(Model::Human))
        .max_credits(500.0)
        .poll_interval(Duration::from_millis(500), Duration::from_secs(10))
        .on_event(|event| {
            if let Event::Downloaded { item, path, .. } = event {
                println!("{item}: {}", path.display());
            }
        });
    println!("{:.1} credits estimated", batch.estimate(items.clone())?.total_credits);
    let report = batch.run(items)?;
    report.write_jsonl("removebgvideo-out/report.jsonl")?;
    println!(
        "{} completed, {} already done, {} failed",
        report.count(ItemStatus::Completed),
        report.count(ItemStatus::AlreadyCompleted),
        report.count(ItemStatus::Failed)
    );
    Ok(())
}
