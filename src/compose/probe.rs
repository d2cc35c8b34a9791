//! What a foreground is: size, frame rate, length and codec, read from ffmpeg's description of
//! its input (`ffmpeg -i FILE` with no output), so that no `ffprobe` is needed.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::error::ComposeError;
use super::ffmpeg::Ffmpeg;
use super::run::tail;

/// A foreground's first video stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Media {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// As ffmpeg takes it in `r=` (`25`, `30000/1001`), when the stream says.
    pub(crate) frame_rate: Option<String>,
    pub(crate) duration: Option<Duration>,
    /// The codec's name as ffmpeg prints it (`vp9`, `prores`, `gif`, …).
    pub(crate) codec: String,
}

/// Runs `ffmpeg -hide_banner <input_args>` (which end with `-i FILE`) and reads the description.
pub(crate) fn probe(ffmpeg: &Ffmpeg, input_args: &[OsString], path: &Path) -> Result<Media, ComposeError> {
    let output = ffmpeg
        .command()
        .arg("-hide_banner")
        .args(input_args)
        .stdout(Stdio::null())
        .output()
        .map_err(|source| ComposeError::FfmpegUnusable { path: ffmpeg.program().to_owned(), source })?;
    let text = String::from_utf8_lossy(&output.stderr);
    describe(&text).map_err(|reason| ComposeError::Probe {
        path: path.to_owned(),
        reason: reason.to_owned(),
        stderr_tail: tail(&text),
    })
}

/// Reads ffmpeg's description of its first input.
pub(crate) fn describe(text: &str) -> Result<Media, &'static str> {
    let video = text
        .lines()
        .find(|line| line.trim_start().starts_with("Stream #0:") && line.contains(": Video: "))
        .ok_or("no video stream")?;
    let after = &video[video.find(": Video: ").ok_or("no video stream")? + ": Video: ".len()..];
    let codec = after.split([' ', ',']).next().unwrap_or_default().to_owned();
    let words: Vec<&str> = after.split([' ', ',', '[', ']']).filter(|word| !word.is_empty()).collect();
    let (width, height) = words.iter().find_map(|word| size(word)).ok_or("no frame size")?;
    let frame_rate = words
        .windows(2)
        .find(|pair| pair[1] == "fps")
        .or_else(|| words.windows(2).find(|pair| pair[1] == "tbr"))
        .and_then(|pair| rate(pair[0]));
    let duration = text
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("Duration: "))
        .and_then(|rest| clock(rest.split(',').next().unwrap_or_default()));
    Ok(Media { width, height, frame_rate, duration, codec })
}

/// `1280x720` → (1280, 720).
fn size(word: &str) -> Option<(u32, u32)> {
    let (w, h) = word.split_once('x')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (all_digits(w) && all_digits(h)).then_some(())?;
    let size = (w.parse().ok()?, h.parse().ok()?);
    (size.0 > 0 && size.1 > 0).then_some(size)
}

/// ffmpeg prints NTSC rates rounded (`29.97`); the exact fraction keeps a long composition in step.
fn rate(word: &str) -> Option<String> {
    let value: f64 = word.trim_end_matches('k').parse().ok()?;
    if !value.is_finite() || value <= 0.0 || word.ends_with('k') {
        return None;
    }
    let exact = match word {
        "23.98" => "24000/1001",
        "29.97" => "30000/1001",
        "47.95" => "48000/1001",
        "59.94" => "60000/1001",
        "119.88" => "120000/1001",
        other => other,
    };
    Some(exact.to_owned())
}

/// `00:01:02.50` → 62.5 s; `N/A` → none.
fn clock(text: &str) -> Option<Duration> {
    let mut parts = text.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    let seconds = h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?;
    Duration::try_from_secs_f64(seconds).ok().filter(|length| !length.is_zero())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::describe;

    #[test]
    fn a_webm_description_is_read() {
        let text = "Input #0, matroska,webm, from 'fg.webm':\n  Metadata:\n    ENCODER         : Lavf59.27.100\n  Duration: 00:00:02.50, start: 0.000000, bitrate: 14 kb/s\n  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv, progressive), 64x48, SAR 1:1 DAR 4:3, 29.97 fps, 29.97 tbr, 1k tbn\n    Metadata:\n      ALPHA_MODE      : 1\nAt least one output file must be specified\n";
        let media = describe(text).unwrap();
        assert_eq!((media.width, media.height), (64, 48));
        assert_eq!(media.frame_rate.as_deref(), Some("30000/1001"));
        assert_eq!(media.duration, Some(Duration::from_millis(2500)));
        assert_eq!(media.codec, "vp9");
    }

    #[test]
    fn a_still_image_has_no_length_and_garbage_is_refused() {
        let text = "Input #0, webp_pipe, from 'a.webp':\n  Duration: N/A, bitrate: N/A\n  Stream #0:0: Video: webp, yuv420p(tv, bt470bg), 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 25 tbn\n";
        let media = describe(text).unwrap();
        assert_eq!((media.width, media.height, media.duration), (320, 240, None));
        assert_eq!(media.frame_rate.as_deref(), Some("25"));
        assert!(describe("no such file").is_err());
        assert!(describe("  Stream #0:0: Video: h264, 0x0").is_err());
    }
}
