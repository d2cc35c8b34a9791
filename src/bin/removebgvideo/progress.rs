//! Progress on standard error, never with `--quiet`: on a terminal, one bar for a single video
//! that follows its stages, and for a batch one overall bar and a line per job in flight; off a
//! terminal (a log, CI, a pipe), where bars are not drawn, a batch prints one plain line when an
//! item's job is created and one when the item ends.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use removebgvideo::batch::Event;
use removebgvideo::client::process::Stage;
use removebgvideo::client::TransferProgress;
use removebgvideo::JobStatus;

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
        self.show_at(stage, percent, bytes.map(|bytes| (bytes.done, bytes.total)));
    }

    /// [`show`](Self::show) with the bytes moved and their total, if known.
    fn show_at(&self, stage: Stage, percent: Option<f64>, bytes: Option<(u64, Option<u64>)>) {
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
        let next = if let Some((done, total)) = bytes {
            if let Some(total) = total {
                self.bar.set_length(total);
            }
            done
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
    jobs: Mutex<HashMap<String, Line>>,
    /// Plain lines instead of bars: standard error is not a terminal and `--quiet` is off.
    plain: bool,
}

/// One item's line: its stage and percentage only move forward, in the words of `run`'s bar.
struct Line {
    bar: ProgressBar,
    stage: Option<Stage>,
    percent: u64,
}

impl Line {
    fn advance(&mut self, job_id: &str, stage: Stage, percent: Option<f64>) {
        if Some(stage) < self.stage {
            return;
        }
        if Some(stage) > self.stage {
            self.stage = Some(stage);
            self.percent = 0;
        }
        if let Some(percent) = percent.filter(|p| p.is_finite()) {
            self.percent = self.percent.max(percent.clamp(0.0, 100.0).round() as u64);
        }
        let percent = if stage == Stage::Processing { format!(" {}%", self.percent) } else { String::new() };
        self.bar.set_message(format!("{job_id} {stage}{percent}").trim_start().to_owned());
    }
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
        let plain = !crate::ui::quiet() && !std::io::stderr().is_terminal();
        Arc::new(Self { bars, overall, jobs: Mutex::new(HashMap::new()), plain })
    }

    pub(crate) fn show(&self, event: &Event) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if self.plain {
            // Under the lock, so that lines from items in flight never interleave.
            if let Some(line) = plain_line(event) {
                eprintln!("{line}");
            }
        }
        let mut advance = |item: &str, job_id: &str, stage, percent| {
            if let Some(line) = jobs.get_mut(item) {
                line.advance(job_id, stage, percent);
            }
        };
        match event {
            Event::Started { item } => {
                let bar = self.bars.add(ProgressBar::new_spinner());
                bar.set_style(style("{prefix:>10} {spinner} {msg}"));
                bar.set_prefix(short(item));
                bar.set_message("starting");
                bar.enable_steady_tick(Duration::from_millis(200));
                jobs.insert(item.clone(), Line { bar, stage: None, percent: 0 });
            }
            Event::CreateSent { item } => advance(item, "", Stage::Creating, None),
            Event::Created { item, job_id } => advance(item, job_id, Stage::Queued, None),
            Event::Progress { item, job_id, status, progress } => {
                let stage = if matches!(status, JobStatus::Pending | JobStatus::Created) {
                    Stage::Queued
                } else {
                    Stage::Processing
                };
                advance(item, job_id, stage, *progress);
            }
            Event::Finished { item, job_id, completed: true } => advance(item, job_id, Stage::Downloading, None),
            Event::Downloaded { item, .. }
            | Event::Failed { item, .. }
            | Event::Uncertain { item }
            | Event::NotStarted { item }
            | Event::Skipped { item } => {
                if let Some(line) = jobs.remove(item) {
                    line.bar.finish_and_clear();
                    self.bars.remove(&line.bar);
                }
                self.overall.inc(1);
            }
            _ => {}
        }
    }

    pub(crate) fn finish(&self) {
        for (_, line) in self.jobs.lock().unwrap_or_else(PoisonError::into_inner).drain() {
            line.bar.finish_and_clear();
        }
        self.overall.finish();
    }
}

/// The line a log gets for `event`: a created job and how an item ended; the steps between are
/// in the journal.
fn plain_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Created { item, job_id } => format!("{item}: job {job_id} created"),
        Event::Downloaded { item, path, .. } => format!("{item}: done, {}", path.display()),
        Event::Failed { item, error } => format!("{item}: failed ({}): {}", error.stage, error.message),
        Event::Uncertain { item } => format!("{item}: uncertain (the create's answer was lost and no job was found)"),
        Event::NotStarted { item } => format!("{item}: not started"),
        _ => return None,
    })
}

fn short(id: &str) -> String {
    if id.chars().count() <= 10 {
        id.to_owned()
    } else {
        format!("{}…", id.chars().take(9).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_bar_never_goes_back() {
        let shown = StageBar { bar: ProgressBar::hidden(), at: Mutex::new(None) };
        let at = |stage: Stage, position: u64| {
            assert_eq!((shown.bar.message(), shown.bar.position()), (stage.to_string(), position));
        };
        shown.show_at(Stage::Uploading, None, Some((50, Some(100))));
        // A retried upload starts again from 0: the bar stays where it was.
        shown.show_at(Stage::Uploading, None, Some((10, Some(100))));
        at(Stage::Uploading, 50);
        shown.show_at(Stage::Processing, Some(66.0), None);
        shown.show_at(Stage::Queued, Some(0.0), None);
        shown.show_at(Stage::Processing, Some(33.0), None);
        at(Stage::Processing, 66);
        shown.show_at(Stage::Downloading, None, Some((5, Some(100))));
        at(Stage::Downloading, 5);
        assert_eq!(shown.bar.length(), Some(100));
        shown.show_at(Stage::Processing, Some(100.0), None);
        at(Stage::Downloading, 5);
    }

    #[test]
    fn a_batch_line_never_goes_back() {
        let mut line = Line { bar: ProgressBar::hidden(), stage: None, percent: 0 };
        line.advance("job_1", Stage::Processing, Some(66.0));
        line.advance("job_1", Stage::Queued, Some(66.0));
        line.advance("job_1", Stage::Processing, Some(5.0));
        assert_eq!(line.bar.message(), "job_1 processing 66%");
        line.advance("job_1", Stage::Downloading, None);
        assert_eq!(line.bar.message(), "job_1 downloading the output");
    }
}
