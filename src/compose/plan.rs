//! The composer: its settings, and the one ffmpeg command line they make.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::models::{Anchor, Canvas, Composition, Offset};

use super::backdrop::{Backdrop, VideoFit};
use super::error::{invalid, io, ComposeError};
use super::ffmpeg::Ffmpeg;
use super::frames;
use super::input::Input;
use super::output::{Output, Quality};
use super::placement::Placement;
use super::probe::{probe, Media};
use super::progress::Progress;
use super::run::Rendering;
use super::temp::TempDir;

/// The frame rate of a canvas when the foreground states none.
const FALLBACK_FRAME_RATE: &str = "25";

/// Whose sound the output carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AudioFrom {
    /// None (the default).
    #[default]
    Nothing,
    /// The foreground's (an output of the API keeps the source's sound in MP4, WebM and MOV).
    Foreground,
    /// The background video's.
    Background,
}

/// A local composition: a transparent foreground drawn on a background, as a
/// [`Composition`] places it, written by ffmpeg. Costs no credits and sends nothing anywhere.
///
/// [`run`](Composer::run) blocks until ffmpeg is done; [`spawn`](Composer::spawn) gives a
/// [`Rendering`] to follow, cancel or drop; [`dry_run`](Composer::dry_run) shows the command
/// without running it.
///
/// ```no_run
/// use removebgvideo::compose::{Backdrop, Composer, Input, Output, Quality};
/// use removebgvideo::models::Anchor;
/// use removebgvideo::Composition;
///
/// let written = Composer::new(Input::detect("person.webm")?, Output::detect("preview.mp4")?)
///     .background(Backdrop::hex("#1E90FF")?)
///     .composition(Composition::new(1280, 720).anchor(Anchor::BottomLeft).offset(40, -40))
///     .quality(Quality::Draft)
///     .run()?;
/// println!("wrote {}", written.display());
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Composer {
    input: Input,
    output: Output,
    backdrop: Backdrop,
    /// `None`: the foreground's own size.
    canvas: Option<Canvas>,
    anchor: Anchor,
    scale: f64,
    offset: Offset,
    quality: Quality,
    audio: AudioFrom,
    ffmpeg: Option<Ffmpeg>,
}

/// Everything a run needs, made by [`Composer::plan`].
pub(crate) struct Plan {
    pub(crate) ffmpeg: Ffmpeg,
    /// The arguments after the program's name.
    pub(crate) args: Vec<OsString>,
    pub(crate) output: Output,
    pub(crate) total: Option<Duration>,
    /// Frames unpacked from a zip; they must outlive ffmpeg.
    pub(crate) unpacked: Option<TempDir>,
}

/// The foreground's input arguments, with what they need.
struct ForegroundArgs {
    /// Frames unpacked from a zip.
    unpacked: Option<TempDir>,
    /// Ending in `-i FILE`.
    args: Vec<OsString>,
    /// How many PNG frames.
    frame_count: Option<u64>,
}

impl Composer {
    /// Draws `input` on a transparent canvas of its own size, written to `output`, until the
    /// setters say otherwise.
    pub fn new(input: Input, output: Output) -> Self {
        Self {
            input,
            output,
            backdrop: Backdrop::Transparent,
            canvas: None,
            anchor: Anchor::Center,
            scale: 1.0,
            offset: Offset::default(),
            quality: Quality::Standard,
            audio: AudioFrom::Nothing,
            ffmpeg: None,
        }
    }

    /// The background (default [`Backdrop::Transparent`]).
    pub fn background(mut self, backdrop: Backdrop) -> Self {
        self.backdrop = backdrop;
        self
    }

    /// Canvas, anchor, scale and offset at once, as the API takes them (default: a canvas of
    /// the foreground's size, the foreground centred at its own size). The four setters below
    /// change one each, so that command-line flags map onto them one by one.
    pub fn composition(mut self, composition: Composition) -> Self {
        self.canvas = Some(composition.canvas);
        self.anchor = composition.foreground.anchor;
        self.scale = composition.foreground.scale;
        self.offset = composition.foreground.offset;
        self
    }

    /// The canvas (default: the foreground's own size); `"1920x1080".parse::<Canvas>()` reads
    /// the command line's spelling.
    pub fn canvas(mut self, canvas: Canvas) -> Self {
        self.canvas = Some(canvas);
        self
    }

