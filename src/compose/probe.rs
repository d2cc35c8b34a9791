//! What an input is: size, frame rate, length, codec and alpha, read from ffprobe's JSON
//! (`ffprobe -print_format json -show_streams -show_format`), never from a human-readable log,
//! with its first frame decoded so that an input ffmpeg cannot decode is refused before a run.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;

use super::error::ComposeError;
use super::ffmpeg::Ffmpeg;
use super::tail::read_tail;

/// The most bytes of ffprobe's answer read (a normal one is a few KiB).
const MAX_ANSWER: u64 = 1 << 20;

/// An input's first video stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Media {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// As ffmpeg takes it in `r=` (`25/1`, `30000/1001`), when the stream says.
    pub(crate) frame_rate: Option<String>,
    pub(crate) duration: Option<Duration>,
    /// The codec's name as ffprobe gives it (`vp9`, `prores`, `gif`, …).
    pub(crate) codec: String,
    /// Whether it carries alpha (a pixel format with alpha, or WebM's `alpha_mode` 1).
    pub(crate) alpha: bool,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    streams: Vec<Stream>,
    #[serde(default)]
    frames: Vec<Frame>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Frame {
    pix_fmt: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Format {
    duration: Option<String>,
}

/// Runs ffprobe on `input` (its options, such as `-protocol_whitelist`, then `-i URL`), giving
/// it `limit` to answer, and reads its first video stream. `shown` names the input in errors.
pub(crate) fn probe(ffmpeg: &Ffmpeg, input: &[OsString], shown: &Path, limit: Duration) -> Result<Media, ComposeError> {
    let mut command = ffmpeg.ffprobe_command();
    command
        .args(["-hide_banner", "-v", "error", "-print_format", "json", "-show_streams", "-show_format"])
        .args(["-select_streams", "v:0", "-show_frames", "-read_intervals", "%+#1"])
        .args(["-show_entries", "frame=pix_fmt"])
        .args(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ComposeError::FfmpegNotFound {
                searched: format!("no ffprobe at {} (beside ffmpeg)", ffmpeg.ffprobe().display()),
            }
        } else {
            ComposeError::FfmpegUnusable { path: ffmpeg.ffprobe().to_owned(), source }
        }
    })?;
    let failed =
        |reason: String, stderr_tail: String| ComposeError::Probe { path: shown.to_owned(), reason, stderr_tail };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let stderr = std::thread::spawn(move || stderr.map(read_tail).unwrap_or_default());
    let (answered, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut stdout) = stdout {
            let _ = (&mut stdout).take(MAX_ANSWER).read_to_end(&mut text);
            // The rest is read and dropped, so that ffprobe never blocks on a full pipe.
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        }
        let _ = answered.send(text);
    });
    let text = answer.recv_timeout(limit);
    if text.is_err() {
        let _ = child.kill();
    }
    let status = child.wait();
    let stderr_tail = stderr.join().unwrap_or_default();
    let Ok(text) = text else {
        return Err(failed(format!("no answer in {} s (Limits::stall)", limit.as_secs_f64()), stderr_tail));
    };
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => return Err(failed(format!("ffprobe ended with {status}"), stderr_tail)),
        Err(source) => return Err(ComposeError::FfmpegUnusable { path: ffmpeg.ffprobe().to_owned(), source }),
    }
    describe(&text).map_err(|reason| failed(reason.to_owned(), stderr_tail))
}

