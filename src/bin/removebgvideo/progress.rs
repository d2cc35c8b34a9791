//! Progress bars on standard error (drawn only on a terminal, never with `--quiet`): one bar
//! for a single video that follows its stages, and for a batch one overall bar and a line per
//! job in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use removebgvideo::batch::Event;
use removebgvideo::client::{Stage, TransferProgress};

/// One video's bar: a stage at a time, in order, each moving only forward. Transfers show
/// bytes and rate, the job its percentage.
pub(crate) struct StageBar {
    bar: ProgressBar,
    /// The stage shown and the furthest position reached in it.
    at: Mutex<Option<(Stage, u64)>>,
}

impl StageBar {
    pub(crate) fn new() -> Self {
        let target = if crate::ui::quiet() { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar, at: Mutex::new(None) }
    }

    /// Shows where a stage is, unless it is a stage already left behind: the job's percentage,
    /// or the bytes moved.
    pub(crate) fn show(&self, stage: Stage, percent: Option<f64>, bytes: Option<TransferProgress>) {
        let mut at = self.at.lock().unwrap_or_else(PoisonError::into_inner);
        let position = match *at {
            Some((shown, _)) if stage < shown => return,
            Some((shown, position)) if stage == shown => position,
            _ => {
                self.bar.set_style(stage_style(stage));
                self.bar.set_message(stage.to_string());
                self.bar.set_length(if is_transfer(stage) { 0 } else { 100 });
                self.bar.reset();
                0
            }
        };
        let next = if let Some(bytes) = bytes {
            if let Some(total) = bytes.total {
                self.bar.set_length(total);
            }
            bytes.done
        } else if let Some(percent) = percent.filter(|p| p.is_finite()) {
            // A percentage from 0 to 100; anything else is shown at its nearest end.
            percent.clamp(0.0, 100.0).round() as u64
        } else {
            0
        };
        let position = position.max(next);
        self.bar.set_position(position);
        *at = Some((stage, position));
    }

    /// Prints `line` on standard error without breaking the bar (unless `--quiet`).
    pub(crate) fn note(&self, line: &str) {
        self.bar.suspend(|| crate::ui::note(line));
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn is_transfer(stage: Stage) -> bool {
    matches!(stage, Stage::Uploading | Stage::Downloading)
}

fn stage_style(stage: Stage) -> ProgressStyle {
    match stage {
        _ if is_transfer(stage) => {
            style("{msg:>22} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}").progress_chars("=> ")
        }
        Stage::Queued | Stage::Processing => style("{msg:>22} [{bar:40}] {pos:>3}% {elapsed}").progress_chars("=> "),
        _ => style("{msg:>22} {spinner}"),
    }
}

/// One overall bar, and one line per job in flight.
pub(crate) struct Progress {
    bars: MultiProgress,
    overall: ProgressBar,
    jobs: Mutex<HashMap<String, ProgressBar>>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress {
    pub(crate) fn new(total: u64) -> Arc<Self> {
        let target = if crate::ui::quiet() { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bars = MultiProgress::with_draw_target(target);
        let overall = bars.add(ProgressBar::new(total));
        overall.set_style(style("{prefix:>10} [{bar:40}] {pos}/{len} {elapsed} {msg}").progress_chars("=> "));
        overall.set_prefix("videos");
        Arc::new(Self { bars, overall, jobs: Mutex::new(HashMap::new()) })
    }

    pub(crate) fn show(&self, event: &Event) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Started { item } => {
                let line = self.bars.add(ProgressBar::new_spinner());
                line.set_style(style("{prefix:>10} {spinner} {msg}"));
                line.set_prefix(short(item));
                line.set_message("starting");
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

    pub(crate) fn finish(&self) {
        for (_, line) in self.jobs.lock().unwrap_or_else(PoisonError::into_inner).drain() {
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
