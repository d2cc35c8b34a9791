//! [`Item`] and [`JobOptions`]: what a batch processes, and how each video is processed.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{invalid, BatchError};
use crate::client::download::without_query;
use crate::models::settings::{job_settings_setters, JobSettings};
use crate::models::{CreateJob, Extra, Model};

/// The longest item id accepted, in bytes (ids become file names).
const MAX_ID_LEN: usize = 200;

/// The metadata key that carries the item id on every job a batch creates, so a create whose
/// answer was lost can be found again in the account's jobs.
pub(crate) const ITEM_MARKER: &str = "removebgvideo_batch_item";
/// The metadata key that carries the attempt number beside [`ITEM_MARKER`].
pub(crate) const ATTEMPT_MARKER: &str = "removebgvideo_batch_attempt";

/// Where an item's video comes from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A local file, uploaded first.
    File(PathBuf),
    /// A URL the service fetches itself; nothing is uploaded.
    Url(String),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => f.debug_tuple("File").field(path).finish(),
            // A pre-signed input URL's query is a credential.
            Source::Url(url) => f.debug_tuple("Url").field(&without_query(url)).finish(),
        }
    }
}

/// One video of a batch: a local file or a URL, an id, and its job options.
///
/// The id names the output (`<id>.<ext>`) and the item in the journal and the report. A file's
/// id defaults to its file name without the extension; when two items would share one, the
/// later ones (in the order given) get `-2`, `-3`, … so the ids are the same on every run of
/// the same list.
///
/// ```
/// use removebgvideo::batch::{Item, JobOptions};
/// use removebgvideo::Model;
///
/// let a = Item::file("videos/intro.mp4"); // id "intro"
/// let b = Item::url("promo", "https://cdn.example.com/promo.mp4").options(JobOptions::new().model(Model::Human));
/// # let _ = (a, b);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Item {
    pub(crate) id: Option<String>,
    pub(crate) source: Source,
    pub(crate) options: JobOptions,
}

impl Item {
    /// A local video file, uploaded before its job is created.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self { id: None, source: Source::File(path.into()), options: JobOptions::default() }
    }

    /// A video the service fetches from `url`, under the id `id`.
    pub fn url(id: impl Into<String>, url: impl Into<String>) -> Self {
        Self { id: Some(id.into()), source: Source::Url(url.into()), options: JobOptions::default() }
    }

    /// Sets the id (for a file, instead of its file name).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Options for this item; each one set here wins over the batch's defaults
    /// ([`Batch::options`](super::Batch::options)).
    pub fn options(mut self, options: JobOptions) -> Self {
        self.options = options;
        self
    }

    /// Where the video comes from.
    #[must_use]
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The id given with [`Item::url`] or [`Item::id`]; a file without one gets its id when the
    /// batch runs.
    #[must_use]
    pub fn given_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// The job options of an item or of a whole batch. Each option left unset falls back to the
/// batch's, then to [`CreateJob`]'s default.
///
/// ```
/// use removebgvideo::batch::JobOptions;
/// use removebgvideo::{BgType, Model, OutputFormat};
///
/// let options = JobOptions::new().model(Model::Human).bg_type(BgType::Transparent).output_format(OutputFormat::Webm);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct JobOptions {
    pub(crate) settings: JobSettings,
    pub(crate) metadata: Option<Extra>,
}

impl JobOptions {
    /// No option set.
    pub fn new() -> Self {
        Self::default()
    }

    job_settings_setters!();

    /// Your own data, stored with the job. The batch adds two keys of its own,
    /// `removebgvideo_batch_item` and `removebgvideo_batch_attempt`, to find a job whose
    /// create answer was lost.
    pub fn metadata(mut self, metadata: Extra) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The model these options give (the default when unset).
    #[must_use]
    pub fn effective_model(&self) -> Model {
        self.settings.model.clone().unwrap_or_default()
    }

    /// These options, with each unset one taken from `defaults`. The background is one choice:
    /// an item that sets either form (the `background` object, or `bg_type`/`bg_color`) takes
    /// none of the other form from `defaults`, so the two never meet in one request.
    pub(crate) fn or(&self, defaults: &JobOptions) -> JobOptions {
        let (own, defaults_own) = (&self.settings, &defaults.settings);
        let own_object = own.background.is_some();
        let own_flat = own.bg_type.is_some() || own.bg_color.is_some();
        let settings = JobSettings {
            model: own.model.clone().or_else(|| defaults_own.model.clone()),
            output_format: own.output_format.clone().or_else(|| defaults_own.output_format.clone()),
            bg_type: own.bg_type.clone().or_else(|| defaults_own.bg_type.clone().filter(|_| !own_object)),
            text_prompt: own.text_prompt.clone().or_else(|| defaults_own.text_prompt.clone()),
            webhook_url: own.webhook_url.clone().or_else(|| defaults_own.webhook_url.clone()),
            bg_color: own.bg_color.or(defaults_own.bg_color.filter(|_| !own_object)),
            background: own.background.clone().or_else(|| defaults_own.background.clone().filter(|_| !own_flat)),
        };
        JobOptions { settings, metadata: self.metadata.clone().or_else(|| defaults.metadata.clone()) }
    }

    /// The create request for `video_url`, marked with the item id and attempt.
    pub(crate) fn create_job(&self, video_url: &str, item_id: &str, attempt: u32) -> CreateJob {
        let mut request = CreateJob::new(video_url);
        request.settings = self.settings.clone();
        let mut metadata = self.metadata.clone().unwrap_or_default();
        metadata.insert(ITEM_MARKER.to_owned(), Value::from(item_id));
        metadata.insert(ATTEMPT_MARKER.to_owned(), Value::from(attempt));
        request.metadata(metadata)
    }
}