/// Reads ffprobe's JSON answer.
pub(crate) fn describe(text: &[u8]) -> Result<Media, &'static str> {
    let answer: Answer = serde_json::from_slice(text).map_err(|_| "ffprobe's answer is not the JSON it writes")?;
    let stream =
        answer.streams.iter().find(|stream| stream.codec_type.as_deref() == Some("video")).ok_or("no video stream")?;
    let (width, height) = match (stream.width, stream.height) {
        (Some(width), Some(height)) if width > 0 && height > 0 => (width, height),
        _ => return Err("no frame size"),
    };
    let frame = answer.frames.first().ok_or("no frame ffmpeg can decode")?;
    let frame_rate = [&stream.avg_frame_rate, &stream.r_frame_rate]
        .into_iter()
        .find_map(|rate| rate.as_deref().and_then(valid_rate));
    let duration = [stream.duration.as_deref(), answer.format.as_ref().and_then(|format| format.duration.as_deref())]
        .into_iter()
        .flatten()
        .find_map(seconds);
    let alpha = [stream.pix_fmt.as_deref(), frame.pix_fmt.as_deref()].into_iter().flatten().any(has_alpha)
        || stream.tags.iter().any(|(key, value)| key.eq_ignore_ascii_case("alpha_mode") && value.trim() == "1");
    let codec = stream.codec_name.clone().ok_or("no codec name")?;
    Ok(Media { width, height, frame_rate, duration, codec, alpha })
}

/// `30000/1001` when both numbers are above 0 and the rate at most 1000 frames a second.
fn valid_rate(rate: &str) -> Option<String> {
    let (num, den) = rate.split_once('/')?;
    let (num, den): (u64, u64) = (num.parse().ok()?, den.parse().ok()?);
    (num > 0 && den > 0 && num <= den.saturating_mul(1000)).then(|| format!("{num}/{den}"))
}

/// `62.500000` → 62.5 s; `N/A` or 0 → none.
fn seconds(text: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(text.trim().parse().ok()?).ok().filter(|length| !length.is_zero())
}

/// Whether ffmpeg's pixel format `name` has an alpha channel (`yuva420p`, `rgba`, `argb`,
/// `ya8`, `gbrap`, `pal8`, …).
fn has_alpha(name: &str) -> bool {
    name.starts_with("yuva")
        || name.starts_with("ya")
        || name.starts_with("gbrap")
        || name == "pal8"
        || ["rgba", "bgra", "argb", "abgr"].iter().any(|with_alpha| name.starts_with(with_alpha))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::describe;

    #[test]
    fn ffprobes_json_is_read_and_an_undecodable_input_is_refused() {
        let webm = br#"{"frames":[{"pix_fmt":"yuv420p"}],"streams":[{"codec_type":"video","codec_name":"vp9","width":64,"height":48,"pix_fmt":"yuv420p","avg_frame_rate":"30000/1001","r_frame_rate":"30/1","tags":{"alpha_mode":"1"}}],"format":{"duration":"2.500000"}}"#;
        let media = describe(webm).unwrap();
        assert_eq!((media.width, media.height, media.codec.as_str()), (64, 48, "vp9"));
        assert_eq!(media.frame_rate.as_deref(), Some("30000/1001"));
        assert_eq!(media.duration, Some(Duration::from_millis(2500)));
        assert!(media.alpha);
        let opaque = br#"{"frames":[{"pix_fmt":"gbrp"}],"streams":[{"codec_type":"video","codec_name":"vp9","width":64,"height":48,"avg_frame_rate":"0/0","r_frame_rate":"25/1"}]}"#;
        let media = describe(opaque).unwrap();
        assert!(!media.alpha);
        assert_eq!((media.frame_rate.as_deref(), media.duration), (Some("25/1"), None));
        // A PNG header with nothing after it: a stream of no size, no frame decoded.
        let header_only =
            br#"{"frames":[],"streams":[{"codec_type":"video","codec_name":"png","width":0,"height":0}]}"#;
        assert_eq!(describe(header_only).unwrap_err(), "no frame size");
        let no_frame = br#"{"frames":[],"streams":[{"codec_type":"video","codec_name":"png","width":9,"height":9}]}"#;
        assert_eq!(describe(no_frame).unwrap_err(), "no frame ffmpeg can decode");
        assert!(describe(b"Stream #0:0: Video: h264, 9000x9000").is_err());
    }
}