    /// The point of canvas and foreground that coincide (default [`Anchor::Center`]).
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }

    /// The foreground's size as a ratio of its own (default 1.0).
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// A shift in canvas pixels after anchoring, x right and y down (default 0,0);
    /// `"40,-20".parse::<Offset>()` reads the command line's spelling.
    pub fn offset(mut self, offset: Offset) -> Self {
        self.offset = offset;
        self
    }

    /// The composition that will be drawn, given the foreground's size.
    fn layout(&self, width: u32, height: u32) -> Composition {
        let canvas = self.canvas.unwrap_or(Canvas { width, height });
        Composition::new(canvas.width, canvas.height)
            .anchor(self.anchor.clone())
            .scale(self.scale)
            .offset(self.offset.x, self.offset.y)
    }

    /// Quality against speed and size (default [`Quality::Standard`]).
    pub fn quality(mut self, quality: Quality) -> Self {
        self.quality = quality;
        self
    }

    /// Whose sound the output carries (default none).
    pub fn audio(mut self, audio: AudioFrom) -> Self {
        self.audio = audio;
        self
    }

    /// The ffmpeg to run (default [`Ffmpeg::locate`], looked up when the composer runs).
    pub fn ffmpeg(mut self, ffmpeg: Ffmpeg) -> Self {
        self.ffmpeg = Some(ffmpeg);
        self
    }

    /// The exact command [`run`](Composer::run) would start, program first, without running
    /// it. The foreground is read to learn its size and frame rate (a zip of frames is
    /// unpacked to a temporary folder and removed again, so that folder's name differs from
    /// run to run).
    ///
    /// # Errors
    ///
    /// As [`run`](Composer::run), except [`ComposeError::Failed`] and
    /// [`ComposeError::Cancelled`].
    pub fn dry_run(&self) -> Result<Vec<OsString>, ComposeError> {
        let plan = self.plan()?;
        let mut argv = vec![plan.ffmpeg.program().as_os_str().to_owned()];
        argv.extend(plan.args);
        Ok(argv)
    }

    /// Starts ffmpeg and returns at once; see [`Rendering`].
    ///
    /// # Errors
    ///
    /// [`ComposeError::FfmpegNotFound`], [`ComposeError::Missing`] (a decoder or encoder this
    /// composition needs), [`ComposeError::Invalid`] and [`ComposeError::UnknownAnchor`] (a
    /// setting that cannot work), [`ComposeError::Probe`] (an unreadable foreground),
    /// [`ComposeError::Zip`] and [`ComposeError::Io`].
    pub fn spawn(&self) -> Result<Rendering, ComposeError> {
        Rendering::start(self.plan()?)
    }

    /// Composes, blocking until ffmpeg is done, and returns the output's path.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Composer::spawn), plus [`ComposeError::Failed`] with the end of ffmpeg's
    /// error output.
    pub fn run(&self) -> Result<PathBuf, ComposeError> {
        self.spawn()?.wait()
    }

    /// As [`run`](Composer::run), calling `on_progress` as ffmpeg reports (about twice a second).
    ///
    /// # Errors
    ///
    /// As [`run`](Composer::run).
    pub fn run_with_progress(&self, on_progress: impl FnMut(Progress)) -> Result<PathBuf, ComposeError> {
        self.spawn()?.wait_with_progress(on_progress)
    }

    /// Checks the settings against each other, reads the foreground, and builds the command.
    pub(crate) fn plan(&self) -> Result<Plan, ComposeError> {
        self.check_settings()?;
        let ffmpeg = match &self.ffmpeg {
            Some(ffmpeg) => ffmpeg.clone(),
            None => Ffmpeg::locate()?,
        };
        let (encoder, writing) = self.output.encoder();
        ffmpeg.need_encoder(encoder, writing)?;
        if self.audio != AudioFrom::Nothing {
            if let Some(audio) = self.output.audio_encoder() {
                ffmpeg.need_encoder(audio, "the output's sound")?;
            }
        }

        let ForegroundArgs { unpacked, args: input_args, frame_count } = self.input_args()?;
        let media = probe(&ffmpeg, &input_args, self.input.path())?;
        let input_args = self.with_decoder(&ffmpeg, &media, input_args)?;
        let (frame_rate, total) = match (&self.input, frame_count) {
            (Input::PngFrames { frame_rate, .. }, Some(count)) => {
                (frame_rate.to_string(), Duration::try_from_secs_f64(count as f64 / frame_rate).ok())
            }
            _ => (media.frame_rate.clone().unwrap_or_else(|| FALLBACK_FRAME_RATE.to_owned()), media.duration),
        };

        let composition = self.layout(media.width, media.height);
        let place = Placement::of(&composition, media.width, media.height)?;
        let canvas = composition.canvas;
        if matches!(self.output, Output::Mp4(_)) && (canvas.width % 2 == 1 || canvas.height % 2 == 1) {
            return Err(invalid(
                "composition.canvas",
                format!("H.264 MP4 needs an even width and height, got {}x{}", canvas.width, canvas.height),
            ));
        }

        let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning"]
            .into_iter()
            .chain(["-progress", "pipe:1", "-y"])
            .map(OsString::from)
            .collect();
        args.extend(input_args);
        args.extend(self.backdrop_input(&frame_rate));
        args.push("-filter_complex".into());
        args.push(self.graph(&frame_rate, canvas.width, canvas.height, place).into());
        args.extend(["-map", "[out]"].map(OsString::from));
        match (self.audio, self.output.audio_encoder()) {
            (AudioFrom::Nothing, _) | (_, None) => {}
            (from, Some(encoder)) => {
                let stream = if from == AudioFrom::Foreground { "0:a?" } else { "1:a?" };
                args.extend(["-map", stream, "-c:a", encoder, "-b:a", "192k", "-shortest"].map(OsString::from));
            }
        }
        args.extend(self.output.args(self.quality));
        Ok(Plan { ffmpeg, args, output: self.output.clone(), total, unpacked })
    }

    /// Refuses settings that cannot go together, before anything runs.
    fn check_settings(&self) -> Result<(), ComposeError> {
        if self.backdrop == Backdrop::Transparent && !self.output.has_alpha() {
            return Err(invalid(
                "background",
                "MP4 has no alpha channel: give a background, or write WebM, MOV or PNG frames",
            ));
        }
        if self.audio != AudioFrom::Nothing && self.output.audio_encoder().is_none() {
            return Err(invalid("audio", "PNG frames carry no sound"));
        }
        if self.audio == AudioFrom::Background && !matches!(self.backdrop, Backdrop::Video { .. }) {
            return Err(invalid("audio", "only a video background has sound"));
        }
        if let Input::PngFrames { frame_rate, .. } = self.input {
            if !(frame_rate.is_finite() && frame_rate > 0.0 && frame_rate <= 1000.0) {
                return Err(invalid("frame rate", format!("must be above 0 and at most 1000, got {frame_rate}")));
            }
        }
        if let Output::PngFrames(folder) = &self.output {
            if let Ok(mut entries) = std::fs::read_dir(folder) {
                if entries.next().is_some() {
                    return Err(invalid(
                        "output",
                        format!("{} is not empty; PNG frames go to a new or empty folder", folder.display()),
                    ));
                }
            }
        }
        if let Some(parent) = self.output.path().parent().filter(|parent| !parent.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(invalid("output", format!("the folder {} does not exist", parent.display())));
            }
        }
        Ok(())
    }

    /// The foreground's input arguments (ending in `-i FILE`).
    fn input_args(&self) -> Result<ForegroundArgs, ComposeError> {
        let Input::PngFrames { path, frame_rate } = &self.input else {
            let args = vec!["-i".into(), self.input.path().as_os_str().to_owned()];
            return Ok(ForegroundArgs { unpacked: None, args, frame_count: None });
        };
        let (unpacked, folder) = if path.is_dir() {
            (None, path.clone())
        } else {
            let unpacked = unzip_frames(path)?;
            let folder = unpacked.path().to_owned();
            (Some(unpacked), folder)
        };
        let frames = frames::scan(&folder)?;
        let args = [
            OsStr::new("-f"),
            OsStr::new("image2"),
            OsStr::new("-pattern_type"),
            OsStr::new("sequence"),
            OsStr::new("-framerate"),
            OsStr::new(&frame_rate.to_string()),
            OsStr::new("-start_number"),
            OsStr::new(&frames.start.to_string()),
            OsStr::new("-i"),
            frames.pattern.as_os_str(),
        ]
        .map(OsStr::to_owned);
        Ok(ForegroundArgs { unpacked, args: args.to_vec(), frame_count: Some(frames.count) })
    }

    /// Puts the decoder that keeps alpha before a WebM's `-i`, and checks that ffmpeg can
    /// decode the foreground.
    fn with_decoder(
        &self,
        ffmpeg: &Ffmpeg,
        media: &Media,
        mut args: Vec<OsString>,
    ) -> Result<Vec<OsString>, ComposeError> {
        // ffmpeg's native VP9 and VP8 decoders drop the alpha channel without a word; another
        // codec in a WebM (AV1) has no alpha to lose.
        let libvpx = match (&self.input, media.codec.as_str()) {
            (Input::Webm(_), "vp9") => Some("libvpx-vp9"),
            (Input::Webm(_), "vp8") => Some("libvpx"),
            _ => None,
        };
        match libvpx {
            Some(decoder) => {
                ffmpeg.need_decoder(decoder, "reading WebM with alpha")?;
                args.splice(0..0, ["-c:v", decoder].map(OsString::from));
            }
            None => ffmpeg.need_decoder(&media.codec, "reading the foreground")?,
        }
        Ok(args)
    }

    /// The background's input arguments (input 1), if it is a file.
    fn backdrop_input(&self, frame_rate: &str) -> Vec<OsString> {
        let args: Vec<&OsStr> = match &self.backdrop {
            Backdrop::Transparent | Backdrop::Color(_) => vec![],
            Backdrop::Image(path) => {
                vec![
                    "-loop".as_ref(),
                    "1".as_ref(),
                    "-framerate".as_ref(),
                    frame_rate.as_ref(),
                    "-i".as_ref(),
                    path.as_ref(),
                ]
            }
            Backdrop::Video { path, fit: VideoFit::Loop } => {
                vec!["-stream_loop".as_ref(), "-1".as_ref(), "-i".as_ref(), path.as_ref()]
            }
            Backdrop::Video { path, fit: VideoFit::Cut } => vec!["-i".as_ref(), path.as_ref()],
        };
        args.into_iter().map(OsStr::to_owned).collect()
    }

    /// The filter graph: a canvas `[bg]`, the placed foreground `[fg]`, and `[out]`.
    fn graph(&self, frame_rate: &str, width: u32, height: u32, place: Placement) -> String {
        let size = format!("{width}x{height}");
        let cover =
            format!("scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1");
        let canvas = match &self.backdrop {
            Backdrop::Transparent => format!("color=c=black@0.0:s={size}:r={frame_rate},format=rgba"),
            Backdrop::Color([r, g, b]) => {
                format!("color=c=0x{r:02X}{g:02X}{b:02X}:s={size}:r={frame_rate},format=rgba")
            }
            Backdrop::Image(_) => format!("[1:v]{cover},format=rgba"),
            Backdrop::Video { fit, .. } => {
                // A cut video holds its last frame, so that the canvas outlasts the foreground.
                let hold = if *fit == VideoFit::Cut { ",tpad=stop=-1:stop_mode=clone" } else { "" };
                format!("[1:v]setpts=PTS-STARTPTS,fps={frame_rate},{cover},format=rgba{hold}")
            }
        };
        let scale = format!(",scale={}:{}", place.width, place.height);
        format!(
            "{canvas}[bg];[0:v]setpts=PTS-STARTPTS,format=rgba{scale}[fg];\
             [bg][fg]overlay=x={}:y={}:format=rgb:shortest=1,format={}[out]",
            place.x,
            place.y,
            self.output.pixel_format()
        )
    }
}

/// Unpacks the `.png` entries of a zip into a temporary folder, each under its own file name
/// (folders inside the zip are flattened, so no entry can write outside the folder).
fn unzip_frames(path: &Path) -> Result<TempDir, ComposeError> {
    let zip_error =
        |source: zip::result::ZipError| ComposeError::Zip { path: path.to_owned(), source: Box::new(source) };
    let file = std::fs::File::open(path).map_err(io("open", path))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(zip_error)?;
    let unpacked = TempDir::new("frames")?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        let name = entry.name().replace('\\', "/");
        let Some(file_name) = name.rsplit('/').next().filter(|file_name| !file_name.is_empty()) else { continue };
        // macOS's Finder adds `__MACOSX/._0001.png` resource forks beside the real frames.
        if entry.is_dir() || name.starts_with("__MACOSX/") || file_name.starts_with("._") {
            continue;
        }
        if !file_name.to_ascii_lowercase().ends_with(".png") {
            continue;
        }
        let target = unpacked.path().join(file_name);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(io("unpack a frame (two entries with one name?) to", &target))?;
        std::io::copy(&mut entry, &mut out).map_err(io("unpack a frame to", &target))?;
    }
    Ok(unpacked)
}
