//! What a composition writes, and how well.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::{invalid, ComposeError};
use super::input::extension;
use super::location::{escape_percent, file_arg, FILE_PROTOCOLS};

/// The file (or folder) a composition writes. It appears only when ffmpeg has finished: until
/// then ffmpeg writes to a hidden name of the composer's own beside it
/// (`.NAME.removebgvideo-…part`, created anew, never a name someone else holds), removed on
/// failure or cancellation. An existing output is replaced only when
/// [`Composer::overwrite`](super::Composer::overwrite) says so; a folder of PNG frames must be new
/// or empty in any case.
///
/// ```
/// use removebgvideo::compose::Output;
///
/// assert_eq!(Output::detect("out.mp4")?, Output::Mp4("out.mp4".into()));
/// assert_eq!(Output::detect("frames/")?, Output::PngFrames("frames/".into()));
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// H.264 MP4 (`libx264`, yuv420p, fast start); no alpha, so it needs a background, and a
    /// canvas of even width and height.
    Mp4(PathBuf),
    /// VP9 WebM with alpha (`libvpx-vp9`, yuva420p).
    Webm(PathBuf),
    /// ProRes 4444 MOV with alpha (`prores_ks`, yuva444p10le).
    Mov(PathBuf),
    /// A folder of RGBA PNG frames `frame_00001.png`, … (created; it must not exist, or be empty).
    PngFrames(PathBuf),
}

/// How good the output looks, against how long it takes and how large it is.
///
/// | | MP4 (x264) | WebM (VP9) | MOV (ProRes) | PNG |
/// |---|---|---|---|---|
/// | `Draft` | CRF 28, `veryfast` | CRF 40, realtime | 4444 | fast compression |
/// | `Standard` | CRF 20, `medium` | CRF 31, `good`, cpu-used 4 | 4444 | default |
/// | `High` | CRF 16, `slow` | CRF 24, `good`, cpu-used 1 | 4444 XQ | smallest files |
/// | `Crf(n)` | CRF n, `medium` | CRF n, `good`, cpu-used 4 | 4444, qscale n | default |
///
/// MP4 and WebM are 4:2:0, so foreground and background are blended in 4:2:0 YUV, as ffmpeg's
/// `overlay` does by default (about a fifth less CPU than RGB); `High` blends in RGB, which keeps
/// colour exact along the foreground's edges before the output's own subsampling. MOV and PNG
/// frames always blend in RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Quality {
    /// Quick previews.
    Draft,
    /// Good for sharing (the default).
    #[default]
    Standard,
    /// Close to the source.
    High,
    /// An explicit constant rate factor (x264: 0..=51, VP9: 0..=63; lower is better), or
    /// ProRes's quantizer (1..=31).
    Crf(u8),
}

impl Output {
    /// The kind named by the extension: `.mp4`, `.webm`, `.mov`; a path with no extension (or
    /// an existing folder) is a folder of PNG frames.
    ///
    /// # Errors
    ///
    /// [`ComposeError::InvalidInput`] for another extension.
    pub fn detect(path: impl Into<PathBuf>) -> Result<Self, ComposeError> {
        let path = path.into();
        if path.is_dir() {
            return Ok(Self::PngFrames(path));
        }
        Ok(match extension(&path).as_deref() {
            Some("mp4" | "m4v") => Self::Mp4(path),
            Some("webm") => Self::Webm(path),
            Some("mov") => Self::Mov(path),
            None => Self::PngFrames(path),
            Some(_) => {
                return Err(invalid(
                    "output",
                    format!("{} is not .mp4, .webm, .mov or a folder for PNG frames", path.display()),
                ))
            }
        })
    }

