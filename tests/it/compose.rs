//! Local composition with the system's ffmpeg, checked on the pixels: a synthetic foreground (an
//! opaque red square on a transparent frame, made with ffmpeg's `lavfi` here) is composed, a
//! frame of the output decoded to raw pixels, and the square must be where the `Composition`
//! says (±1 px) with the background everywhere else.
//!
//! With `CI` set, a missing ffmpeg fails these tests; elsewhere they are skipped with a note.

use std::path::{Path, PathBuf};
use std::process::Command;

use removebgvideo::compose::{
    AudioFrom, Backdrop, ComposeError, Composer, Ffmpeg, Input, Output, Placement, Quality, VideoFit,
};
use removebgvideo::models::Anchor;
use removebgvideo::{Background, Composition};

use crate::support::names_in;

/// The foreground: 32x24, 10 frames at 10 fps, transparent but for a red 16x12 square at (8, 6).
pub(crate) const FG: (u32, u32) = (32, 24);
pub(crate) const SQUARE: (u32, u32, u32, u32) = (8, 6, 16, 12);
pub(crate) const RED: [u8; 3] = [255, 0, 0];
pub(crate) const BLUE: [u8; 3] = [0, 0, 255];
pub(crate) const GREEN: [u8; 3] = [0, 255, 0];

/// The ffmpeg on PATH; `None` (a visible skip) only outside CI.
pub(crate) fn ffmpeg() -> Option<Ffmpeg> {
    crate::support::require("ffmpeg", Ffmpeg::locate())
}

