//! Local composition against two ffmpeg commands: the one `Composer::dry_run` prints, run by
//! hand (what the wrapper costs), and the command a user would write for the same composite (what
//! the crate's choices cost):
//!
//! ```text
//! ffmpeg -c:v libvpx-vp9 -i fg.webm -f lavfi -i color=c=0x00FF00:s=1280x720:r=25 \
//!   -filter_complex "[1:v][0:v]overlay=x=(W-w)/2:y=(H-h)/2:shortest=1,format=yuv420p" -c:v libx264 out.mp4
//! ```
//!
//! on a 10 s 720x720 VP9 WebM with alpha, centred on a 1280x720 green canvas, written as H.264
//! MP4 at the default quality.
//!
//! ```text
//! cargo bench --bench compose --features compose      # 5 rounds
//! BENCH_COMPOSE_ROUNDS=9 cargo bench --bench compose --features compose
//! ```
//!
//! Environment: `BENCH_COMPOSE_ROUNDS` (default 5), `BENCH_COMPOSE_SECONDS` (default 10).
//!
//! Each round runs `Composer::run` (finding ffmpeg, asking it for its codecs, ffprobe reading
//! the foreground, running ffmpeg while reading its progress, moving the output into place: all
//! that a user's call costs), the dry run's command and the user's command, each started with
//! `std::process::Command`; the order rotates from round to round so that a warming cache or a
//! busy neighbour favours none. Figures: the median CPU time (user + system of the child
//! processes, on Linux) and wall time of each, and two ratios: `Composer::run` against the user's
//! command in CPU (target at most 1.10) and against its own command by hand in wall time (target
//! at most 1.05). Nothing is asserted.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use removebgvideo::compose::{Backdrop, Composer, Ffmpeg, Input, Output};
use removebgvideo::Composition;

fn main() {
    let rounds = env_number("BENCH_COMPOSE_ROUNDS", 5);
    let seconds = env_number("BENCH_COMPOSE_SECONDS", 10);
    let ffmpeg = Ffmpeg::locate().expect("ffmpeg on PATH");
    println!("{}", ffmpeg.version().expect("ffmpeg -version"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let foreground = dir.path().join("person.webm");
    make_foreground(&ffmpeg, &foreground, seconds);

    let output = dir.path().join("composed.mp4");
    let composer = || {
        Composer::new(Input::Webm(foreground.clone()), Output::Mp4(output.clone()))
            .background(Backdrop::Color([0x00, 0xFF, 0x00]))
            .composition(Composition::new(1280, 720))
            .overwrite(true)
    };
    let ours: Vec<OsString> = composer().dry_run().expect("the command");
    println!("the crate's command: {}", words(&ours));
    let users: Vec<OsString> = [
        "-hide_banner",
        "-v",
        "error",
        "-y",
        "-c:v",
        "libvpx-vp9",
        "-i",
        foreground.to_str().expect("a UTF-8 temporary path"),
        "-f",
        "lavfi",
        "-i",
        "color=c=0x00FF00:s=1280x720:r=25",
        "-filter_complex",
        "[1:v][0:v]overlay=x=(W-w)/2:y=(H-h)/2:shortest=1,format=yuv420p",
        "-c:v",
        "libx264",
        dir.path().join("users.mp4").to_str().expect("a UTF-8 temporary path"),
    ]
    .map(OsString::from)
    .to_vec();
    println!("the user's command: ffmpeg {}", words(&users));

    let mut figures: [Vec<(f64, f64)>; 3] = Default::default();
    for round in 0..rounds {
        for turn in 0..3 {
            let which = (round + turn) % 3;
            let figure = match which {
                0 => measure(|| {
                    // What a user's call costs, ffmpeg's lookup included.
                    composer().ffmpeg(Ffmpeg::locate().expect("ffmpeg")).run().expect("the composition");
                }),
                1 => measure(|| run(ffmpeg.program(), &ours[1..])),
                _ => measure(|| run(ffmpeg.program(), &users)),
            };
            figures[which].push(figure);
        }
        let [run, by_hand, user] = &figures;
        println!(
            "round {}: Composer::run {}, its command by hand {}, the user's command {}",
            round + 1,
            shown(run[round]),
            shown(by_hand[round]),
            shown(user[round])
        );
    }
    let [run, by_hand, user] = figures.map(|mut list| medians(&mut list));
    println!(
        "medians of {rounds}: Composer::run {}, its command by hand {}, the user's command {}",
        shown(run),
        shown(by_hand),
        shown(user)
    );
    if run.1 > 0.0 && user.1 > 0.0 {
        println!("CPU, Composer::run / the user's command: {:.3} (target ≤ 1.10)", run.1 / user.1);
    } else {
        println!("CPU, Composer::run / the user's command: not measured on this platform");
    }
    println!("wall, Composer::run / its command by hand: {:.3} (target ≤ 1.05)", run.0 / by_hand.0);
}

/// Runs ffmpeg with `args`, its output dropped.
fn run(program: &Path, args: &[OsString]) {
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg: {status}");
}

/// The wall time and the CPU time of the child processes `work` starts and waits for.
fn measure(work: impl FnOnce()) -> (f64, f64) {
    let (started, cpu) = (Instant::now(), children_cpu());
    work();
    (started.elapsed().as_secs_f64(), children_cpu() - cpu)
}

/// User and system time of every child waited for so far (0 where not measured).
#[cfg(target_os = "linux")]
fn children_cpu() -> f64 {
    // SAFETY: getrusage writes one `rusage` into the zeroed value it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(not(target_os = "linux"))]
fn children_cpu() -> f64 {
    0.0
}

fn shown((wall, cpu): (f64, f64)) -> String {
    format!("{wall:.2} s wall / {cpu:.2} s CPU")
}

fn words(args: &[OsString]) -> String {
    args.iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

/// `seconds` of a 640x640 moving test pattern with a soft-edged alpha disc, on a transparent
/// 720x720 frame, as VP9 WebM with alpha at 25 fps.
fn make_foreground(ffmpeg: &Ffmpeg, path: &Path, seconds: usize) {
    let graph = format!(
        "color=c=black@0.0:s=720x720:r=25:d={seconds},format=rgba[c];\
         testsrc2=s=640x640:r=25,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':\
         a='if(lt(hypot(X-320,Y-320),300),255,0)'[p];\
         [c][p]overlay=x=40:y=80:shortest=1:format=rgb,format=yuva420p"
    );
    let started = Instant::now();
    let status = Command::new(ffmpeg.program())
        .args(["-hide_banner", "-v", "error", "-y", "-filter_complex", &graph])
        .args(["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M"])
        .arg(path)
        .status()
        .expect("make the foreground");
    assert!(status.success(), "making the foreground: {status}");
    println!("foreground: {seconds} s, 720x720 VP9 with alpha, made in {:.1} s", started.elapsed().as_secs_f64());
}

/// The median wall time and the median CPU time.
fn medians(values: &mut [(f64, f64)]) -> (f64, f64) {
    let mut walls: Vec<f64> = values.iter().map(|value| value.0).collect();
    let mut cpus: Vec<f64> = values.iter().map(|value| value.1).collect();
    (median(&mut walls), median(&mut cpus))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}
