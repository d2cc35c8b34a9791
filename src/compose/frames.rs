//! Numbered PNG frames as ffmpeg's image sequence pattern (`frame_%04d.png`).

use std::ffi::OsString;
use std::path::Path;

use super::error::{invalid, io, ComposeError};

/// The frames of a folder (or a zip), in ffmpeg's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frames {
    /// The file name pattern, `prefix%04d.png`, with a `%` of the prefix doubled.
    pub(crate) pattern: OsString,
    /// The first frame's number.
    pub(crate) start: u64,
    /// How many frames.
    pub(crate) count: u64,
    /// The first frame's file name.
    pub(crate) first: String,
}

/// Reads `folder`'s `*.png` names as one sequence (see [`sequence`]).
pub(crate) fn scan(folder: &Path) -> Result<Frames, ComposeError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io("read the frames folder", folder))? {
        let entry = entry.map_err(io("read the frames folder", folder))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    sequence(names, folder)
}

/// Every `*.png` of `names` must be one numbered frame of one sequence (`0001.png`,
/// `frame_0001.png`, …), numbered without gaps, because ffmpeg's image sequence reader stops at
/// the first missing number. Other names are ignored. `shown` names the folder or zip in errors.
pub(crate) fn sequence(names: impl IntoIterator<Item = String>, shown: &Path) -> Result<Frames, ComposeError> {
    let mut numbered: Vec<(String, String, String)> = Vec::new();
    for name in names {
        let Some(stem) = name.strip_suffix(".png").or_else(|| name.strip_suffix(".PNG")) else { continue };
        let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 18 {
            return Err(invalid("foreground frames", format!("{name:?} in {} has no frame number", shown.display())));
        }
        let (prefix, number) = stem.split_at(stem.len() - digits);
        numbered.push((prefix.to_owned(), number.to_owned(), name.clone()));
    }
    let Some((prefix, _, _)) = numbered.first().cloned() else {
        return Err(invalid("foreground frames", format!("{} holds no .png frames", shown.display())));
    };
    if let Some((other, _, _)) = numbered.iter().find(|(p, _, _)| *p != prefix) {
        return Err(invalid(
            "foreground frames",
            format!("{} mixes frames named {prefix:?}… and {other:?}…; keep one sequence per folder", shown.display()),
        ));
    }
    let width = numbered[0].1.len();
    let padded = numbered.iter().all(|(_, n, _)| n.len() == width);
    let mut numbers: Vec<(u64, String)> =
        numbered.into_iter().filter_map(|(_, n, name)| Some((n.parse().ok()?, name))).collect();
    numbers.sort_unstable();
    let (start, count) = (numbers[0].0, numbers.len() as u64);
    if numbers.windows(2).any(|pair| pair[1].0 != pair[0].0 + 1) {
        return Err(invalid(
            "foreground frames",
            format!("the frames in {} are not numbered without gaps from {start}", shown.display()),
        ));
    }
    let number = if padded && width > 1 { format!("%0{width}d") } else { "%d".to_owned() };
    let mut pattern = OsString::from(prefix.replace('%', "%%"));
    pattern.push(number);
    pattern.push(".png");
    Ok(Frames { pattern, start, count, first: numbers.swap_remove(0).1 })
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
        assert_eq!(frames.pattern, "f%%_%04d.png");
        assert_eq!((frames.start, frames.count, frames.first.as_str()), (3, 3, "f%_0003.png"));
        std::fs::write(dir.path().join("f%_0009.png"), b"").unwrap();
        assert!(scan(dir.path()).unwrap_err().to_string().contains("gaps"));
    }
}
