//! A local video's duration, read from its mp4/mov container.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

/// The duration of the longest track of the mp4/mov file at `path`, or why it is unknown.
pub(crate) fn video_duration(path: &Path) -> Result<Duration, String> {
    let file = File::open(path).map_err(|e| format!("could not open it: {e}"))?;
    let context = mp4parse::read_mp4(&mut BufReader::new(file))
        .map_err(|e| format!("not an mp4/mov file whose duration can be read ({e:?})"))?;
    context
        .tracks
        .iter()
        .filter_map(|track| {
            let scale = track.timescale?.0;
            let length = track.duration?.0;
            (scale > 0).then(|| Duration::from_secs_f64(length as f64 / scale as f64))
        })
        .max()
        .ok_or_else(|| "the container names no track duration".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_video_lasts_two_seconds() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assets/sample.mp4");
        let duration = video_duration(&sample).unwrap();
        assert!((duration.as_secs_f64() - 2.0).abs() < 0.1, "{duration:?}");
    }

    #[test]
    fn a_file_that_is_not_mp4_has_no_duration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.mp4");
        std::fs::write(&path, b"not a video at all").unwrap();
        assert!(video_duration(&path).is_err());
        assert!(video_duration(&dir.path().join("missing.mp4")).unwrap_err().contains("could not open"));
    }
}
