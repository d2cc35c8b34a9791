//! Local composition against the same ffmpeg command line written by hand: a 10 s 720p WebM
//! with alpha on a colour, written as H.264 MP4.
//!
//! ```text
//! cargo bench --bench compose                      # 5 pairs
//! BENCH_COMPOSE_PAIRS=9 cargo bench --bench compose
//! ```
//!
//! Environment: `BENCH_COMPOSE_PAIRS` (default 5), `BENCH_COMPOSE_SECONDS` (default 10).
//!
//! Each pair runs `Composer::run` (finding ffmpeg, asking it for its codecs, reading the
//! foreground, running it while reading its progress, moving the output into place: all that a
//! user's call costs) and the command `Composer::dry_run` printed, started with
//! `std::process::Command` and nothing else; the order alternates from pair to pair so that a
//! warming cache or a busy neighbour favours neither. Figures: the median wall time of each and
//! their ratio, against the target of at most 1.05. Nothing is asserted.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use removebgvideo::compose::{Backdrop, Composer, Ffmpeg, Input, Output, Quality};
use removebgvideo::models::Anchor;
use removebgvideo::Composition;

fn main() {
    let pairs = env_number("BENCH_COMPOSE_PAIRS", 5);
    let seconds = env_number("BENCH_COMPOSE_SECONDS", 10);
    let ffmpeg = Ffmpeg::locate().expect("ffmpeg on PATH");
    println!("{}", ffmpeg.version().expect("ffmpeg -version"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let foreground = dir.path().join("person.webm");
    make_foreground(&ffmpeg, &foreground, seconds);

    let output = dir.path().join("composed.mp4");
    let composer = || {
        Composer::new(Input::Webm(foreground.clone()), Output::Mp4(output.clone()))
            .background(Backdrop::Color([0x1E, 0x90, 0xFF]))
            .composition(Composition::new(1280, 720).anchor(Anchor::BottomCenter).scale(0.9).offset(0, -20))
            .quality(Quality::Draft)
    };
    let argv = composer().dry_run().expect("the command");
    println!("command: {}", argv.iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" "));

    let (mut ours, mut by_hand) = (Vec::new(), Vec::new());
    for pair in 0..pairs {
        let run_ours = || {
            let started = Instant::now();
            // What a user's call costs, ffmpeg's lookup included.
            composer().ffmpeg(Ffmpeg::locate().expect("ffmpeg")).run().expect("the composition");
            started.elapsed().as_secs_f64()
        };
        let run_by_hand = || {
            let started = Instant::now();
            let status = Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("ffmpeg by hand");
            assert!(status.success(), "ffmpeg by hand: {status}");
            started.elapsed().as_secs_f64()
        };
        if pair % 2 == 0 {
            ours.push(run_ours());
            by_hand.push(run_by_hand());
        } else {
            by_hand.push(run_by_hand());
            ours.push(run_ours());
        }
        println!("pair {}: Composer::run {:.3} s, by hand {:.3} s", pair + 1, ours[pair], by_hand[pair]);
    }
    let (ours, by_hand) = (median(&mut ours), median(&mut by_hand));
    println!(
        "median of {pairs}: Composer::run {ours:.3} s, ffmpeg by hand {by_hand:.3} s, ratio {:.3} (target ≤ 1.05)",
        ours / by_hand
    );
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
