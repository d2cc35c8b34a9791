//! A local video's duration, read from its mp4/mov container.
//!
//! mp4parse reads a file front to back, so a file whose index (`moov`) comes after the video
//! data (as cameras write them) would be read whole. The top-level boxes are walked here with
//! seeks instead, and only the `moov` box is handed to mp4parse.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::time::Duration;

/// The largest `moov` box read (an index this large describes many hours of video).
const MAX_MOOV: u64 = 64 * 1024 * 1024;

/// The longest duration believed (a year): an index that claims more was written wrong or
/// crafted, and an estimate from it would mean nothing.
const MAX_BELIEVED: Duration = Duration::from_secs(366 * 86_400);

/// The duration of the longest track of the mp4/mov file at `path`, or why it is unknown.
#[cfg(feature = "batch")]
pub(crate) fn video_duration(path: &std::path::Path) -> Result<Duration, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("could not open it: {e}"))?;
    read_duration(&mut std::io::BufReader::new(file))
}

/// The duration of the longest track of an mp4/mov container read from `file`.
pub(crate) fn read_duration(file: &mut (impl Read + Seek)) -> Result<Duration, String> {
    let moov = find_moov(file)?;
    let context = mp4parse::read_mp4(&mut Cursor::new(moov))
        .map_err(|e| format!("its mp4/mov index could not be read ({e:?})"))?;
    let longest = context
        .tracks
        .iter()
        .filter_map(|track| track_duration(track.duration?.0, track.timescale?.0))
        .max()
        .ok_or_else(|| "its mp4/mov index names no track duration".to_owned())?;
    if longest > MAX_BELIEVED {
        return Err(format!("its mp4/mov index claims {} days, which no real video lasts", longest.as_secs() / 86_400));
    }
    Ok(longest)
}

