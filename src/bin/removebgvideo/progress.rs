//! Progress bars on standard error (drawn only on a terminal): one overall bar for a batch and
//! a line per job in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use removebgvideo::batch::Event;

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
        let bars = MultiProgress::new();
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