    /// The file or folder written.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Mp4(path) | Self::Webm(path) | Self::Mov(path) | Self::PngFrames(path) => path,
        }
    }

    /// Whether the output keeps an alpha channel.
    #[must_use]
    pub fn has_alpha(&self) -> bool {
        !matches!(self, Self::Mp4(_))
    }

    /// The pixel format the graph ends in.
    pub(crate) fn pixel_format(&self) -> &'static str {
        match self {
            Self::Mp4(_) => "yuv420p",
            Self::Webm(_) => "yuva420p",
            Self::Mov(_) => "yuva444p10le",
            Self::PngFrames(_) => "rgba",
        }
    }

    /// Whether foreground and background are blended in 4:2:0 YUV: for the 4:2:0 outputs (MP4,
    /// WebM), except at [`Quality::High`], which blends in RGB for exact colour at the edges.
    pub(crate) fn blends_in_yuv(&self, quality: Quality) -> bool {
        matches!(self, Self::Mp4(_) | Self::Webm(_)) && quality != Quality::High
    }

    /// The encoder, and what needs it (for a [`ComposeError::Missing`]).
    pub(crate) fn encoder(&self) -> (&'static str, &'static str) {
        match self {
            Self::Mp4(_) => ("libx264", "writing H.264 MP4"),
            Self::Webm(_) => ("libvpx-vp9", "writing VP9 WebM with alpha"),
            Self::Mov(_) => ("prores_ks", "writing ProRes 4444 MOV"),
            Self::PngFrames(_) => ("png", "writing PNG frames"),
        }
    }

    /// The audio encoder this container gets, if it takes audio.
    pub(crate) fn audio_encoder(&self) -> Option<&'static str> {
        match self {
            Self::Mp4(_) | Self::Mov(_) => Some("aac"),
            Self::Webm(_) => Some("libopus"),
            Self::PngFrames(_) => None,
        }
    }

    /// Codec, quality and container arguments (the path follows them).
    pub(crate) fn args(&self, quality: Quality) -> Vec<OsString> {
        let mut args: Vec<String> = vec!["-c:v".into(), self.encoder().0.into()];
        let words = |list: &[&str]| list.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>();
        match self {
            Self::Mp4(_) => {
                let (crf, preset) = match quality {
                    Quality::Draft => (28, "veryfast"),
                    Quality::Standard => (20, "medium"),
                    Quality::High => (16, "slow"),
                    Quality::Crf(n) => (n.min(51), "medium"),
                };
                args.extend(words(&[
                    "-preset",
                    preset,
                    "-crf",
                    &crf.to_string(),
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                ]));
            }
            Self::Webm(_) => {
                let (crf, deadline, cpu) = match quality {
                    Quality::Draft => (40, "realtime", 8),
                    Quality::Standard => (31, "good", 4),
                    Quality::High => (24, "good", 1),
                    Quality::Crf(n) => (n.min(63), "good", 4),
                };
                args.extend(words(&[
                    "-crf",
                    &crf.to_string(),
                    "-b:v",
                    "0",
                    "-deadline",
                    deadline,
                    "-cpu-used",
                    &cpu.to_string(),
                    "-row-mt",
                    "1",
                    "-f",
                    "webm",
                ]));
            }
            Self::Mov(_) => {
                let profile = if quality == Quality::High { "4444xq" } else { "4444" };
                args.extend(words(&["-profile:v", profile, "-vendor", "apl0"]));
                if let Quality::Crf(n) = quality {
                    args.extend(words(&["-qscale:v", &n.clamp(1, 31).to_string()]));
                }
                args.extend(words(&["-f", "mov"]));
            }
            Self::PngFrames(_) => {
                match quality {
                    Quality::Draft => args.extend(words(&["-compression_level", "1"])),
                    Quality::High => args.extend(words(&["-compression_level", "9"])),
                    Quality::Standard | Quality::Crf(_) => {}
                }
                args.extend(words(&["-start_number", "1", "-f", "image2"]));
            }
        }
        args.into_iter().map(OsString::from).collect()
    }

    /// The last argument: `file:` and the absolute path of `target` (the file, or the frames
    /// folder with `frame_%05d.png`, every other `%` doubled so that only that one is a
    /// pattern). The file protocol alone is allowed.
    pub(crate) fn target_args(&self, target: &Path) -> Vec<OsString> {
        let arg = match self {
            Self::PngFrames(_) => {
                let mut pattern = escape_percent(target.as_os_str());
                pattern.push(std::path::MAIN_SEPARATOR_STR);
                pattern.push("frame_%05d.png");
                file_arg(Path::new(&pattern))
            }
            _ => file_arg(target),
        };
        vec!["-protocol_whitelist".into(), FILE_PROTOCOLS.into(), arg]
    }
}

#[cfg(test)]
mod tests {
    use super::{Output, Quality};

    #[test]
    fn the_output_argument_is_a_file_never_an_option_a_protocol_or_a_pattern() {
        let output = Output::Mp4("-out.mp4".into());
        assert_eq!(
            output.target_args("/w/md5:-out.mp4".as_ref()),
            ["-protocol_whitelist", "file", "file:/w/md5:-out.mp4"]
        );
        let frames = Output::PngFrames("frames".into());
        assert_eq!(frames.target_args("/w/100%d/.f.part".as_ref())[2], "file:/w/100%%d/.f.part/frame_%05d.png");
        assert!(Output::PngFrames("f".into()).args(Quality::Draft).contains(&"image2".into()));
    }
}
