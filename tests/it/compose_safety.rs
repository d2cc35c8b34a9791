//! Local composition with inputs from anyone: names that look like ffmpeg protocols or patterns,
//! a job's background URL, zips built to fill a disk, files ffmpeg cannot decode, a stalled
//! ffmpeg, huge canvases, opaque foregrounds, outputs that exist, and the command stopped by a
//! signal or killed. Each test makes the defect happen as 0.3 let it and shows it refused or
//! harmless.
//!
//! With `CI` set, a missing ffmpeg fails these tests; elsewhere they are skipped with a note.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use removebgvideo::compose::{Backdrop, ComposeError, Composer, Ffmpeg, Input, Limits, Output, Quality};
use removebgvideo::models::Anchor;
use removebgvideo::{Background, Composition};

use crate::compose::{assert_square, ffmpeg, first_frame, foreground, sh, square_on_canvas, BLUE, FG, GREEN};
use crate::support::names_in;
use crate::support::wire::{self, WireServer};

/// A one-frame PNG of `colour`, `w`x`h`, at `path`.
fn png(ffmpeg: &Ffmpeg, path: &Path, colour: &str, (w, h): (u32, u32)) {
    let source = format!("color=c={colour}:s={w}x{h}");
    sh(
        ffmpeg,
        &["-f", "lavfi", "-i", &source, "-frames:v", "1", "-f", "image2", "-c:v", "png", path.to_str().unwrap()],
    );
}

/// The arguments of `argv` that name inputs (`-i X`), each with the protocol whitelist before it.
fn inputs_with_whitelists(argv: &[std::ffi::OsString]) -> Vec<(String, String)> {
    let words: Vec<String> = argv.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    let mut found = Vec::new();
    for (at, word) in words.iter().enumerate() {
        if word == "-i" {
            let whitelist = words[..at]
                .iter()
                .rposition(|w| w == "-protocol_whitelist")
                .map(|w| words[w + 1].clone())
                .unwrap_or_default();
            found.push((words[at + 1].clone(), whitelist));
        }
    }
    found
}

#[test]
fn names_like_protocols_are_files_and_a_percent_in_a_folder_is_no_pattern() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let made = foreground(&ffmpeg, dir.path(), "webm");
    // 0.3 handed `take:1.webm` to ffmpeg, which read it as a protocol, and wrote `md5:hash.mp4`
    // through the md5 protocol.
    let webm = dir.path().join("take:1.webm");
    std::fs::rename(&made, &webm).unwrap();
    let out = dir.path().join("md5:hash.mp4");
    let layout = Composition::new(64, 48).anchor(Anchor::TopLeft).offset(4, 4);
    let composer = Composer::new(Input::detect(&webm).unwrap(), Output::detect(&out).unwrap())
        .ffmpeg(ffmpeg.clone())
        .background(Backdrop::Color(BLUE))
        .composition(layout.clone())
        .quality(Quality::Crf(12));
    let argv = composer.dry_run().unwrap();
    assert_eq!(inputs_with_whitelists(&argv), [(format!("file:{}", webm.display()), "file".to_owned())]);
    assert_eq!(argv.last().unwrap().to_str().unwrap(), format!("file:{}", out.display()));
    assert_eq!(composer.run().unwrap(), out);
    assert_square(&first_frame(&ffmpeg, &out), (64, 48), square_on_canvas(&layout), Some(BLUE), "md5:hash.mp4");
    assert_eq!(names_in(dir.path()), ["md5:hash.mp4", "take:1.webm"]);

    // 0.3 expanded `%d` of a frames folder's path.
    let parent = dir.path().join("100%d");
    std::fs::create_dir(&parent).unwrap();
    let frames = parent.join("frames");
    Composer::new(Input::Webm(webm), Output::PngFrames(frames.clone()))
        .ffmpeg(ffmpeg.clone())
        .composition(layout)
        .run()
        .unwrap();
    assert_eq!(std::fs::read_dir(&frames).unwrap().count(), 10, "every frame in the folder named");
    assert_eq!(names_in(&parent), ["frames"]);
}