/// Runs ffmpeg (test plumbing, not the code under test) and returns its stdout.
pub(crate) fn sh(ffmpeg: &Ffmpeg, args: &[&str]) -> Vec<u8> {
    let output =
        Command::new(ffmpeg.program()).args(["-hide_banner", "-v", "error", "-y"]).args(args).output().unwrap();
    assert!(output.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// The foreground graph, ending in `[fg]` as RGBA.
pub(crate) fn foreground_graph(seconds: u32) -> String {
    let (w, h) = FG;
    let (x, y, sw, sh) = SQUARE;
    format!(
        "color=c=black@0.0:s={w}x{h}:r=10:d={seconds},format=rgba[c];color=c=red:s={sw}x{sh}:r=10,format=rgba[s];\
         [c][s]overlay=x={x}:y={y}:shortest=1:format=rgb"
    )
}

/// Writes the synthetic foreground as `kind` into `dir` and returns its path.
pub(crate) fn foreground(ffmpeg: &Ffmpeg, dir: &Path, kind: &str) -> PathBuf {
    foreground_of(ffmpeg, dir, kind, 1)
}

pub(crate) fn foreground_of(ffmpeg: &Ffmpeg, dir: &Path, kind: &str, seconds: u32) -> PathBuf {
    let graph = foreground_graph(seconds);
    let path = dir.join(format!("fg.{kind}"));
    let out = path.to_str().unwrap();
    match kind {
        "webm" => sh(ffmpeg, &["-filter_complex", &format!("{graph},format=yuva420p"), "-c:v", "libvpx-vp9", out]),
        "mov" => sh(
            ffmpeg,
            &["-filter_complex", &graph, "-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le", out],
        ),
        "gif" => sh(
            ffmpeg,
            &[
                "-filter_complex",
                &format!(
                    "{graph},split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse=alpha_threshold=128"
                ),
                out,
            ],
        ),
        "webp" => sh(ffmpeg, &["-filter_complex", &graph, "-frames:v", "1", "-c:v", "libwebp", "-lossless", "1", out]),
        "png" => {
            std::fs::create_dir(&path).unwrap();
            let pattern = path.join("frame_%03d.png");
            sh(ffmpeg, &["-filter_complex", &graph, "-start_number", "5", pattern.to_str().unwrap()])
        }
        other => panic!("no fixture {other}"),
    };
    path
}

/// Decodes the first frame of `path` to RGBA.
pub(crate) fn first_frame(ffmpeg: &Ffmpeg, path: &Path) -> Vec<u8> {
    let decoder: &[&str] =
        if path.extension().is_some_and(|ext| ext == "webm") { &["-c:v", "libvpx-vp9"] } else { &[] };
    let mut args = decoder.to_vec();
    args.extend(["-i", path.to_str().unwrap(), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-"]);
    sh(ffmpeg, &args)
}

/// How many frames `path` has.
fn frame_count(ffmpeg: &Ffmpeg, path: &Path, (w, h): (u32, u32)) -> usize {
    let bytes = sh(ffmpeg, &["-i", path.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgba", "-"]);
    bytes.len() / (w * h * 4) as usize
}

/// Where the square lands: the placed foreground, and the square inside it at the same scale.
pub(crate) fn square_on_canvas(layout: &Composition) -> (f64, f64, f64, f64) {
    let place = Placement::of(layout, FG.0, FG.1).unwrap();
    let (sx, sy) = (f64::from(place.width) / f64::from(FG.0), f64::from(place.height) / f64::from(FG.1));
    let (x, y, w, h) = SQUARE;
    let left = place.x as f64 + f64::from(x) * sx;
    let top = place.y as f64 + f64::from(y) * sy;
    (left, top, left + f64::from(w) * sx, top + f64::from(h) * sy)
}

fn near(pixel: &[u8], colour: [u8; 3]) -> bool {
    pixel.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 60)
}

/// Inside the square (1 px in from its edges): red. Outside it (1 px out): `background`, or
/// alpha 0 when `background` is `None`.
pub(crate) fn assert_square(
    frame: &[u8],
    canvas: (u32, u32),
    square: (f64, f64, f64, f64),
    background: Option<[u8; 3]>,
    what: &str,
) {
    let (width, height) = canvas;
    assert_eq!(frame.len(), (width * height * 4) as usize, "{what}: frame size");
    let (left, top, right, bottom) = square;
    let mut inside = 0;
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let pixel = &frame[((y * width + x) * 4) as usize..][..4];
            if fx >= left + 1.0 && fx + 1.0 <= right - 1.0 && fy >= top + 1.0 && fy + 1.0 <= bottom - 1.0 {
                inside += 1;
                assert!(
                    near(&pixel[..3], RED) && pixel[3] > 200,
                    "{what}: ({x},{y}) should be the square, is {pixel:?}"
                );
            } else if fx + 1.0 <= left - 1.0 || fx >= right + 1.0 || fy + 1.0 <= top - 1.0 || fy >= bottom + 1.0 {
                match background {
                    Some(colour) => {
                        assert!(near(&pixel[..3], colour), "{what}: ({x},{y}) should be {colour:?}, is {pixel:?}")
                    }
                    None => assert!(pixel[3] < 30, "{what}: ({x},{y}) should be transparent, is {pixel:?}"),
                }
            }
        }
    }
    let fully_outside = right <= 0.0 || bottom <= 0.0 || left >= f64::from(width) || top >= f64::from(height);
    assert!(inside > 0 || fully_outside, "{what}: no pixel of the square was checked");
}

#[test]
fn every_anchor_with_scale_and_offset_puts_the_square_where_the_composition_says() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let frames = foreground(&ffmpeg, dir.path(), "png");
    let anchors = [
        Anchor::Center,
        Anchor::TopLeft,
        Anchor::TopCenter,
        Anchor::TopRight,
        Anchor::CenterLeft,
        Anchor::CenterRight,
        Anchor::BottomLeft,
        Anchor::BottomCenter,
        Anchor::BottomRight,
    ];
    let mut layouts: Vec<Composition> =
        anchors.iter().map(|anchor| Composition::new(64, 48).anchor(anchor.clone())).collect();
    layouts.push(Composition::new(64, 48).anchor(Anchor::BottomRight).scale(0.5).offset(-5, -3));
    layouts.push(Composition::new(64, 48).anchor(Anchor::TopLeft).scale(1.5).offset(7, 4));
    layouts.push(Composition::new(65, 49).anchor(Anchor::Center).scale(1.25).offset(3, -2));
    // Partly off the canvas: the rest is cut off.
    layouts.push(Composition::new(64, 48).anchor(Anchor::CenterLeft).offset(-12, 0));

    for (n, layout) in layouts.iter().enumerate() {
        let out = dir.path().join(format!("out{n}"));
        let written = Composer::new(Input::png_frames(&frames).frame_rate(10.0), Output::PngFrames(out.clone()))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::Color(BLUE))
            .composition(layout.clone())
            .run()
            .unwrap();
        assert_eq!(written, out);
        let frame = first_frame(&ffmpeg, &out.join("frame_00001.png"));
        let canvas = (layout.canvas.width, layout.canvas.height);
        let what = format!(
            "{} scale {} offset {:?}",
            layout.foreground.anchor, layout.foreground.scale, layout.foreground.offset
        );
        assert_square(&frame, canvas, square_on_canvas(layout), Some(BLUE), &what);
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 10, "{what}: one PNG per foreground frame");
    }
}

