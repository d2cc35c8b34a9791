//! The composer: its settings, and the one ffmpeg command line they make.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::models::{Anchor, Canvas, Composition, Offset};

use super::backdrop::{Backdrop, VideoFit};
use super::error::{exists, invalid, io, ComposeError};
use super::ffmpeg::Ffmpeg;
use super::frames;
use super::input::Input;
use super::limits::Limits;
use super::location::{escape_percent, file_arg, Location, FILE_PROTOCOLS};
use super::output::{Output, Quality};
use super::placement::Placement;
use super::png::{self, PngHeader};
use super::probe::{probe, Media};
use super::progress::Progress;
use super::run::{Plan, Rendering};
use super::temp::TempDir;
use super::zipped;

/// The demuxers a background video may be read with (MP4, MOV, M4V; MKV, WebM; AVI; GIF; MPEG;
/// MPEG-TS): never a playlist (HLS, concat) that would make ffmpeg open other files or URLs.
const VIDEO_DEMUXERS: &str = "mov,matroska,avi,gif,mpeg,mpegts";

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
    limits: Limits,
    overwrite: bool,
    opaque: bool,
}

/// The foreground's input arguments, with what they need.
struct ForegroundArgs {
    /// Frames unpacked from a zip.
    unpacked: Option<TempDir>,
    /// Ending in `-i FILE`.
    args: Vec<OsString>,
    /// Its first video stream.
    media: Media,
    /// How many PNG frames.
    frame_count: Option<u64>,
}