#[test]
fn a_file_that_is_really_a_playlist_makes_ffmpeg_open_nothing_else() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("someone-elses.webm");
    std::fs::rename(foreground(&ffmpeg, dir.path(), "webm"), &private).unwrap();
    // An upload named like a video that is really ffmpeg's concat playlist of another file.
    let playlist = b"ffconcat version 1.0\nfile someone-elses.webm\n";
    let (evil_fg, evil_bg) = (dir.path().join("upload.webm"), dir.path().join("upload.mp4"));
    std::fs::write(&evil_fg, playlist).unwrap();
    std::fs::write(&evil_bg, playlist).unwrap();
    let refused = Composer::new(Input::detect(&evil_fg).unwrap(), Output::Webm(dir.path().join("out.webm")))
        .ffmpeg(ffmpeg.clone())
        .dry_run()
        .unwrap_err();
    assert!(matches!(refused, ComposeError::Probe { .. }), "{refused:?}");
    let refused = Composer::new(Input::Webm(private), Output::Webm(dir.path().join("out.webm")))
        .ffmpeg(ffmpeg)
        .background(Backdrop::video(&evil_bg))
        .dry_run()
        .unwrap_err();
    assert!(matches!(refused, ComposeError::Probe { .. }), "{refused:?}");
}

#[test]
fn a_jobs_background_url_is_fetched_over_http_only_and_a_local_path_in_it_is_refused() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let secret = dir.path().join("secret.png");
    png(&ffmpeg, &secret, "0x00FF00", (20, 10));
    let composer = |background: Backdrop| {
        Composer::new(Input::Webm(webm.clone()), Output::Mp4(dir.path().join("out.mp4")))
            .ffmpeg(ffmpeg.clone())
            .background(background)
            .composition(Composition::new(64, 48).anchor(Anchor::TopLeft).offset(4, 4))
            .quality(Quality::Crf(12))
    };
    // A job's settings never make ffmpeg read a local file: only a web URL is a background.
    for local in [format!("file:{}", secret.display()), secret.display().to_string(), "concat:a.png|b.png".into()] {
        let refused = Backdrop::try_from(&Background::image(&local)).unwrap_err();
        assert!(matches!(refused, ComposeError::InvalidInput { field: "background.image_url", .. }), "{refused:?}");
    }

    // ffprobe reads it, then ffmpeg (which may read it more than once while looping).
    let bytes = std::fs::read(&secret).unwrap();
    let served =
        wire::answer("200 OK", &format!("Content-Type: image/png\r\nContent-Length: {}\r\n", bytes.len()), bytes);
    let server = WireServer::serve(move |_, stream| {
        let _ = stream.write_all(&served);
    });
    let url = format!("{}/bg%201.png?v=2", server.url());
    let backdrop = Backdrop::try_from(&Background::image(&url)).unwrap();
    let argv = composer(backdrop.clone()).dry_run().unwrap();
    assert_eq!(
        inputs_with_whitelists(&argv),
        [(format!("file:{}", webm.display()), "file".to_owned()), (url.clone(), "http,https,tcp,tls".to_owned())]
    );
    let out = composer(backdrop).run().unwrap();
    let layout = Composition::new(64, 48).anchor(Anchor::TopLeft).offset(4, 4);
    assert_square(&first_frame(&ffmpeg, &out), (64, 48), square_on_canvas(&layout), Some(GREEN), "URL background");
    assert!(server.count() >= 1, "the background was read over HTTP");
}

