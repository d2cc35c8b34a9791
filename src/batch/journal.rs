//! The journal: one JSON line per step of each item, appended, flushed and synced before the
//! batch acts on it; read back on the next run to carry on where the last one stopped.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::error::{journal_error, BatchError};
use super::report::{ItemError, Stage};

/// One step of one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Step {
    /// The file was uploaded; the job will be created from this URL.
    Uploaded { video_url: String },
    /// The create request is about to be sent (written before it goes).
    CreateSent { attempt: u32, video_url: String, at: u64 },
    /// The create was answered with this job.
    Created { job_id: String },
    /// The create was answered with an error: the server made no job.
    CreateRefused { status: u16, code: Option<String> },
    /// The job reached a terminal status.
    Finished {
        job_id: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The output is on disk, complete, at `path`.
    Downloaded { path: PathBuf, size: u64 },
    /// The item failed at `stage` (`upload`, `create`, `poll`, `download`).
    Failed {
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

#[derive(Serialize, Deserialize)]
struct Line {
    item: String,
    #[serde(flatten)]
    step: Step,
}

/// What the journal says about one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ItemState {
    pub(crate) video_url: Option<String>,
    /// How many creates were sent (the attempt number of the last one).
    pub(crate) attempts: u32,
    /// A create was sent and neither its job nor a refusal was recorded.
    pub(crate) open_create: Option<OpenCreate>,
    pub(crate) job_id: Option<String>,
    /// Every job id ever recorded for the item.
    pub(crate) job_ids: Vec<String>,
    /// The job's terminal status: `Some(true)` completed, `Some(false)` failed.
    pub(crate) finished: Option<Finished>,
    pub(crate) downloaded: Option<(PathBuf, u64)>,
    pub(crate) failed: Option<ItemError>,
}

/// A create whose answer was never recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenCreate {
    pub(crate) attempt: u32,
    pub(crate) video_url: String,
    pub(crate) at: u64,
}

/// A job's end as recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finished {
    pub(crate) completed: bool,
    pub(crate) error: Option<String>,
}

impl ItemState {
    fn apply(&mut self, step: Step) {
        match step {
            Step::Uploaded { video_url } => {
                self.video_url = Some(video_url);
                self.failed = None;
            }
            Step::CreateSent { attempt, video_url, at } => {
                self.attempts = self.attempts.max(attempt);
                self.open_create = Some(OpenCreate { attempt, video_url, at });
                self.job_id = None;
                self.finished = None;
                self.downloaded = None;
                self.failed = None;
            }
            Step::Created { job_id } => {
                self.open_create = None;
                self.job_ids.push(job_id.clone());
                self.job_id = Some(job_id);
            }
            Step::CreateRefused { .. } => self.open_create = None,
            Step::Finished { job_id, status, error, .. } => {
                self.job_id = Some(job_id);
                self.finished = Some(Finished { completed: status == "completed", error });
            }
            Step::Downloaded { path, size } => {
                self.downloaded = Some((path, size));
                self.failed = None;
            }
            Step::Failed { stage, status, code, message, request_id } => {
                self.open_create = None;
                let code = code.map(|code| crate::models::ErrorCode::from(code.as_str()));
                self.failed = Some(ItemError { stage, status, code, message, request_id });
            }
        }
    }
}

/// How every journal line starts (the item comes first).
const LINE_START: &[u8] = b"{\"item\":";

/// The journal file, open for appending, and the lock that makes it this run's alone.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    _lock: Holder,
}

/// The exclusive lock on a journal: an advisory lock (`flock` on unix) on the file beside it,
/// `<journal>.lock`, which also names its holder (process id and host) for the error a second
/// run gets. The operating system drops the lock when the process ends, however it ends
/// (`kill -9` included), so a lock is never stale; the file's stale text is rewritten by the
/// next holder.
#[derive(Debug)]
pub(crate) struct Holder {
    _file: File,
}

impl Holder {
    fn take(journal: &Path, wait: bool) -> Result<Holder, BatchError> {
        let mut name = journal.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = open_no_follow(OpenOptions::new().read(true).write(true).create(true), &path)
            .map_err(|e| journal_error(journal, format!("could not open its lock file {}", path.display()), Some(e)))?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = (&file).take(200).read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() { "another run".to_owned() } else { holder.to_owned() };
                if !wait {
                    return Err(BatchError::JournalLocked { path: journal.to_owned(), holder });
                }
                fs4::FileExt::lock(&file)
                    .map_err(|e| journal_error(journal, "could not wait for its lock", Some(e)))?;
            }
            Err(fs4::TryLockError::Error(e)) => {
                return Err(journal_error(journal, "could not lock it", Some(e)));
            }
        }
        let holder = format!("process {} on {}\n", std::process::id(), hostname());
        file.set_len(0).and_then(|()| file.write_all(holder.as_bytes())).map_err(|e| {
            journal_error(journal, format!("could not write its lock file {}", path.display()), Some(e))
        })?;
        Ok(Holder { _file: file })
    }
}

