//! Process a folder or a manifest of videos: bounded concurrency, one poller, a crash-safe
//! journal (kill it and run it again: it carries on), credit estimates and a budget, shards.
//!
//! ```text
//! cargo run --example batch                                   # offline: the sample video, against the simulator
//! cargo run --example batch -- videos/ --dry-run              # durations and credits, nothing sent
//! REMOVEBGVIDEO_API_KEY=... cargo run --example batch -- videos/ --model human --max-credits 500
//! cargo run --example batch -- --manifest list.jsonl --shard 0/4 --out out-0
//! ```
//!
//! A manifest line is `{"id": "intro", "input": "videos/intro.mp4", "model": "human", ...}`:
//! `input` is a file (relative to the manifest's folder) or an `http(s)` URL, `id` is optional
//! for files; `model`, `output_format`, `bg_type`, `text_prompt`, `webhook_url`, `bg_color`,
//! `background` (the docs' object, e.g. `{"type": "color", "color": "#00FF00"}`) and `metadata`
//! override the command line's options for that line.
//!
//! Without `REMOVEBGVIDEO_API_KEY` it runs against [`removebgvideo::simulator::Simulator`] on
//! 127.0.0.1 and says so on its first line; with it, `REMOVEBGVIDEO_BASE_URL` is honoured.
//! Ctrl-C stops it cleanly (the requests under way finish and are journaled, the report is
//! written); run it again to carry on. Exit status: 0 all succeeded, 1 some failed, are
//! uncertain or unfinished, 2 bad usage or configuration (including a budget the estimate is
//! above), 3 stopped for credits.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use removebgvideo::batch::{
    Batch, BatchError, BatchReport, Estimate, Event, Item, ItemStatus, JobOptions, Outcome, Shard,
};
use removebgvideo::client::API_KEY_ENV;
use removebgvideo::simulator::Simulator;
use removebgvideo::{BgType, Client, Model, OutputFormat};

const SAMPLE_VIDEO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4");
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mov", "m4v", "webm", "avi", "mkv"];

/// Remove the background of many videos, resumably.
#[derive(Debug, Parser)]
#[command(name = "batch")]
struct Args {
    /// Video files, or folders searched for videos (by extension).
    inputs: Vec<PathBuf>,
    /// A JSON-lines manifest: one {"id", "input", ...job options} per line.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Where outputs, the journal and the report go.
    #[arg(long, default_value = "./removebgvideo-out")]
    out: PathBuf,
    /// The journal (default <out>/journal.jsonl).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Uploads, creates and downloads at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// The model: original, light, pro or human.
    #[arg(long)]
    model: Option<String>,
    /// The output format: webm, mov, mp4, gif, webp or png_sequence.
    #[arg(long)]
    output_format: Option<String>,
    /// The background: transparent, green, white, black, blue or custom.
    #[arg(long)]
    bg_type: Option<String>,
    /// List the items with their durations and estimated credits; send nothing else.
    #[arg(long)]
    dry_run: bool,
    /// Retry the items the journal records as failed (a failed job costs a new one).
    #[arg(long)]
    retry_failed: bool,
    /// Create again the items whose create answer was lost and whose job cannot be found.
    #[arg(long)]
    recreate_uncertain: bool,
    /// Process only part I of N (from 0) of a stable split of the item ids, e.g. 0/4.
    #[arg(long)]
    shard: Option<Shard>,
    /// Refuse to start when the items still to create are estimated above this many credits.
    #[arg(long)]
    max_credits: Option<f64>,
}

/// A failure before the run: the message and the exit status.
struct Stop(String, u8);

impl From<BatchError> for Stop {
    fn from(error: BatchError) -> Self {
        let status = if matches!(error, BatchError::InvalidInput(_) | BatchError::OverBudget { .. }) { 2 } else { 1 };
        Stop(error.to_string(), status)
    }
}

impl From<removebgvideo::Error> for Stop {
    fn from(error: removebgvideo::Error) -> Self {
        let status = if matches!(error, removebgvideo::Error::Config(_)) { 2 } else { 1 };
        Stop(error.to_string(), status)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(status) => ExitCode::from(status),
        Err(Stop(message, status)) => {
            eprintln!("error: {message}");
            ExitCode::from(status)
        }
    }
}