#[test]
fn a_webm_foreground_keeps_its_alpha_on_a_colour_in_mp4() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let layout = Composition::new(64, 48).anchor(Anchor::BottomCenter).scale(1.5).offset(0, -4);
    let out = dir.path().join("out.mp4");
    // As a command line's flags would set it: --canvas 64x48 --anchor bottom-center --scale 1.5
    // --offset 0,-4 --background 0,0,1 -o out.mp4.
    Composer::new(Input::detect(&webm).unwrap(), Output::detect(&out).unwrap())
        .ffmpeg(ffmpeg.clone())
        .background("0,0,1".parse().unwrap())
        .canvas("64x48".parse().unwrap())
        .anchor("bottom-center".parse().unwrap())
        .scale("1.5".parse().unwrap())
        .offset("0,-4".parse().unwrap())
        .quality(Quality::Crf(12))
        .run()
        .unwrap();
    assert_eq!(Backdrop::try_from(&Background::rgb([0.0, 0.0, 1.0])).unwrap(), Backdrop::Color(BLUE));
    // ffmpeg's native VP9 decoder would have made the transparent part black.
    assert_square(&first_frame(&ffmpeg, &out), (64, 48), square_on_canvas(&layout), Some(BLUE), "webm → mp4");
    assert_eq!(names_in(dir.path()), ["fg.webm", "out.mp4"], "no partial output left");
}

#[test]
fn alpha_survives_in_webm_and_mov_outputs() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mov = foreground(&ffmpeg, dir.path(), "mov");
    let layout = Composition::new(48, 40).anchor(Anchor::TopRight).offset(-2, 3);
    for name in ["out.webm", "out.mov"] {
        let out = dir.path().join(name);
        Composer::new(Input::detect(&mov).unwrap(), Output::detect(&out).unwrap())
            .ffmpeg(ffmpeg.clone())
            .composition(layout.clone())
            .quality(Quality::High)
            .run()
            .unwrap();
        assert_square(&first_frame(&ffmpeg, &out), (48, 40), square_on_canvas(&layout), None, name);
    }
}

#[test]
fn gif_webp_and_zipped_frames_are_foregrounds_too() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let frames = foreground(&ffmpeg, dir.path(), "png");
    let zip = dir.path().join("frames.zip");
    {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.add_directory("frames/", options).unwrap();
        for entry in std::fs::read_dir(&frames).unwrap() {
            let entry = entry.unwrap();
            writer.start_file(format!("frames/{}", entry.file_name().to_str().unwrap()), options).unwrap();
            std::io::copy(&mut std::fs::File::open(entry.path()).unwrap(), &mut writer).unwrap();
        }
        // macOS's resource forks are skipped.
        writer.start_file("__MACOSX/frames/._frame_005.png", options).unwrap();
        writer.finish().unwrap();
    }
    let inputs = [
        Input::detect(foreground(&ffmpeg, dir.path(), "gif")).unwrap(),
        Input::detect(foreground(&ffmpeg, dir.path(), "webp")).unwrap(),
        Input::detect(&zip).unwrap().frame_rate(10.0),
    ];
    let layout = Composition::new(40, 30).anchor(Anchor::BottomLeft).offset(1, -1);
    for (n, input) in inputs.into_iter().enumerate() {
        let what = format!("{input:?}");
        let out = dir.path().join(format!("out{n}.mov"));
        Composer::new(input, Output::Mov(out.clone()))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::hex("#00ff00").unwrap())
            .composition(layout.clone())
            .run()
            .unwrap();
        assert_square(&first_frame(&ffmpeg, &out), (40, 30), square_on_canvas(&layout), Some(GREEN), &what);
    }
}

