//! A folder of numbered PNG frames as ffmpeg's image sequence pattern (`frame_%04d.png`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::{invalid, io, ComposeError};

/// The frames of a folder, in ffmpeg's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frames {
    /// `folder/prefix%04d.png`, with a `%` of the prefix doubled.
    pub(crate) pattern: PathBuf,
    /// The first frame's number.
    pub(crate) start: u64,
    /// How many frames.
    pub(crate) count: u64,
}

/// Reads `folder`: every `*.png` in it must be one numbered frame of one sequence
/// (`0001.png`, `frame_0001.png`, …), numbered without gaps, because ffmpeg's image sequence
/// reader stops at the first missing number.
pub(crate) fn scan(folder: &Path) -> Result<Frames, ComposeError> {
    let mut numbered: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io("read the frames folder", folder))? {
        let entry = entry.map_err(io("read the frames folder", folder))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".png").or_else(|| name.strip_suffix(".PNG")) else { continue };
        let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 18 {
            return Err(invalid("foreground frames", format!("{name} in {} has no frame number", folder.display())));
        }
        let (prefix, number) = stem.split_at(stem.len() - digits);
        numbered.push((prefix.to_owned(), number.to_owned()));
    }
    let Some((prefix, _)) = numbered.first().cloned() else {
        return Err(invalid("foreground frames", format!("{} holds no .png frames", folder.display())));
    };
    if let Some((other, _)) = numbered.iter().find(|(p, _)| *p != prefix) {
        return Err(invalid(
            "foreground frames",
            format!("{} mixes frames named {prefix:?}… and {other:?}…; keep one sequence per folder", folder.display()),
        ));
    }
    let width = numbered[0].1.len();
    let padded = numbered.iter().all(|(_, n)| n.len() == width);
    let mut numbers: Vec<u64> = numbered.iter().filter_map(|(_, n)| n.parse().ok()).collect();
    numbers.sort_unstable();
    let (start, count) = (numbers[0], numbers.len() as u64);
    if numbers.windows(2).any(|pair| pair[1] != pair[0] + 1) {
        return Err(invalid(
            "foreground frames",
            format!("the frames in {} are not numbered without gaps from {start}", folder.display()),
        ));
    }
    let number = if padded && width > 1 { format!("%0{width}d") } else { "%d".to_owned() };
    let mut file = OsString::from(prefix.replace('%', "%%"));
    file.push(number);
    file.push(".png");
    // The whole pattern is read as a pattern: a `%` in the folder's name is doubled too.
    let folder = match folder.to_str() {
        Some(name) if name.contains('%') => PathBuf::from(name.replace('%', "%%")),
        _ => folder.to_owned(),
    };
    Ok(Frames { pattern: folder.join(file), start, count })
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn a_padded_sequence_becomes_a_pattern_and_a_gap_is_refused() {
        let dir = super::super::temp::TempDir::new("frames-test").unwrap();
        for n in 3..6 {
            std::fs::write(dir.path().join(format!("f%_{n:04}.png")), b"").unwrap();
        }
        let frames = scan(dir.path()).unwrap();
        assert_eq!(frames.pattern, dir.path().join("f%%_%04d.png"));
        assert_eq!((frames.start, frames.count), (3, 3));
        std::fs::write(dir.path().join("f%_0009.png"), b"").unwrap();
        assert!(scan(dir.path()).unwrap_err().to_string().contains("gaps"));
    }
}