/// This machine's name, as far as it can be told (for messages that name a holder).
pub(crate) fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_owned()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "an unnamed host".to_owned())
}

/// Opens `path` with `options`, never through a symlink at `path` itself (unix: `O_NOFOLLOW`).
pub(crate) fn open_no_follow(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    {
        if fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "it is a symlink"));
        }
    }
    options.open(path)
}

impl Journal {
    /// Opens (or creates) the journal at `path`, holding it exclusively (see [`Holder`]), and
    /// reads what it holds. A last line without its newline is a write the previous run did
    /// not finish: it is cut off and ignored, once every complete line has been read as a
    /// journal line (a file that is not a journal is refused before a byte of it changes).
    ///
    /// Any other line that cannot be read is an error: the batch would otherwise forget a step.
    pub(crate) fn open(path: &Path, wait_for_lock: bool) -> Result<(Journal, HashMap<String, ItemState>), BatchError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| journal_error(path, "could not create its folder", Some(e)))?;
        }
        let lock = Holder::take(path, wait_for_lock)?;
        let existed = path.exists();
        let mut file = open_no_follow(OpenOptions::new().read(true).append(true).create(true), path)
            .map_err(|e| journal_error(path, "could not open it (a symlink is not followed)", Some(e)))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(|e| journal_error(path, "could not read it", Some(e)))?;
        let complete = text.iter().rposition(|byte| *byte == b'\n').map_or(0, |last| last + 1);
        let mut states: HashMap<String, ItemState> = HashMap::new();
        for (number, line) in text[..complete].split(|byte| *byte == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line: Line = serde_json::from_slice(line).map_err(|e| {
                journal_error(
                    path,
                    format!(
                        "line {} is not a journal line ({e}); was the file edited, or is it not a journal?",
                        number + 1
                    ),
                    None,
                )
            })?;
            states.entry(line.item).or_default().apply(line.step);
        }
        if complete < text.len() {
            // Every line is written whole, starting so: anything else is not a torn journal line.
            if !text[complete..].starts_with(LINE_START) {
                return Err(journal_error(
                    path,
                    "its last line is not a journal line; was the file edited, or is it not a journal?",
                    None,
                ));
            }
            file.set_len(complete as u64)
                .map_err(|e| journal_error(path, "could not cut off a torn last line", Some(e)))?;
            file.sync_data().map_err(|e| journal_error(path, "could not sync it", Some(e)))?;
        }
        if !existed {
            sync_folder(path);
        }
        Ok((Journal { path: path.to_owned(), file: Mutex::new(file), _lock: lock }, states))
    }

    /// Appends one step and syncs it to disk before returning.
    pub(crate) fn record(&self, item: &str, step: Step) -> Result<(), BatchError> {
        let mut line = serde_json::to_vec(&Line { item: item.to_owned(), step })
            .map_err(|e| journal_error(&self.path, format!("could not encode a line: {e}"), None))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line)
            .and_then(|()| file.flush())
            .and_then(|()| file.sync_data())
            .map_err(|e| journal_error(&self.path, "could not append to it", Some(e)))
    }
}

/// Makes a new file's name durable: sync its folder (where the platform allows opening one).
pub(crate) fn sync_folder(path: &Path) {
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
        if let Ok(folder) = File::open(parent) {
            let _ = folder.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_and_a_torn_last_line_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/journal.jsonl");
        let (journal, states) = Journal::open(&path, false).unwrap();
        assert!(states.is_empty());
        journal.record("a", Step::Uploaded { video_url: "https://u/1".into() }).unwrap();
        journal.record("a", Step::CreateSent { attempt: 1, video_url: "https://u/1".into(), at: 5 }).unwrap();
        journal.record("b", Step::Uploaded { video_url: "https://u/2".into() }).unwrap();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"item":"a","event":"crea"#).unwrap();
        drop(file);

        let (journal, states) = Journal::open(&path, false).unwrap();
        let a = &states["a"];
        assert_eq!(a.open_create, Some(OpenCreate { attempt: 1, video_url: "https://u/1".into(), at: 5 }));
        assert_eq!(states["b"].video_url.as_deref(), Some("https://u/2"));
        journal.record("a", Step::Created { job_id: "job_1".into() }).unwrap();
        drop(journal);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\"job_id\":\"job_1\"}\n"), "{text}");
        assert_eq!(text.lines().count(), 4);
        let (_, states) = Journal::open(&path, false).unwrap();
        assert_eq!(states["a"].job_id.as_deref(), Some("job_1"));
        assert_eq!(states["a"].open_create, None);
    }

    #[test]
    fn a_corrupt_complete_line_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        fs::write(&path, "{\"item\":\"a\",\"event\":\"created\",\"job_id\":\"j\"}\nnot json\n").unwrap();
        let err = Journal::open(&path, false).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
