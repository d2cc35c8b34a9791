//! The `removebgvideo` command as the tests run it: the binary cargo built for them
//! (`CARGO_BIN_EXE_removebgvideo`), pointed at a simulator, never at a queue from the
//! environment or a crash hook left set.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

use removebgvideo::simulator::Simulator;

/// The binary under test.
pub const EXE: &str = env!("CARGO_BIN_EXE_removebgvideo");

/// The command with `args`, using `sim`'s key and URL; its output is captured.
pub fn command<S: AsRef<OsStr>>(sim: &Simulator, args: &[S]) -> Command {
    let mut command = Command::new(EXE);
    command
        .args(args)
        .env("REMOVEBGVIDEO_API_KEY", sim.api_key())
        .env("REMOVEBGVIDEO_BASE_URL", sim.base_url())
        .env_remove("REMOVEBGVIDEO_QUEUE_URL")
        .env_remove("REMOVEBGVIDEO_TEST_CRASH_AT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The command with `args`, run to its end.
pub fn run(sim: &Simulator, args: &[&str]) -> Output {
    command(sim, args).output().expect("run the command")
}

/// Captured output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
