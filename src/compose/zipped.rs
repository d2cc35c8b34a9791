//! A zip of PNG frames: its directory read and checked, and its frames unpacked within the
//! [`Limits`] into a temporary folder of the composer's own.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use super::error::{invalid, io, ComposeError};
use super::frames::{self, Frames};
use super::limits::Limits;
use super::png::{self, PngHeader};
use super::temp::TempDir;

type Archive = zip::ZipArchive<BufReader<File>>;

/// The frames of a zip, from its directory only, and the first frame's header (its first bytes
/// read through a bounded reader; nothing is written anywhere).
pub(crate) fn inspect(path: &Path, limits: &Limits) -> Result<(Frames, PngHeader), ComposeError> {
    let (mut archive, entries) = directory(path, limits)?;
    let frames = frames::sequence(entries.iter().map(|(_, name)| name.clone()), path)?;
    let first = entries.iter().find(|(_, name)| *name == frames.first).map_or(0, |(index, _)| *index);
    let entry = archive.by_index(first).map_err(zip_error(path))?;
    let header = png::header(entry).map_err(|reason| not_a_frame(path, &frames.first, reason))?;
    Ok((frames, header))
}

/// Unpacks the frames into a new temporary folder, each under its own file name (folders inside
/// the zip are flattened, so no entry can write outside the folder), counting every byte against
/// [`Limits::zip_bytes`] as it is read and checking each frame's PNG signature.
pub(crate) fn unpack(path: &Path, limits: &Limits) -> Result<TempDir, ComposeError> {
    let (mut archive, entries) = directory(path, limits)?;
    let unpacked = TempDir::new("frames")?;
    let mut left = limits.zip_bytes;
    for (index, name) in entries {
        let entry = archive.by_index(index).map_err(zip_error(path))?;
        // One byte past what is left tells an entry over the limit from one that fills it.
        let mut entry = entry.take(left.saturating_add(1));
        let mut signature = [0; 8];
        entry.read_exact(&mut signature).map_err(|_| not_a_frame(path, &name, "shorter than a PNG signature"))?;
        if signature != png::SIGNATURE {
            return Err(not_a_frame(path, &name, "not a PNG (no PNG signature)"));
        }
        let target = unpacked.path().join(&name);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(io("unpack a frame (two entries with one name?) to", &target))?;
        out.write_all(&signature).map_err(io("unpack a frame to", &target))?;
        let copied = std::io::copy(&mut entry, &mut out).map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                ComposeError::Zip { path: path.to_owned(), source: Box::new(source) }
            }
            _ => io("unpack a frame to", &target)(source),
        })? + 8;
        if copied > left {
            return Err(invalid(
                "foreground zip",
                format!("{} unpacks to more than {} bytes (Limits::zip_bytes)", path.display(), limits.zip_bytes),
            ));
        }
        left -= copied;
    }
    Ok(unpacked)
}

/// The archive and its frame entries (index, file name): at most [`Limits::zip_entries`]
/// entries, no name with a control character, folders and macOS's `__MACOSX/._*` resource forks
/// left out, and only `*.png` names kept.
fn directory(path: &Path, limits: &Limits) -> Result<(Archive, Vec<(usize, String)>), ComposeError> {
    let file = File::open(path).map_err(io("open", path))?;
    let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_error(path))?;
    if archive.len() > limits.zip_entries {
        return Err(invalid(
            "foreground zip",
            format!(
                "{} holds {} entries, more than {} (Limits::zip_entries)",
                path.display(),
                archive.len(),
                limits.zip_entries
            ),
        ));
    }
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let name = archive.name_for_index(index).unwrap_or_default();
        if name.chars().any(char::is_control) {
            return Err(invalid(
                "foreground zip",
                format!("{} holds an entry whose name has control characters: {name:?}", path.display()),
            ));
        }
        let name = name.replace('\\', "/");
        let Some(file_name) = name.rsplit('/').next().filter(|file_name| !file_name.is_empty()) else { continue };
        if name.starts_with("__MACOSX/") || file_name.starts_with("._") || file_name.starts_with('.') {
            continue;
        }
        if file_name.to_ascii_lowercase().ends_with(".png") {
            entries.push((index, file_name.to_owned()));
        }
    }
    Ok((archive, entries))
}

fn zip_error(path: &Path) -> impl Fn(zip::result::ZipError) -> ComposeError + '_ {
    move |source| ComposeError::Zip { path: path.to_owned(), source: Box::new(source) }
}

fn not_a_frame(path: &Path, name: &str, reason: &str) -> ComposeError {
    invalid("foreground zip", format!("{name:?} in {}: {reason}", path.display()))
}