/// A zip at `path` with `entries` (name, bytes), deflated.
fn zip_of(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn a_zip_over_its_limits_or_with_odd_entries_is_refused_and_a_dry_run_unpacks_nothing() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let frames = foreground(&ffmpeg, dir.path(), "png");
    let mut good: Vec<(String, Vec<u8>)> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).unwrap())
        })
        .collect();
    good.sort();
    let entries =
        |extra: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> { good.iter().cloned().chain(extra).collect() };
    let compose = |zip: &Path, limits: Limits| {
        Composer::new(Input::png_frames(zip).frame_rate(10.0), Output::Mov(dir.path().join("out.mov")))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::Color(BLUE))
            .limits(limits)
    };
    let write = |name: &str, list: Vec<(String, Vec<u8>)>| {
        let path = dir.path().join(name);
        zip_of(&path, &list.iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>());
        path
    };

    // A 2 MB zip that unpacks to far more: 0.3 wrote all of it to the temporary folder.
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.resize(64 << 20, 0);
    let bomb = write("bomb.zip", entries(vec![("frame_015.png".into(), bomb)]));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 << 20);
    let limits = Limits::default().zip_bytes(8 << 20);
    let refused = compose(&bomb, limits).run().unwrap_err();
    let ComposeError::InvalidInput { field: "foreground zip", reason } = &refused else { panic!("{refused:?}") };
    assert!(reason.contains("zip_bytes"), "{refused}");
    // A dry run reads the directory and one frame's header: the bomb is never unpacked.
    assert!(compose(&bomb, limits).dry_run().is_ok());

    let many = write("many.zip", entries((0..40).map(|n| (format!("junk{n}.txt"), vec![])).collect()));
    let refused = compose(&many, Limits::default().zip_entries(30)).run().unwrap_err();
    assert!(refused.to_string().contains("zip_entries"), "{refused}");

    let control = write("control.zip", entries(vec![("frames/evil\n.png".into(), good[0].1.clone())]));
    let refused = compose(&control, Limits::default()).dry_run().unwrap_err();
    assert!(refused.to_string().contains("control characters"), "{refused}");

    let mut fake = good.clone();
    fake[3].1 = b"#EXTM3U\nhttp://169.254.169.254/\n".to_vec();
    let fake = write("fake.zip", fake);
    let refused = compose(&fake, Limits::default()).run().unwrap_err();
    assert!(refused.to_string().contains("not a PNG"), "{refused}");

    // Within the limits, a dry run names the folder a run would unpack to, and unpacks nothing.
    let fine = write("fine.zip", entries(vec![]));
    let argv = compose(&fine, Limits::default()).dry_run().unwrap();
    assert!(argv.iter().any(|arg| arg.to_string_lossy().contains("removebgvideo-frames-of-a-run")), "{argv:?}");
    let layout = Composition::new(FG.0, FG.1);
    let out = compose(&fine, Limits::default()).run().unwrap();
    assert_square(&first_frame(&ffmpeg, &out), FG, square_on_canvas(&layout), Some(BLUE), "zipped frames");
}

#[test]
fn sizes_come_from_ffprobe_and_headers_and_an_undecodable_background_fails_before_rendering() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let frames = foreground(&ffmpeg, dir.path(), "png");
    // 0.3 read sizes from ffmpeg's log, where a frame name with a newline faked a 9000x9000 one.
    let faked = dir.path().join("faked");
    std::fs::create_dir(&faked).unwrap();
    for entry in std::fs::read_dir(&frames).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().replace("frame_", "x\n  Stream #0:0: Video: png, 9000x9000 f");
        std::fs::copy(entry.path(), faked.join(name)).unwrap();
    }
    let out = dir.path().join("own-size.mov");
    Composer::new(Input::png_frames(&faked).frame_rate(10.0), Output::Mov(out.clone()))
        .ffmpeg(ffmpeg.clone())
        .background(Backdrop::Color(BLUE))
        .run()
        .unwrap();
    let layout = Composition::new(FG.0, FG.1);
    assert_square(&first_frame(&ffmpeg, &out), FG, square_on_canvas(&layout), Some(BLUE), "the true size");

    // 0.3 looped a PNG header with nothing after it (or garbage) forever with `-loop 1`.
    let header_only = dir.path().join("header.png");
    png(&ffmpeg, &header_only, "green", (20, 10));
    let bytes = std::fs::read(&header_only).unwrap();
    std::fs::write(&header_only, &bytes[..33]).unwrap();
    let garbage = dir.path().join("garbage.jpg");
    std::fs::write(&garbage, b"not an image at all").unwrap();
    for bad in [header_only, garbage] {
        let refused =
            Composer::new(Input::png_frames(&frames).frame_rate(10.0), Output::Mov(dir.path().join("bad.mov")))
                .ffmpeg(ffmpeg.clone())
                .background(Backdrop::image(&bad))
                .run()
                .unwrap_err();
        let ComposeError::Probe { path, .. } = &refused else { panic!("{bad:?}: {refused:?}") };
        assert_eq!(path, &bad);
    }
    assert!(!dir.path().join("bad.mov").exists());
}