#[test]
fn image_and_video_backgrounds_cover_the_canvas_and_last_as_long_as_the_foreground() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let image = dir.path().join("bg.png");
    sh(&ffmpeg, &["-f", "lavfi", "-i", "color=c=0x00FF00:s=20x10", "-frames:v", "1", image.to_str().unwrap()]);
    // 0.3 s of green with a tone: shorter than the 1 s foreground.
    let video = dir.path().join("bg.mp4");
    sh(
        &ffmpeg,
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x00FF00:s=80x80:r=10:d=0.3",
            "-f",
            "lavfi",
            "-i",
            "sine=d=0.3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            video.to_str().unwrap(),
        ],
    );
    let layout = Composition::new(64, 48).anchor(Anchor::TopLeft).offset(4, 4);
    let backdrops = [
        (Backdrop::image(&image), AudioFrom::Nothing),
        (Backdrop::video(&video), AudioFrom::Background),
        (Backdrop::Video { path: video.clone(), fit: VideoFit::Cut }, AudioFrom::Nothing),
    ];
    for (n, (backdrop, audio)) in backdrops.into_iter().enumerate() {
        let what = format!("{backdrop:?}");
        let out = dir.path().join(format!("out{n}.mp4"));
        Composer::new(Input::Webm(webm.clone()), Output::Mp4(out.clone()))
            .ffmpeg(ffmpeg.clone())
            .background(backdrop)
            .composition(layout.clone())
            .audio(audio)
            .quality(Quality::Crf(12))
            .run()
            .unwrap();
        assert_square(&first_frame(&ffmpeg, &out), (64, 48), square_on_canvas(&layout), Some(GREEN), &what);
        let frames = frame_count(&ffmpeg, &out, (64, 48));
        assert!((9..=11).contains(&frames), "{what}: {frames} frames, the foreground has 10");
    }
}

#[test]
fn dry_run_is_the_exact_command_and_running_it_by_hand_gives_the_same_output() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let out = dir.path().join("out.webm");
    let composer = Composer::new(Input::detect(&webm).unwrap(), Output::detect(&out).unwrap())
        .ffmpeg(ffmpeg.clone())
        .composition(Composition::new(64, 48).anchor(Anchor::TopCenter));
    let argv = composer.dry_run().unwrap();
    assert_eq!(argv[0], ffmpeg.program().as_os_str());
    let at = argv.iter().position(|arg| arg == "-i").unwrap();
    let file = format!("file:{}", webm.to_str().unwrap());
    assert_eq!(
        argv[at - 6..=at + 1],
        ["-c:v", "libvpx-vp9", "-protocol_whitelist", "file", "-format_whitelist", "matroska", "-i", &file]
            .map(std::ffi::OsString::from)
    );
    assert!(!out.exists(), "a dry run writes nothing");

    // The dry run's command writes the output itself.
    let status = Command::new(&argv[0]).args(&argv[1..]).stdout(std::process::Stdio::null()).status().unwrap();
    assert!(status.success());
    let by_hand = dir.path().join("by_hand.webm");
    std::fs::rename(&out, &by_hand).unwrap();
    let by_hand = first_frame(&ffmpeg, &by_hand);
    composer.run().unwrap();
    let composed = first_frame(&ffmpeg, &out);
    assert_eq!(composed.len(), by_hand.len());
    assert!(composed.iter().zip(&by_hand).all(|(a, b)| a.abs_diff(*b) <= 8), "the same command, the same picture");
}

#[test]
fn progress_reaches_the_foregrounds_length() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gif = foreground(&ffmpeg, dir.path(), "gif");
    let mut seen = Vec::new();
    let out = dir.path().join("out.webm");
    Composer::new(Input::Gif(gif), Output::Webm(out.clone()))
        .ffmpeg(ffmpeg.clone())
        .run_with_progress(|progress| seen.push(progress))
        .unwrap();
    // No composition: the canvas is the foreground's own size, the foreground on it as it was.
    assert_square(&first_frame(&ffmpeg, &out), FG, square_on_canvas(&Composition::new(FG.0, FG.1)), None, "own canvas");
    let last = seen.last().expect("at least the final report");
    assert!(last.finished);
    assert_eq!(last.total, Some(std::time::Duration::from_secs(1)));
    assert_eq!(last.fraction(), Some(1.0));
    assert!(seen.windows(2).all(|pair| pair[0].done <= pair[1].done));
}

