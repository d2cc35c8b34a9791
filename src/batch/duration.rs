//! A local video's duration, read from its mp4/mov container.
//!
//! mp4parse reads a file front to back, so a file whose index (`moov`) comes after the video
//! data (as cameras write them) would be read whole. The top-level boxes are walked here with
//! seeks instead, and only the `moov` box is handed to mp4parse.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

/// The largest `moov` box read (an index this large describes many hours of video).
const MAX_MOOV: u64 = 64 * 1024 * 1024;

/// The duration of the longest track of the mp4/mov file at `path`, or why it is unknown.
pub(crate) fn video_duration(path: &Path) -> Result<Duration, String> {
    let file = File::open(path).map_err(|e| format!("could not open it: {e}"))?;
    let moov = find_moov(&mut BufReader::new(file))?;
    let context = mp4parse::read_mp4(&mut Cursor::new(moov))
        .map_err(|e| format!("its mp4/mov index could not be read ({e:?})"))?;
    context
        .tracks
        .iter()
        .filter_map(|track| {
            let scale = track.timescale?.0;
            let length = track.duration?.0;
            (scale > 0).then(|| Duration::from_secs_f64(length as f64 / scale as f64))
        })
        .max()
        .ok_or_else(|| "its mp4/mov index names no track duration".to_owned())
}

/// The bytes of the top-level `moov` box (header included), skipping the other boxes.
fn find_moov(file: &mut (impl Read + Seek)) -> Result<Vec<u8>, String> {
    let not_mp4 = || "not an mp4/mov file (no movie index found)".to_owned();
    loop {
        let mut header = [0u8; 8];
        if file.read_exact(&mut header).is_err() {
            return Err(not_mp4());
        }
        let mut size = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let mut header_len = 8u64;
        let mut large = [0u8; 8];
        if size == 1 {
            file.read_exact(&mut large).map_err(|_| not_mp4())?;
            size = u64::from_be_bytes(large);
            header_len = 16;
        }
        let is_moov = &header[4..8] == b"moov";
        if size == 0 && !is_moov {
            // The last box, running to the end of the file.
            return Err(not_mp4());
        }
        if size != 0 && size < header_len {
            return Err(not_mp4());
        }
        if is_moov {
            let content = if size == 0 { MAX_MOOV } else { size - header_len };
            if content > MAX_MOOV {
                return Err("its movie index is larger than 64 MiB".to_owned());
            }
            let mut moov = header.to_vec();
            if header_len == 16 {
                moov.extend_from_slice(&large);
            }
            file.take(content).read_to_end(&mut moov).map_err(|e| format!("could not read it: {e}"))?;
            if size == 0 {
                // Rewrite an open-ended size as the real one, for the parser.
                let real = u32::try_from(moov.len()).map_err(|_| not_mp4())?;
                moov[..4].copy_from_slice(&real.to_be_bytes());
            }
            return Ok(moov);
        }
        let skip = i64::try_from(size - header_len).map_err(|_| not_mp4())?;
        file.seek(SeekFrom::Current(skip)).map_err(|e| format!("could not read it: {e}"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assets/sample.mp4")).unwrap()
    }

    #[test]
    fn the_sample_video_lasts_two_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.mp4");
        std::fs::write(&path, sample()).unwrap();
        let duration = video_duration(&path).unwrap();
        assert!((duration.as_secs_f64() - 2.0).abs() < 0.1, "{duration:?}");
    }

    #[test]
    fn an_index_after_the_video_data_is_found_by_skipping() {
        // ftyp, then a 3 MiB mdat (a 64-bit size), then the sample's moov.
        let sample = sample();
        let (ftyp, rest) = sample.split_at(32);
        let (moov, _) = rest.split_at(1163);
        let mut file = ftyp.to_vec();
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        let mdat_len: u64 = 16 + 3 * 1024 * 1024;
        file.extend_from_slice(&mdat_len.to_be_bytes());
        file.resize(file.len() + 3 * 1024 * 1024, 0);
        file.extend_from_slice(moov);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camera.mov");
        std::fs::write(&path, file).unwrap();
        let duration = video_duration(&path).unwrap();
        assert!((duration.as_secs_f64() - 2.0).abs() < 0.1, "{duration:?}");
    }

    #[test]
    fn a_file_that_is_not_mp4_has_no_duration() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in
            [("x.mp4", &b"not a video at all"[..]), ("empty.mp4", b""), ("tiny.mp4", b"\0\0\0\x04moov")]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert!(video_duration(&path).is_err(), "{name}");
        }
        assert!(video_duration(&dir.path().join("missing.mp4")).unwrap_err().contains("could not open"));
    }
}