#[test]
fn huge_canvases_and_opaque_foregrounds_are_refused_unless_allowed() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let composer = |layout: Composition| {
        Composer::new(Input::Webm(webm.clone()), Output::Mp4(dir.path().join("out.mp4")))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::Color(BLUE))
            .composition(layout)
    };
    // 0.3 ran a 16000x16000 canvas (7.1 GB of memory).
    let refused = composer(Composition::new(16_000, 16_000)).dry_run().unwrap_err();
    assert!(matches!(refused, ComposeError::InvalidInput { field: "composition.canvas", .. }), "{refused:?}");
    let refused = composer(Composition::new(64, 48).scale(400.0)).dry_run().unwrap_err();
    assert!(matches!(refused, ComposeError::InvalidInput { .. }), "{refused:?}");
    let small = Limits::default().pixels(64 * 48);
    assert!(composer(Composition::new(64, 48)).limits(small).dry_run().is_ok());
    assert!(composer(Composition::new(66, 48)).limits(small).dry_run().is_err());

    // 0.3 composed a foreground without alpha, which hid the background without a word.
    let opaque = dir.path().join("opaque.webm");
    sh(&ffmpeg, &["-f", "lavfi", "-i", "color=c=red:s=32x24:r=10:d=1", "-c:v", "libvpx-vp9", opaque.to_str().unwrap()]);
    let plain = || {
        Composer::new(Input::Webm(opaque.clone()), Output::Mp4(dir.path().join("opaque.mp4")))
            .ffmpeg(ffmpeg.clone())
            .background(Backdrop::Color(BLUE))
    };
    let refused = plain().dry_run().unwrap_err();
    let ComposeError::InvalidInput { field: "foreground", reason } = &refused else { panic!("{refused:?}") };
    assert!(reason.contains("no alpha channel"), "{refused}");
    assert!(plain().allow_opaque(true).dry_run().is_ok());
}

/// A stand-in ffmpeg (and ffprobe) that reports one progress block, then hangs.
#[cfg(unix)]
#[test]
fn ffmpeg_that_stops_making_frames_is_stopped_with_a_typed_error() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let fake = script(
        "ffmpeg",
        "case \"$*\" in\n\
         *-decoders*) printf ' V..... = Video\\n ------\\n V....D libvpx-vp9   libvpx VP9\\n' ;;\n\
         *-encoders*) printf ' V..... = Video\\n ------\\n V....D libvpx-vp9   libvpx VP9\\n' ;;\n\
         *) printf 'frame=1\\nout_time_us=40000\\nprogress=continue\\n'; exec sleep 600 ;;\n\
         esac",
    );
    let answer = r#"{"frames":[{"pix_fmt":"yuva420p"}],"streams":[{"codec_type":"video","codec_name":"vp9","width":64,"height":48,"avg_frame_rate":"25/1","tags":{"alpha_mode":"1"}}]}"#;
    script("ffprobe", &format!("printf '%s' '{answer}'"));
    let out = dir.path().join("out.webm");
    let rendering = Composer::new(Input::Webm(dir.path().join("fg.webm")), Output::Webm(out.clone()))
        .ffmpeg(Ffmpeg::at(&fake))
        .limits(Limits::default().stall(Duration::from_millis(300)))
        .spawn()
        .unwrap();
    let mut frames = Vec::new();
    let stalled = rendering.wait_with_progress(|progress| frames.push(progress.frames)).unwrap_err();
    assert!(matches!(stalled, ComposeError::Stalled { .. }), "{stalled:?}");
    assert_eq!(frames, [1]);
    assert!(stalled.to_string().contains("no new frame"), "{stalled}");
    assert_eq!(names_in(dir.path()), ["ffmpeg", "ffprobe"], "no output, no partial output");
}