/// Whether a plan is for a dry run (which unpacks nothing) or a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Dry,
    Run,
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
            limits: Limits::default(),
            overwrite: false,
            opaque: false,
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

    /// The bounds on zips, pixels and stalls (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether an existing output file is replaced (default `false`: it is refused with
    /// [`ComposeError::InvalidInput`] before ffmpeg runs, and never replaced by a run). A folder
    /// of PNG frames must be new or empty either way.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Whether a foreground without an alpha channel is intended (default `false`: it is refused,
    /// because it would hide the background entirely).
    pub fn allow_opaque(mut self, opaque: bool) -> Self {
        self.opaque = opaque;
        self
    }

    /// The command [`run`](Composer::run) would start, program first, without running it,
    /// writing straight to the output (a run writes to a partial name first) with `-n` (or
    /// `-y` with [`overwrite`](Composer::overwrite)). The inputs are read as for a run (by
    /// ffprobe, and a zip of frames by its directory and its first frame's header only: nothing
    /// is unpacked, so the command names the temporary folder a run would unpack to).
    ///
    /// # Errors
    ///
    /// As [`run`](Composer::run), except [`ComposeError::Failed`], [`ComposeError::Stalled`]
    /// and [`ComposeError::Cancelled`].
    pub fn dry_run(&self) -> Result<Vec<OsString>, ComposeError> {
        let plan = self.plan(Mode::Dry)?;
        let target =
            std::path::absolute(plan.output.path()).map_err(io("find the absolute path of", plan.output.path()))?;
        let mut argv = vec![plan.ffmpeg.program().as_os_str().to_owned()];
        argv.push(if self.overwrite { "-y" } else { "-n" }.into());
        argv.extend(plan.args);
        argv.extend(plan.output.target_args(&target));
        Ok(argv)
    }

    /// Starts ffmpeg and returns at once; see [`Rendering`].
    ///
    /// # Errors
    ///
    /// [`ComposeError::FfmpegNotFound`] (ffmpeg or ffprobe), [`ComposeError::Missing`] (a
    /// decoder or encoder this composition needs), [`ComposeError::InvalidInput`] and
    /// [`ComposeError::UnknownAnchor`] (a setting or input that cannot work or is refused: see
    /// [`Limits`]), [`ComposeError::Probe`] (a foreground or background ffprobe cannot read or
    /// ffmpeg cannot decode), [`ComposeError::Zip`] and [`ComposeError::Io`].
    pub fn spawn(&self) -> Result<Rendering, ComposeError> {
        Rendering::start(self.plan(Mode::Run)?)
    }

    /// Composes, blocking until ffmpeg is done, and returns the output's path.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Composer::spawn), plus those of [`Rendering::wait`]:
    /// [`ComposeError::Failed`] with the end of ffmpeg's error output, [`ComposeError::Stalled`].
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

    /// Checks the settings against each other, reads the inputs, and builds the command.
    fn plan(&self, mode: Mode) -> Result<Plan, ComposeError> {
        self.check_settings()?;
        let ffmpeg = match &self.ffmpeg {
            Some(ffmpeg) => ffmpeg.clone(),
            None => Ffmpeg::locate()?,
        };
        let (encoder, writing) = self.output.encoder();
        ffmpeg.need_encoder(encoder, writing)?;
        if self.audio != AudioFrom::Nothing
            && let Some(audio) = self.output.audio_encoder()
        {
            ffmpeg.need_encoder(audio, "the output's sound")?;
        }

        let ForegroundArgs { unpacked, args: input_args, media, frame_count } = self.foreground(&ffmpeg, mode)?;
        self.check_pixels("foreground", media.width, media.height)?;
        if !media.alpha && !self.opaque {
            return Err(invalid(
                "foreground",
                format!(
                    "{} has no alpha channel, so it would hide the background; give the transparent output of a job, or allow an opaque foreground if that is intended",
                    self.input.path().display()
                ),
            ));
        }
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
        self.check_pixels("composition.canvas", canvas.width, canvas.height)?;
        self.check_pixels("composition.foreground.scale", place.width, place.height)?;
        if matches!(self.output, Output::Mp4(_)) && (canvas.width % 2 == 1 || canvas.height % 2 == 1) {
            return Err(invalid(
                "composition.canvas",
                format!("H.264 MP4 needs an even width and height, got {}x{}", canvas.width, canvas.height),
            ));
        }
        let backdrop_args = self.backdrop_input(&ffmpeg, &frame_rate)?;

        let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning"]
            .into_iter()
            .chain(["-progress", "pipe:1"])
            .map(OsString::from)
            .collect();
        args.extend(input_args);
        args.extend(backdrop_args);
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
        Ok(Plan {
            ffmpeg,
            args,
            output: self.output.clone(),
            overwrite: self.overwrite,
            stall: self.limits.stall,
            total,
            unpacked,
        })
    }

    /// Refuses a `width` × `height` over [`Limits::pixels`].
    fn check_pixels(&self, field: &'static str, width: u32, height: u32) -> Result<(), ComposeError> {
        if u64::from(width) * u64::from(height) > self.limits.pixels {
            return Err(invalid(
                field,
                format!("{width}x{height} is more than {} pixels (Limits::pixels)", self.limits.pixels),
            ));
        }
        Ok(())
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
        if let Input::PngFrames { frame_rate, .. } = self.input
            && !(frame_rate.is_finite() && frame_rate > 0.0 && frame_rate <= 1000.0)
        {
            return Err(invalid("frame rate", format!("must be above 0 and at most 1000, got {frame_rate}")));
        }
        let path = self.output.path();
        if let Output::PngFrames(folder) = &self.output {
            if let Ok(mut entries) = std::fs::read_dir(folder)
                && entries.next().is_some()
            {
                return Err(invalid(
                    "output",
                    format!("{} is not empty; PNG frames go to a new or empty folder", folder.display()),
                ));
            }
        } else if !self.overwrite && path.symlink_metadata().is_ok() {
            return Err(exists(path));
        }
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(invalid("output", format!("the folder {} does not exist", parent.display())));
        }
        Ok(())
    }

    /// The foreground's input arguments (ending in `-i FILE`) and what it is.
    fn foreground(&self, ffmpeg: &Ffmpeg, mode: Mode) -> Result<ForegroundArgs, ComposeError> {
        let Input::PngFrames { path, frame_rate } = &self.input else {
            let location = Location::of(self.input.path(), "foreground")?;
            let mut args = location.whitelist().to_vec();
            args.extend(["-format_whitelist".into(), self.input.demuxers().into(), "-i".into(), location.arg()]);
            let media = probe(ffmpeg, &args, self.input.path(), self.limits.stall)?;
            return Ok(ForegroundArgs { unpacked: None, args, media, frame_count: None });
        };
        let (unpacked, folder, frames, header) = if path.is_dir() {
            let frames = frames::scan(path)?;
            let header = frame_header(&path.join(&frames.first))?;
            (None, std::path::absolute(path).map_err(io("find the absolute path of", path))?, frames, header)
        } else if mode == Mode::Dry {
            let (frames, header) = zipped::inspect(path, &self.limits)?;
            (None, std::env::temp_dir().join("removebgvideo-frames-of-a-run"), frames, header)
        } else {
            let unpacked = zipped::unpack(path, &self.limits)?;
            let frames = frames::scan(unpacked.path())?;
            let header = frame_header(&unpacked.path().join(&frames.first))?;
            let folder = unpacked.path().to_owned();
            (Some(unpacked), folder, frames, header)
        };
        let mut pattern = escape_percent(folder.as_os_str());
        pattern.push(std::path::MAIN_SEPARATOR_STR);
        pattern.push(&frames.pattern);
        let args = [
            OsStr::new("-protocol_whitelist"),
            OsStr::new(FILE_PROTOCOLS),
            OsStr::new("-f"),
            OsStr::new("image2"),
            OsStr::new("-pattern_type"),
            OsStr::new("sequence"),
            OsStr::new("-framerate"),
            OsStr::new(&frame_rate.to_string()),
            OsStr::new("-start_number"),
            OsStr::new(&frames.start.to_string()),
            OsStr::new("-i"),
            &file_arg(Path::new(&pattern)),
        ]
        .map(OsStr::to_owned);
        let media = Media {
            width: header.width,
            height: header.height,
            frame_rate: None,
            duration: None,
            codec: "png".to_owned(),
            alpha: header.alpha,
        };
        Ok(ForegroundArgs { unpacked, args: args.to_vec(), media, frame_count: Some(frames.count) })
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

    /// The background's input arguments (input 1), if it is a file or URL, once ffprobe has
    /// read it and ffmpeg decoded its first frame.
    fn backdrop_input(&self, ffmpeg: &Ffmpeg, frame_rate: &str) -> Result<Vec<OsString>, ComposeError> {
        let (path, image, fit) = match &self.backdrop {
            Backdrop::Transparent | Backdrop::Color(_) => return Ok(vec![]),
            Backdrop::Image(path) => (path, true, VideoFit::Cut),
            Backdrop::Video { path, fit } => (path, false, *fit),
        };
        let location = Location::of(path, "background")?;
        let mut read = location.whitelist().to_vec();
        if image {
            // One image, its name never read as a pattern (`%d`, a URL's `%20`).
            read.extend(["-f", "image2", "-pattern_type", "none"].map(OsString::from));
        } else {
            read.extend(["-format_whitelist", VIDEO_DEMUXERS].map(OsString::from));
        }
        read.extend(["-i".into(), location.arg()]);
        let media = probe(ffmpeg, &read, path, self.limits.stall)?;
        self.check_pixels("background", media.width, media.height)?;
        let repeat: &[&str] = match (image, fit) {
            (true, _) => &["-loop", "1", "-framerate", frame_rate],
            (false, VideoFit::Loop) => &["-stream_loop", "-1"],
            (false, VideoFit::Cut) => &[],
        };
        let mut args: Vec<OsString> = repeat.iter().map(OsString::from).collect();
        args.extend(read);
        Ok(args)
    }

    /// The filter graph: a canvas `[bg]`, the placed foreground `[fg]`, and `[out]`.
    fn graph(&self, frame_rate: &str, width: u32, height: u32, place: Placement) -> String {
        let size = format!("{width}x{height}");
        let cover =
            format!("scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1");
        // 4:2:0 outputs blend in 4:2:0 (as ffmpeg's overlay does by default), unless the
        // quality asks for RGB's exact edges; the others blend in RGB.
        let (opaque, alpha, blend) = if self.output.blends_in_yuv(self.quality) {
            ("yuv420p", "yuva420p", "yuv420")
        } else {
            ("rgba", "rgba", "rgb")
        };
        let canvas = match &self.backdrop {
            Backdrop::Transparent => format!("color=c=black@0.0:s={size}:r={frame_rate},format={alpha}"),
            Backdrop::Color([r, g, b]) => {
                format!("color=c=0x{r:02X}{g:02X}{b:02X}:s={size}:r={frame_rate},format={opaque}")
            }
            Backdrop::Image(_) => format!("[1:v]{cover},format={opaque}"),
            Backdrop::Video { fit, .. } => {
                // A cut video holds its last frame, so that the canvas outlasts the foreground.
                let hold = if *fit == VideoFit::Cut { ",tpad=stop=-1:stop_mode=clone" } else { "" };
                format!("[1:v]setpts=PTS-STARTPTS,fps={frame_rate},{cover},format={opaque}{hold}")
            }
        };
        let scale = format!(",scale={}:{}", place.width, place.height);
        format!(
            "{canvas}[bg];[0:v]setpts=PTS-STARTPTS,format={alpha}{scale}[fg];\
             [bg][fg]overlay=x={}:y={}:format={blend}:shortest=1,format={}[out]",
            place.x,
            place.y,
            self.output.pixel_format()
        )
    }
}

/// The header of a frame in a folder: its size and whether it has alpha.
fn frame_header(path: &Path) -> Result<PngHeader, ComposeError> {
    let file = std::fs::File::open(path).map_err(io("open the frame", path))?;
    png::header(std::io::BufReader::new(file))
        .map_err(|reason| invalid("foreground frames", format!("{}: {reason}", path.display())))
}