fn run(args: &Args) -> Result<u8, Stop> {
    let (simulator, client) = connect()?;
    let mut items = items(args, simulator.is_some())?;
    if items.is_empty() {
        return Err(Stop("no videos found in the inputs given".into(), 2));
    }
    let defaults = job_options(args.model.as_deref(), args.output_format.as_deref(), args.bg_type.as_deref());
    let mut batch = Batch::new(client, &args.out)
        .concurrency(args.concurrency)
        .options(defaults)
        .retry_failed(args.retry_failed)
        .recreate_uncertain(args.recreate_uncertain);
    if let Some(journal) = &args.journal {
        batch = batch.journal(journal);
    }
    if let Some(shard) = args.shard {
        batch = batch.shard(shard);
    }
    if let Some(max) = args.max_credits {
        batch = batch.max_credits(max);
    }
    if simulator.is_some() {
        // The simulator's jobs finish in a poll or two: no need to wait 2 s before the first.
        batch = batch.poll_interval(Duration::from_millis(250), Duration::from_secs(1));
    }
    if args.dry_run {
        print_estimate(&batch.estimate(std::mem::take(&mut items))?);
        return Ok(0);
    }

    // Ctrl-C stops cleanly: the requests under way finish and are journaled, the report is
    // written; a second Ctrl-C quits at once (the journal is safe either way).
    let cancel = batch.cancel_handle();
    let on_interrupt = move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nstopping: the requests under way finish first (Ctrl-C again to quit at once)");
        cancel.cancel();
    };
    if let Err(error) = ctrlc::set_handler(on_interrupt) {
        eprintln!("note: Ctrl-C will stop the run abruptly ({error}); running again still carries on");
    }

    let total = items.len();
    let progress = Progress::new(total);
    let on_event = Arc::clone(&progress);
    let report = batch.on_event(move |event| on_event.show(event)).run(items)?;
    progress.finish();

    let report_path = args.out.join("report.jsonl");
    report.write_jsonl(&report_path)?;
    print_summary(&report, &report_path);
    Ok(exit_status(&report))
}

/// The real API when a key is set, the built-in simulator otherwise; the first line says which.
fn connect() -> Result<(Option<Simulator>, Client), Stop> {
    if std::env::var_os(API_KEY_ENV).is_some() {
        let client = Client::from_env()?;
        println!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url());
        return Ok((None, client));
    }
    let simulator = Simulator::builder()
        .polls_to_complete(2)
        .start()
        .map_err(|error| Stop(format!("could not start the simulator: {error}"), 1))?;
    println!("No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.", simulator.base_url());
    let client = simulator.client()?;
    Ok((Some(simulator), client))
}

/// The items of the inputs and the manifest, in order; the sample video when there are none
/// and the run is offline.
fn items(args: &Args, offline: bool) -> Result<Vec<Item>, Stop> {
    let mut items = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            items.extend(videos_in(input)?.into_iter().map(Item::file));
        } else if input.is_file() {
            items.push(Item::file(input));
        } else {
            return Err(Stop(format!("{} is neither a file nor a folder", input.display()), 2));
        }
    }
    if let Some(manifest) = &args.manifest {
        items.extend(read_manifest(manifest)?);
    }
    if items.is_empty() && args.inputs.is_empty() && args.manifest.is_none() && offline {
        println!("No inputs given: processing the sample video {SAMPLE_VIDEO}.");
        items.push(Item::file(SAMPLE_VIDEO));
    }
    Ok(items)
}

/// The videos under `folder`, recursively, sorted so that ids are the same on every run.
fn videos_in(folder: &Path) -> Result<Vec<PathBuf>, Stop> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| Stop(format!("could not read {}: {e}", dir.display()), 2))?;
        for entry in entries {
            let path = entry.map_err(|e| Stop(format!("could not read {}: {e}", dir.display()), 2))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| VIDEO_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// One manifest line.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestLine {
    id: Option<String>,
    input: String,
    model: Option<String>,
    output_format: Option<String>,
    bg_type: Option<String>,
    text_prompt: Option<String>,
    webhook_url: Option<String>,
    bg_color: Option<[f64; 3]>,
    background: Option<removebgvideo::Background>,
    metadata: Option<removebgvideo::models::Extra>,
}

fn read_manifest(path: &Path) -> Result<Vec<Item>, Stop> {
    let text = fs::read_to_string(path).map_err(|e| Stop(format!("could not read {}: {e}", path.display()), 2))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let bad = |reason: String| Stop(format!("{} line {}: {reason}", path.display(), number + 1), 2);
        let line: ManifestLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let mut options = job_options(line.model.as_deref(), line.output_format.as_deref(), line.bg_type.as_deref());
        if let Some(prompt) = line.text_prompt {
            options = options.text_prompt(prompt);
        }
        if let Some(url) = line.webhook_url {
            options = options.webhook_url(url);
        }
        if let Some(rgb) = line.bg_color {
            options = options.bg_color(rgb);
        }
        if let Some(background) = line.background {
            options = options.background(background);
        }
        if let Some(metadata) = line.metadata {
            options = options.metadata(metadata);
        }
        let item = if line.input.starts_with("http://") || line.input.starts_with("https://") {
            let id = line.id.ok_or_else(|| bad("a URL input needs an \"id\"".into()))?;
            Item::url(id, line.input)
        } else {
            let item = Item::file(base.join(&line.input));
            match line.id {
                Some(id) => item.id(id),
                None => item,
            }
        };
        items.push(item.options(options));
    }
    Ok(items)
}

fn job_options(model: Option<&str>, output_format: Option<&str>, bg_type: Option<&str>) -> JobOptions {
    let mut options = JobOptions::new();
    if let Some(model) = model {
        options = options.model(Model::from(model));
    }
    if let Some(format) = output_format {
        options = options.output_format(OutputFormat::from(format));
    }
    if let Some(bg_type) = bg_type {
        options = options.bg_type(BgType::from(bg_type));
    }
    options
}

