//! What a batch processes: files, folders searched for videos, and JSON-lines manifests.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use removebgvideo::batch::{Item, JobOptions};
use removebgvideo::{BgType, Model, OutputFormat};

use crate::failure::Failure;
use crate::flags::ApplyText;

/// The file extensions a folder is searched for.
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mov", "m4v", "webm", "avi", "mkv"];

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

/// The items of `inputs` (files, or folders searched for videos), in order. A file reached
/// twice (named twice, or through two links) is one item: the first path that reaches it.
pub(crate) fn input_items(inputs: &[PathBuf]) -> Result<Vec<Item>, Failure> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |path: PathBuf| {
        let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(real) {
            items.push(Item::file(path));
        }
    };
    for input in inputs {
        if input.is_dir() {
            videos_in(input)?.into_iter().for_each(&mut add);
        } else if input.is_file() {
            add(input.clone());
        } else {
            return Err(Failure::usage(format!("{} is neither a file nor a folder", input.display())));
        }
    }
    Ok(items)
}

/// The videos under `folder`, recursively, sorted so that ids are the same on every run. A
/// symlink to a folder is not followed (one `ln -s . again` would repeat every video, and a
/// loop never end); a symlink to a video file is a video.
fn videos_in(folder: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(dir) = pending.pop() {
        let unreadable = |e: std::io::Error| Failure::usage(format!("could not read {}: {e}", dir.display()));
        for entry in fs::read_dir(&dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let path = entry.path();
            let kind = entry.file_type().map_err(unreadable)?;
            if kind.is_dir() {
                pending.push(path);
            } else if (kind.is_file() || (kind.is_symlink() && path.is_file()))
                && path
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

/// The items of a JSON-lines manifest: `{"id", "input", ...job options}` per line; a file
/// input is relative to the manifest's folder.
pub(crate) fn read_manifest(path: &Path) -> Result<Vec<Item>, Failure> {
    let text =
        fs::read_to_string(path).map_err(|e| Failure::usage(format!("could not read {}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let bad = |reason: String| Failure::usage(format!("{} line {}: {reason}", path.display(), number + 1));
        let line: ManifestLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let mut options = job_options(line.model.as_deref(), line.output_format.as_deref(), line.bg_type.as_deref())
            .apply_text(line.text_prompt, line.webhook_url);
        if let Some(rgb) = line.bg_color {
            options = options.bg_color(rgb);
        }
        if let Some(background) = line.background {
            options = options.background(background);
        }
        if let Some(metadata) = line.metadata {
            options = options.metadata(metadata);
        }
        let item = if crate::values::is_url(&line.input) {
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