#[test]
fn cancelling_or_dropping_stops_ffmpeg_and_leaves_nothing_behind() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground_of(&ffmpeg, dir.path(), "webm", 30);
    let out = dir.path().join("big.mov");
    // Large enough that ffmpeg is still at work when the first progress report arrives.
    let composer = Composer::new(Input::Webm(webm), Output::Mov(out.clone()))
        .ffmpeg(ffmpeg)
        .background(Backdrop::Color(BLUE))
        .composition(Composition::new(1920, 1080));

    let rendering = composer.spawn().unwrap();
    let canceller = rendering.canceller();
    let mut reports = 0;
    let result = rendering.wait_with_progress(|_| {
        reports += 1;
        canceller.cancel();
    });
    assert!(matches!(result, Err(ComposeError::Cancelled)), "{result:?}");
    assert!(reports >= 1);
    assert_eq!(names_in(dir.path()), ["fg.webm"], "no output, no partial output");

    let rendering = composer.spawn().unwrap();
    drop(rendering);
    assert_eq!(names_in(dir.path()), ["fg.webm"]);

    // Cancelled before waiting: the same.
    let rendering = composer.spawn().unwrap();
    rendering.canceller().cancel();
    assert!(matches!(rendering.wait(), Err(ComposeError::Cancelled)));
    assert_eq!(names_in(dir.path()), ["fg.webm"]);
}

#[test]
fn what_cannot_work_is_a_typed_error_that_says_what_to_do() {
    let missing = Composer::new(Input::Webm("fg.webm".into()), Output::Webm("out.webm".into()))
        .ffmpeg(Ffmpeg::at("/nonexistent/ffmpeg"))
        .dry_run()
        .unwrap_err();
    assert!(matches!(missing, ComposeError::FfmpegNotFound { .. }), "{missing:?}");
    assert!(missing.to_string().contains("apt-get install ffmpeg"), "{missing}");

    let transparent_mp4 =
        Composer::new(Input::Webm("fg.webm".into()), Output::Mp4("out.mp4".into())).dry_run().unwrap_err();
    assert!(transparent_mp4.to_string().contains("MP4 has no alpha"), "{transparent_mp4}");
    let no_sound = Composer::new(Input::Webm("fg.webm".into()), Output::PngFrames("frames".into()))
        .audio(AudioFrom::Foreground)
        .dry_run()
        .unwrap_err();
    assert!(matches!(no_sound, ComposeError::InvalidInput { field: "audio", .. }), "{no_sound:?}");
    assert!(Input::detect("fg.mp4").is_err() && Output::detect("out.avi").is_err());

    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let composer =
        || Composer::new(Input::Webm(webm.clone()), Output::Webm(dir.path().join("out.webm"))).ffmpeg(ffmpeg.clone());

    let unknown =
        composer().composition(Composition::new(64, 48).anchor(Anchor::from("golden-ratio"))).dry_run().unwrap_err();
    assert!(matches!(&unknown, ComposeError::UnknownAnchor(name) if name == "golden-ratio"), "{unknown:?}");
    let odd = Composer::new(Input::Webm(webm.clone()), Output::Mp4(dir.path().join("o.mp4")))
        .ffmpeg(ffmpeg.clone())
        .background(Backdrop::Color(BLUE))
        .composition(Composition::new(63, 48))
        .dry_run()
        .unwrap_err();
    assert!(odd.to_string().contains("even"), "{odd}");

    let failed = composer().background(Backdrop::video(dir.path().join("missing.mp4"))).run().unwrap_err();
    let ComposeError::Probe { path, stderr_tail, .. } = &failed else { panic!("{failed:?}") };
    assert!(path.ends_with("missing.mp4") && stderr_tail.contains("missing.mp4"), "{failed}");
    assert_eq!(names_in(dir.path()), ["fg.webm"]);

    let garbage = dir.path().join("garbage.webm");
    std::fs::write(&garbage, b"not a video").unwrap();
    let probe = Composer::new(Input::Webm(garbage), Output::Webm(dir.path().join("g.webm")))
        .ffmpeg(ffmpeg)
        .dry_run()
        .unwrap_err();
    assert!(matches!(probe, ComposeError::Probe { .. }), "{probe:?}");
}