/// One overall bar, and one line per job in flight.
struct Progress {
    bars: MultiProgress,
    overall: ProgressBar,
    jobs: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    fn new(total: usize) -> Arc<Self> {
        let bars = MultiProgress::new();
        let overall = bars.add(ProgressBar::new(total as u64)).with_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {elapsed} {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        overall.set_prefix("videos");
        Arc::new(Self { bars, overall, jobs: Mutex::new(HashMap::new()) })
    }

    fn show(&self, event: &Event) {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::Started { item } => {
                let line = self.bars.add(ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{prefix:>10} {spinner} {msg}").expect("the template is valid"),
                ));
                line.set_prefix(short(item));
                line.set_message("uploading");
                line.enable_steady_tick(Duration::from_millis(200));
                jobs.insert(item.clone(), line);
            }
            Event::CreateSent { item } => set(&jobs, item, "creating the job".into()),
            Event::Created { item, job_id } => set(&jobs, item, format!("{job_id} queued")),
            Event::Progress { item, job_id, status, progress } => {
                let percent = progress.map(|p| format!(" {:.0}%", p.clamp(0.0, 100.0))).unwrap_or_default();
                set(&jobs, item, format!("{job_id} {status}{percent}"));
            }
            Event::Finished { item, completed: true, .. } => set(&jobs, item, "downloading".into()),
            Event::Downloaded { item, .. }
            | Event::Failed { item, .. }
            | Event::Uncertain { item }
            | Event::NotStarted { item }
            | Event::Skipped { item } => {
                if let Some(line) = jobs.remove(item) {
                    line.finish_and_clear();
                    self.bars.remove(&line);
                }
                self.overall.inc(1);
            }
            _ => {}
        }
    }

    fn finish(&self) {
        for (_, line) in self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain() {
            line.finish_and_clear();
        }
        self.overall.finish();
    }
}

fn set(jobs: &HashMap<String, ProgressBar>, item: &str, message: String) {
    if let Some(line) = jobs.get(item) {
        line.set_message(message);
    }
}

fn short(id: &str) -> String {
    if id.chars().count() <= 10 {
        id.to_owned()
    } else {
        format!("{}…", id.chars().take(9).collect::<String>())
    }
}

fn print_estimate(estimate: &Estimate) {
    println!("{:<24} {:<8} {:>10} {:>10}  source", "item", "model", "duration", "credits");
    for item in &estimate.items {
        let duration = item.duration.map_or_else(|| "?".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
        let credits = item.credits.map_or_else(|| "?".to_owned(), |c| format!("{c:.2}"));
        let source = match item.source {
            removebgvideo::batch::Source::File(ref path) => path.display().to_string(),
            removebgvideo::batch::Source::Url(ref url) => url.split('?').next().unwrap_or_default().to_owned(),
            _ => String::new(),
        };
        println!("{:<24} {:<8} {duration:>10} {credits:>10}  {source}", item.id, item.model.as_str());
        if let Some(reason) = &item.unknown_reason {
            println!("{:<24} unknown: {reason}", "");
        }
    }
    println!();
    println!(
        "{} items, estimated {:.2} credits{}",
        estimate.items.len(),
        estimate.total_credits,
        match estimate.unknown_items {
            0 => String::new(),
            n => format!(", plus {n} items whose cost is unknown"),
        }
    );
}

fn print_summary(report: &BatchReport, report_path: &Path) {
    println!();
    match report.outcome {
        Outcome::StoppedForCredits => println!("stopped: the account is out of credits; top up and run again"),
        Outcome::Cancelled => println!("cancelled; run again to carry on"),
        _ => {}
    }
    for (status, label) in [
        (ItemStatus::Completed, "completed"),
        (ItemStatus::AlreadyCompleted, "already done"),
        (ItemStatus::Failed, "failed"),
        (ItemStatus::Uncertain, "uncertain"),
        (ItemStatus::NotStarted, "not started"),
        (ItemStatus::Unfinished, "unfinished"),
    ] {
        let count = report.count(status);
        if count > 0 {
            println!("  {label:<13} {count}");
        }
    }
    for item in report.items.iter().filter(|item| matches!(item.status, ItemStatus::Failed | ItemStatus::Uncertain)) {
        let error = item.error.as_ref();
        println!(
            "  {} {:?}: {} [{}{}]",
            item.item,
            item.status,
            error.map_or("", |e| e.message.as_str()),
            error.and_then(|e| e.code.as_deref()).unwrap_or("no code"),
            error.and_then(|e| e.request_id.as_deref()).map(|id| format!(", request {id}")).unwrap_or_default(),
        );
    }
    println!("report: {}", report_path.display());
}

fn exit_status(report: &BatchReport) -> u8 {
    match report.outcome {
        Outcome::StoppedForCredits => 3,
        _ if report.all_succeeded() => 0,
        _ => 1,
    }
}
