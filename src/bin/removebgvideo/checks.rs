//! The checks that run before anything is uploaded or created: where the output goes, and
//! whether the input is a video the API takes. Each failure is a usage error (exit status 2)
//! and nothing has been sent.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::failure::Failure;
use crate::values::http_url;

/// Where an output goes: `given` (a file, or a folder that gets `name`), else `name` in the
/// current folder. The folder must exist and take a new file; an existing file is refused
/// unless `force`.
pub(crate) fn output_path(given: Option<&Path>, name: &str, force: bool) -> Result<PathBuf, Failure> {
    let path = match given {
        Some(path) if path.is_dir() || path.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR) => {
            path.join(name)
        }
        Some(path) => path.to_owned(),
        None => PathBuf::from(name),
    };
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(Failure::usage(format!("the output folder {} does not exist", folder.display())));
    }
    if path.is_dir() {
        return Err(Failure::usage(format!("the output {} is a folder", path.display())));
    }
    if path.exists() && !force {
        return Err(Failure::usage(format!("the output {} already exists (--force overwrites it)", path.display())));
    }
    writable(&folder)?;
    Ok(path)
}

/// Whether a new file can be made in `folder`: one is made and removed.
fn writable(folder: &Path) -> Result<(), Failure> {
    let probe = folder.join(format!(".removebgvideo-write-check-{}", std::process::id()));
    match fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => {
            Err(Failure::usage(format!("the output folder {} does not take new files: {error}", folder.display())))
        }
    }
}

/// What a run starts from: a local video, or a URL the service fetches itself.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    File(PathBuf),
    Url(String),
}

impl Input {
    /// The input's own name without its extension, for the default output name.
    pub(crate) fn stem(&self) -> String {
        let name = match self {
            Input::File(path) => path.file_stem().map(|stem| stem.to_string_lossy().into_owned()),
            Input::Url(url) => url::Url::parse(url).ok().and_then(|url| {
                let last = url.path_segments()?.next_back()?.to_owned();
                Path::new(&last).file_stem().map(|stem| stem.to_string_lossy().into_owned())
            }),
        };
        name.map(|name| name.replace(|c: char| c.is_control() || c == '/' || c == '\\', "_"))
            .filter(|name| !name.is_empty() && !name.starts_with('.'))
            .unwrap_or_else(|| "video".to_owned())
    }
}

/// `text` as an input: a URL that starts with http:// or https:// must be one; a file must be a
/// video in a container the API takes (MP4, MOV, WebM, AVI), read from its first bytes.
pub(crate) fn input(text: &str) -> Result<Input, Failure> {
    let lower = text.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let url = http_url(text.trim()).map_err(|reason| Failure::usage(format!("invalid input URL: {reason}")))?;
        return Ok(Input::Url(url));
    }
    let path = PathBuf::from(text);
    video_file(&path)?;
    Ok(Input::File(path))
}

/// Refuses a file that is missing, empty, or not in a video container the API takes.
fn video_file(path: &Path) -> Result<(), Failure> {
    let shown = path.display();
    let meta = fs::metadata(path).map_err(|error| Failure::usage(format!("could not read {shown}: {error}")))?;
    if meta.is_dir() {
        return Err(Failure::usage(format!("{shown} is a folder, not a video")));
    }
    if meta.len() == 0 {
        return Err(Failure::usage(format!("{shown} is empty")));
    }
    let mut head = Vec::with_capacity(12);
    fs::File::open(path)
        .and_then(|file| file.take(12).read_to_end(&mut head))
        .map_err(|error| Failure::usage(format!("could not read {shown}: {error}")))?;
    if container(&head).is_none() {
        return Err(Failure::usage(format!(
            "{shown} is not a video the API takes: it starts as no MP4, MOV, WebM or AVI file does"
        )));
    }
    Ok(())
}

/// The container a file's first bytes show, if it is one the API takes.
fn container(head: &[u8]) -> Option<&'static str> {
    // MP4 and MOV: a box size, then a top-level box type (MOV files may start with any of
    // these; MP4 files with `ftyp`).
    const BOXES: [&[u8; 4]; 7] = [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"];
    if head.len() >= 8 && BOXES.iter().any(|kind| &head[4..8] == *kind) {
        return Some("mp4/mov");
    }
    // WebM (and Matroska): the EBML magic number.
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("webm");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"AVI " {
        return Some("avi");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_from_their_first_bytes() {
        assert_eq!(container(b"\0\0\0\x20ftypisom\0\0"), Some("mp4/mov"));
        assert_eq!(container(&[0x1A, 0x45, 0xDF, 0xA3, 1, 0, 0, 0]), Some("webm"));
        assert_eq!(container(b"RIFF\0\0\0\0AVI "), Some("avi"));
        assert_eq!(container(b"hello, world"), None);
        assert_eq!(container(b""), None);
    }

    #[test]
    fn an_input_names_its_output() {
        assert_eq!(Input::File("clips/a.b.mp4".into()).stem(), "a.b");
        assert_eq!(Input::Url("https://cdn.example/v/in.mp4?sig=1".into()).stem(), "in");
        assert_eq!(Input::Url("https://cdn.example/".into()).stem(), "video");
    }
}