/// A stand-in ffmpeg without the libvpx-vp9 decoder: the refusal names it before anything runs.
#[cfg(unix)]
#[test]
fn an_ffmpeg_without_the_libvpx_decoder_is_refused_with_what_to_install() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("ffmpeg");
    std::fs::write(
        &fake,
        "#!/bin/sh\n\
         case \"$*\" in\n\
         *-decoders*) printf ' V..... = Video\\n ------\\n V....D vp9   Google VP9\\n' ;;\n\
         *-encoders*) printf ' V..... = Video\\n ------\\n V....D libvpx-vp9   libvpx VP9\\n' ;;\n\
         *) exit 1 ;;\n\
         esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ffprobe = dir.path().join("ffprobe");
    std::fs::write(&ffprobe, format!("#!/bin/sh\nprintf '%s' '{}'\n", r#"{"frames":[{"pix_fmt":"yuv420p"}],"streams":[{"codec_type":"video","codec_name":"vp9","width":64,"height":48,"avg_frame_rate":"25/1","tags":{"alpha_mode":"1"}}]}"#)).unwrap();
    std::fs::set_permissions(&ffprobe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let error = Composer::new(Input::Webm(dir.path().join("fg.webm")), Output::Webm(dir.path().join("out.webm")))
        .ffmpeg(Ffmpeg::at(&fake))
        .dry_run()
        .unwrap_err();
    let ComposeError::Missing { component, .. } = &error else { panic!("{error:?}") };
    assert_eq!(component, "libvpx-vp9 decoder");
    assert!(
        error.to_string().contains("WebM with alpha") && error.to_string().contains("apt-get install ffmpeg"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_face_runs_and_dropping_its_future_stops_ffmpeg() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground_of(&ffmpeg, dir.path(), "webm", 30);
    let small = dir.path().join("small.webm");
    let written = Composer::new(Input::Webm(webm.clone()), Output::Webm(small.clone()))
        .ffmpeg(ffmpeg.clone())
        .composition(Composition::new(40, 30))
        .quality(Quality::Draft)
        .run_async(|_| {})
        .await
        .unwrap();
    assert_eq!(written, small);

    let out = dir.path().join("big.mov");
    let composer = Composer::new(Input::Webm(webm), Output::Mov(out.clone()))
        .ffmpeg(ffmpeg)
        .background(Backdrop::Color(BLUE))
        .composition(Composition::new(1920, 1080));
    let (first_report, reported) = tokio::sync::oneshot::channel::<()>();
    // Dropped by the blocking task once the run has ended and cleaned up after itself.
    let (ended, run_over) = std::sync::mpsc::channel::<()>();
    let mut first_report = Some(first_report);
    let on_progress = move |_| {
        let _keep = &ended;
        if let Some(first) = first_report.take() {
            let _ = first.send(());
        }
    };
    tokio::select! {
        result = composer.run_async(on_progress) => panic!("the run should still be going: {result:?}"),
        _ = reported => {}
    }
    // The future is gone: ffmpeg is stopped and the task ends.
    tokio::task::spawn_blocking(move || assert!(run_over.recv().is_err())).await.unwrap();
    assert_eq!(names_in(dir.path()), ["fg.webm", "small.webm"]);
}

#[test]
fn the_foregrounds_sound_is_kept_on_request_and_dropped_otherwise() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = dir.path().join("talking.webm");
    let graph = format!("{},format=yuva420p", foreground_graph(1));
    sh(
        &ffmpeg,
        &[
            "-filter_complex",
            &graph,
            "-f",
            "lavfi",
            "-i",
            "sine=d=1",
            "-c:v",
            "libvpx-vp9",
            "-c:a",
            "libopus",
            "-shortest",
            webm.to_str().unwrap(),
        ],
    );
    for (audio, expected) in [(AudioFrom::Foreground, true), (AudioFrom::Nothing, false)] {
        let out = dir.path().join(format!("out-{expected}.mp4"));
        Composer::new(Input::Webm(webm.clone()), Output::Mp4(out.clone()))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::Color(BLUE))
            .audio(audio)
            .run()
            .unwrap();
        let description = Command::new(ffmpeg.program()).args(["-hide_banner", "-i"]).arg(&out).output().unwrap();
        let has_audio = String::from_utf8_lossy(&description.stderr).contains("Audio: aac");
        assert_eq!(has_audio, expected, "{audio:?}");
    }
}