/// An item with its final id and options.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) id: String,
    pub(crate) source: Source,
    pub(crate) options: JobOptions,
}

/// Gives every item its id (explicit ids first, then file names made unique in the order
/// given) and its options merged with the batch's.
pub(crate) fn resolve(items: Vec<Item>, defaults: &JobOptions) -> Result<Vec<Planned>, BatchError> {
    let mut taken = HashSet::new();
    for item in &items {
        if let Some(id) = &item.id {
            check_id(id)?;
            if !taken.insert(id.clone()) {
                return Err(invalid("item", format!("two items have the id {id:?}; ids must be unique")));
            }
        }
        match &item.source {
            Source::Url(url) if url.trim().is_empty() => {
                return Err(invalid(
                    "item",
                    format!("item {:?} has an empty URL", item.id.as_deref().unwrap_or_default()),
                ))
            }
            Source::File(path) if path.as_os_str().is_empty() => {
                return Err(invalid("item", "an item has an empty file path"))
            }
            _ => {}
        }
    }
    let mut planned = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.id {
            Some(id) => id,
            None => {
                let Source::File(path) = &item.source else {
                    return Err(invalid("item", "a URL item needs an id"));
                };
                let base = file_id(path)?;
                let mut candidate = base.clone();
                let mut n = 2u64;
                while taken.contains(&candidate) {
                    candidate = format!("{base}-{n}");
                    n += 1;
                }
                taken.insert(candidate.clone());
                candidate
            }
        };
        planned.push(Planned { id, source: item.source, options: item.options.or(defaults) });
    }
    Ok(planned)
}

/// A file's default id: its name without the extension.
fn file_id(path: &Path) -> Result<String, BatchError> {
    let stem = path
        .file_stem()
        .ok_or_else(|| invalid("item", format!("{} has no file name to take an id from", path.display())))?;
    let stem = stem.to_str().ok_or_else(|| {
        invalid("item", format!("the file name of {} is not UTF-8; give the item an id with Item::id", path.display()))
    })?;
    check_id(stem)?;
    Ok(stem.to_owned())
}

/// An id becomes a file name: refuse what cannot be one safely.
fn check_id(id: &str) -> Result<(), BatchError> {
    let problem = if id.trim().is_empty() {
        Some("is empty")
    } else if id.len() > MAX_ID_LEN {
        Some("is longer than 200 bytes")
    } else if id == "." || id == ".." {
        Some("is not a file name")
    } else if id.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if id.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(invalid("item id", format!("the item id {id:?} {problem}; ids name the output files"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Background, BgType, OutputFormat};

    fn ids(items: Vec<Item>) -> Vec<String> {
        resolve(items, &JobOptions::default()).unwrap().into_iter().map(|p| p.id).collect()
    }

    #[test]
    fn an_items_background_choice_never_meets_the_batchs_other_form() {
        let batch = JobOptions::new().bg_type(BgType::Green).bg_color([0.0, 1.0, 0.0]);
        let item = JobOptions::new().background(Background::Transparent);
        let merged = item.or(&batch);
        assert_eq!(merged.settings.background, Some(Background::Transparent));
        assert_eq!((merged.settings.bg_type, merged.settings.bg_color), (None, None));
        let request = item.or(&batch).create_job("https://videos.example/a.mp4", "a", 1);
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(body["background"], serde_json::json!({"type": "transparent"}));
        assert!(body.get("bg_type").is_none() && body.get("bg_color").is_none(), "{body}");

        let batch = JobOptions::new().background(Background::hex("#00FF00"));
        let merged = JobOptions::new().bg_type(BgType::Blue).or(&batch);
        assert_eq!((merged.settings.bg_type, merged.settings.background), (Some(BgType::Blue), None));
        let merged = JobOptions::new().model(Model::Human).or(&batch);
        assert_eq!(merged.settings.background, Some(Background::hex("#00FF00")));
    }

    #[test]
    fn file_ids_are_stems_made_unique_in_order() {
        let got = ids(vec![
            Item::file("a/intro.mp4"),
            Item::file("b/intro.mov"),
            Item::url("intro-3", "https://x/y.mp4"),
            Item::file("c/intro.webm"),
        ]);
        assert_eq!(got, ["intro", "intro-2", "intro-3", "intro-4"]);
    }

    #[test]
    fn duplicate_explicit_ids_and_unsafe_ids_are_refused() {
        let dup = resolve(vec![Item::url("a", "https://x/1"), Item::url("a", "https://x/2")], &JobOptions::new());
        assert!(matches!(dup, Err(BatchError::InvalidInput { reason: m, .. }) if m.contains("\"a\"")));
        for bad in ["", "..", "a/b", "a\\b", "a\nb", &"x".repeat(201)] {
            let got = resolve(vec![Item::url(bad, "https://x/1")], &JobOptions::new());
            assert!(matches!(got, Err(BatchError::InvalidInput { .. })), "{bad:?}");
        }
    }

    #[test]
    fn item_options_win_over_batch_defaults() {
        let defaults = JobOptions::new().model(Model::Light).output_format(OutputFormat::Mov);
        let planned =
            resolve(vec![Item::url("a", "https://x/1").options(JobOptions::new().model(Model::Pro))], &defaults)
                .unwrap();
        assert_eq!(planned[0].options.settings.model, Some(Model::Pro));
        assert_eq!(planned[0].options.settings.output_format, Some(OutputFormat::Mov));
    }

    #[test]
    fn a_signed_url_query_stays_out_of_debug() {
        let item = Item::url("a", "https://cdn.example.com/in.mp4?X-Amz-Signature=secret");
        assert!(!format!("{item:?}").contains("secret"));
    }
}