/// `length` ticks of `1/scale` seconds, in integers so that no value in a file can overflow
/// or panic; `None` for a scale of zero.
fn track_duration(length: u64, scale: u64) -> Option<Duration> {
    let seconds = length.checked_div(scale)?;
    let rest = u128::from(length.checked_rem(scale)?);
    // rest < scale, so the nanoseconds are below 10^9 and the product fits in u128.
    let nanos = u32::try_from(rest * 1_000_000_000 / u128::from(scale)).ok()?;
    Some(Duration::new(seconds, nanos))
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
    use proptest::prelude::*;

    /// A box: its size, its type, its content.
    fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(content.len() + 8).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(content);
        out
    }

    /// An `mvhd` or `mdhd` box (version 0 or 1) with this timescale and duration.
    fn header_box(kind: &[u8; 4], version: u8, timescale: u32, duration: u64) -> Vec<u8> {
        let mut content = vec![version, 0, 0, 0];
        let times = if version == 1 { 16 } else { 8 };
        content.resize(4 + times, 0);
        content.extend_from_slice(&timescale.to_be_bytes());
        if version == 1 {
            content.extend_from_slice(&duration.to_be_bytes());
        } else {
            content.extend_from_slice(&(duration as u32).to_be_bytes());
        }
        let tail = if kind == b"mvhd" { 80 } else { 4 };
        content.resize(content.len() + tail, 0);
        mp4_box(kind, &content)
    }

    /// How a crafted file is broken after it is built.
    #[derive(Debug, Clone)]
    enum Damage {
        None,
        Truncate(prop::sample::Index),
        /// The size field of the box whose header starts near this point.
        Size32(prop::sample::Index, u32),
        /// Size 1 and this 64-bit size after the header.
        Size64(prop::sample::Index, u64),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            Just(Damage::None),
            any::<prop::sample::Index>().prop_map(Damage::Truncate),
            (any::<prop::sample::Index>(), prop_oneof![Just(0u32), Just(1), Just(7), Just(u32::MAX), any::<u32>()])
                .prop_map(|(at, size)| Damage::Size32(at, size)),
            (any::<prop::sample::Index>(), prop_oneof![Just(u64::MAX), Just(0u64), Just(15), any::<u64>()])
                .prop_map(|(at, size)| Damage::Size64(at, size)),
        ]
    }

    /// `moov { mvhd, trak { [nesting...] mdia { mdhd } } }` after an `ftyp`.
    fn crafted(version: u8, timescale: u32, duration: u64, nesting: &[[u8; 4]]) -> Vec<u8> {
        let mut inner = mp4_box(b"mdia", &header_box(b"mdhd", version, timescale, duration));
        for kind in nesting.iter().rev() {
            inner = mp4_box(kind, &inner);
        }
        let mut moov = header_box(b"mvhd", version, timescale, duration);
        moov.extend_from_slice(&mp4_box(b"trak", &inner));
        let mut file = mp4_box(b"ftyp", b"isom\0\0\0\0isom");
        file.extend_from_slice(&mp4_box(b"moov", &moov));
        file
    }

    /// The offsets at which a box header may start (walking every size field as written).
    fn header_offsets(file: &[u8]) -> Vec<usize> {
        (0..file.len().saturating_sub(8))
            .filter(|&at| file[at + 4..at + 8].iter().all(u8::is_ascii_alphanumeric))
            .collect()
    }

    fn damaged(mut file: Vec<u8>, damage: &Damage) -> Vec<u8> {
        let offsets = header_offsets(&file);
        match damage {
            Damage::None => {}
            Damage::Truncate(at) => file.truncate(at.index(file.len() + 1)),
            Damage::Size32(at, size) if !offsets.is_empty() => {
                let at = offsets[at.index(offsets.len())];
                file[at..at + 4].copy_from_slice(&size.to_be_bytes());
            }
            Damage::Size64(at, size) if !offsets.is_empty() => {
                let at = offsets[at.index(offsets.len())];
                file[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
                file.splice(at + 8..at + 8, size.to_be_bytes());
            }
            Damage::Size32(..) | Damage::Size64(..) => {}
        }
        file
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// No crafted container panics: each has a believable duration or a reason.
        #[test]
        fn no_crafted_container_panics(
            version in 0u8..=1,
            timescale in prop_oneof![Just(0u32), Just(1), Just(1000), Just(u32::MAX), any::<u32>()],
            duration in prop_oneof![Just(0u64), Just(u64::MAX), Just(u64::MAX - 1), Just(2000), any::<u64>()],
            nesting in prop::collection::vec(
                prop::sample::select(vec![*b"trak", *b"mdia", *b"minf", *b"stbl", *b"edts", *b"udta", *b"moov", *b"meta"]),
                0..48,
            ),
            damage in damage(),
        ) {
            let file = damaged(crafted(version, timescale, duration, &nesting), &damage);
            match read_duration(&mut Cursor::new(file)) {
                Ok(found) => prop_assert!(found <= MAX_BELIEVED, "{found:?}"),
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }

    #[test]
    fn an_mdhd_claiming_2_pow_64_seconds_is_a_reason_not_a_panic() {
        // The file: version 1, timescale 1, duration 2^64 - 2.
        let file = crafted(1, 1, u64::MAX - 1, &[]);
        let reason = read_duration(&mut Cursor::new(file)).unwrap_err();
        assert!(reason.contains("no real video"), "{reason}");
        let plain = crafted(1, 1000, 2500, &[]);
        assert_eq!(read_duration(&mut Cursor::new(plain)), Ok(Duration::from_millis(2500)));
    }

    fn sample() -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assets/sample.mp4")).unwrap()
    }

    #[test]
    fn track_durations_never_overflow() {
        assert_eq!(track_duration(3, 2), Some(Duration::from_millis(1500)));
        assert_eq!(track_duration(1, 0), None);
        assert_eq!(track_duration(u64::MAX - 1, 1), Some(Duration::from_secs(u64::MAX - 1)));
        assert_eq!(track_duration(u64::MAX, u64::MAX), Some(Duration::from_secs(1)));
        assert!(track_duration(u64::MAX, 3).is_some());
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