#[test]
fn outputs_are_not_overwritten_unless_asked_and_a_users_part_folder_is_left_alone() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = foreground(&ffmpeg, dir.path(), "webm");
    let out = dir.path().join("out.webm");
    std::fs::write(&out, b"the user's own file").unwrap();
    let composer = || {
        Composer::new(Input::Webm(webm.clone()), Output::Webm(out.clone()))
            .ffmpeg(ffmpeg.clone())
            .quality(Quality::Draft)
    };
    let refused = composer().run().unwrap_err();
    assert!(matches!(refused, ComposeError::InvalidInput { field: "output", .. }), "{refused:?}");
    assert!(composer().dry_run().is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"the user's own file");
    composer().overwrite(true).run().unwrap();
    assert_ne!(std::fs::read(&out).unwrap(), b"the user's own file");
    // The overwriting dry run says `-y`, the other one `-n`.
    assert_eq!(composer().overwrite(true).dry_run().unwrap()[1], "-y");

    // 0.3 deleted a folder `NAME.part` it took for its own.
    let users = dir.path().join("frames.part");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("keep.txt"), b"mine").unwrap();
    let frames = dir.path().join("frames");
    Composer::new(Input::Webm(webm.clone()), Output::PngFrames(frames.clone())).ffmpeg(ffmpeg.clone()).run().unwrap();
    assert_eq!(std::fs::read(users.join("keep.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read_dir(&frames).unwrap().count(), 10);
    assert_eq!(names_in(dir.path()), ["fg.webm", "frames", "frames.part", "out.webm"]);
}

/// The command, through the binary cargo builds for the tests.
#[cfg(all(target_os = "linux", feature = "cli"))]
mod command {
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};

    use super::{ffmpeg, foreground};
    use crate::compose::foreground_of;
    use crate::support::names_in;

    const EXE: &str = env!("CARGO_BIN_EXE_removebgvideo");

    /// The pid of `parent`'s child running `name` with `arg` among its arguments (the encoding
    /// ffmpeg, not the one asked for its codecs), once the command says it is composing: off a
    /// terminal it prints `composing: 0%` at ffmpeg's first progress report.
    fn child_named(parent: &mut Child, name: &str, arg: &str) -> u32 {
        let mut stderr = BufReader::new(parent.stderr.take().expect("standard error is piped"));
        let mut said = String::new();
        while !said.contains("composing: ") {
            let read = stderr.read_line(&mut said).unwrap();
            assert!(read > 0, "the command ended before composing:\n{said}");
        }
        // The rest is drained, so that the command never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // `pid (comm) state ppid …`; comm may hold spaces, so split after its `)`.
            let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
            let comm = head.split_once(" (").map(|(_, comm)| comm).unwrap_or_default();
            let ppid: u32 = rest.split(' ').nth(1).and_then(|ppid| ppid.parse().ok()).unwrap_or(0);
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if ppid == parent.id() && comm == name && cmdline.split(|&b| b == 0).any(|word| word == arg.as_bytes()) {
                return head.split(' ').next().unwrap().parse().unwrap();
            }
        }
        panic!("the command is composing, but no {name} child with {arg} runs");
    }

    /// Whether `pid` is gone (or a zombie no one has reaped yet: it runs no more).
    fn gone(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
        }
    }

    /// Waits up to 10 s for `pid`, which is not our child, to be gone: a pidfd turns readable
    /// when its process ends.
    fn wait_gone(pid: u32) -> bool {
        let pid = libc::pid_t::try_from(pid).unwrap();
        // SAFETY: pidfd_open takes a pid and flags, and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            let error = std::io::Error::last_os_error();
            assert_eq!(error.raw_os_error(), Some(libc::ESRCH), "pidfd_open: {error}");
            return true;
        }
        let fd = i32::try_from(fd).unwrap();
        let mut ready = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd; the descriptor is ours and closed once, right after.
        let polled = unsafe { libc::poll(&mut ready, 1, 10_000) };
        unsafe { libc::close(fd) };
        polled == 1 || gone(pid as u32)
    }

    /// A long composition (a 30 s foreground on a 1080p ProRes canvas) started by the command.
    fn long_compose(dir: &Path) -> (Child, PathBuf) {
        let ffmpeg = ffmpeg().expect("ffmpeg (checked by the caller)");
        let webm = foreground_of(&ffmpeg, dir, "webm", 30);
        let out = dir.join("big.mov");
        let child = Command::new(EXE)
            .args(["compose", webm.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .args(["--background", "#0000FF", "--canvas", "1920x1080"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (child, out)
    }

    #[test]
    fn sigterm_stops_ffmpeg_removes_the_partial_output_and_exits_130() {
        let Some(_) = ffmpeg() else { return };
        let dir = tempfile::tempdir().unwrap();
        let (mut command, out) = long_compose(dir.path());
        let encoder = child_named(&mut command, "ffmpeg", "-filter_complex");
        let sent = Command::new("kill").args(["-TERM", &command.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let ended = command.wait_with_output().unwrap();
        assert_eq!(ended.status.code(), Some(130), "{}", String::from_utf8_lossy(&ended.stderr));
        assert!(gone(encoder), "ffmpeg {encoder} was reaped before the command ended");
        assert!(!out.exists());
        assert_eq!(names_in(dir.path()), ["fg.webm"], "no partial output");
    }

    #[test]
    fn sigkill_of_the_command_takes_ffmpeg_with_it() {
        let Some(_) = ffmpeg() else { return };
        let dir = tempfile::tempdir().unwrap();
        let (mut command, _) = long_compose(dir.path());
        let encoder = child_named(&mut command, "ffmpeg", "-filter_complex");
        command.kill().unwrap();
        command.wait().unwrap();
        assert!(wait_gone(encoder), "ffmpeg {encoder} kept running after its command was killed");
    }

    #[test]
    fn a_dry_run_prints_a_command_a_shell_runs_as_printed() {
        let Some(ffmpeg) = ffmpeg() else { return };
        let dir = tempfile::tempdir().unwrap();
        let made = foreground(&ffmpeg, dir.path(), "webm");
        let webm = dir.path().join("it's take:1 $HOME (v2).webm");
        std::fs::rename(&made, &webm).unwrap();
        let out = dir.path().join("out put; rm -rf x.mp4");
        let printed = Command::new(EXE)
            .args(["compose", webm.to_str().unwrap(), "--output", out.to_str().unwrap(), "-b", "#00FF00"])
            .args(["--canvas", "64x48", "--dry-run"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(printed.status.code(), Some(0), "{}", String::from_utf8_lossy(&printed.stderr));
        assert!(!out.exists());
        let line = String::from_utf8(printed.stdout).unwrap();
        let ran = Command::new("sh").args(["-c", &line]).stdout(Stdio::null()).output().unwrap();
        assert!(ran.status.success(), "{line}\n{}", String::from_utf8_lossy(&ran.stderr));
        assert!(std::fs::metadata(&out).unwrap().len() > 0, "{line}");

        // The output exists now: refused without --force, which the refusal names.
        let again = |force: &[&str]| {
            Command::new(EXE)
                .args(["compose", webm.to_str().unwrap(), "-o", out.to_str().unwrap(), "-b", "#00FF00", "--dry-run"])
                .args(force)
                .output()
                .unwrap()
        };
        let refused = again(&[]);
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"), "{refused:?}");
        let forced = again(&["--force"]);
        assert_eq!(forced.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&forced.stdout).contains(" -y "), "{forced:?}");

        // Into a folder of frames: the line makes the folder first.
        let frames = dir.path().join("frames of 'it'");
        let printed = Command::new(EXE)
            .args(["compose", webm.to_str().unwrap(), "-o", frames.to_str().unwrap(), "-b", "none", "--dry-run"])
            .output()
            .unwrap();
        let line = String::from_utf8(printed.stdout).unwrap();
        assert!(Command::new("sh").args(["-c", &line]).output().unwrap().status.success(), "{line}");
        assert_eq!(std::fs::read_dir(&frames).unwrap().count(), 10);
    }
}
