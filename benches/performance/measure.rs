//! Measuring with /proc: peak resident memory (VmHWM) and CPU time, of this process or a child.

use std::fs;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// `VmHWM` (peak resident set) of a process in KiB, while it runs.
pub fn vm_hwm_kib(pid: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) of the whole process, every thread included, in nanoseconds.
///
/// Summed from `/proc/self/task/*/schedstat` (nanosecond resolution); threads that already
/// exited are no longer listed there, so this falls back to `/proc/self/stat` (10 ms ticks)
/// when that reads higher.
pub fn process_cpu_ns() -> u64 {
    let mut from_schedstat = 0u64;
    if let Ok(tasks) = fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = fs::read_to_string(task.path().join("schedstat")) {
                from_schedstat += text.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    from_schedstat.max(stat_cpu_ns().unwrap_or(0))
}

/// utime + stime of this process from `/proc/self/stat`, in nanoseconds (assumes 100 ticks/s,
/// the value of USER_HZ on Linux).
fn stat_cpu_ns() -> Option<u64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10_000_000)
}

/// The outcome of a child process run under [`run_polled`].
pub struct Polled {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to exit, as the parent saw it.
    pub wall: Duration,
    /// The highest `VmHWM` read while the child ran. VmHWM is itself a high-water mark, so the
    /// last read before exit holds the peak of everything before it.
    pub peak_kib: u64,
}

/// Runs a command, reading its `VmHWM` every 2 ms until it exits, with a time limit.
pub fn run_polled(command: &mut Command, limit: Duration) -> Polled {
    let started = Instant::now();
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {command:?}: {error}"));
    let pid = child.id().to_string();
    // Read the pipes on their own threads so a chatty child cannot block on a full pipe.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = out_pipe.read_to_string(&mut text);
        text
    });
    let err_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = err_pipe.read_to_string(&mut text);
        text
    });
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(&pid) {
            peak_kib = peak_kib.max(kib);
        }
        match child.try_wait().expect("wait for the child") {
            Some(status) => break status,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                break child.wait().expect("wait for the killed child");
            }
            None => thread::sleep(Duration::from_millis(2)),
        }
    };
    let wall = started.elapsed();
    Polled {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        wall,
        peak_kib,
    }
}

/// The `key=value` fields of the child's `RESULT` line.
pub fn result_field(stdout: &str, key: &str) -> Option<f64> {
    let line = stdout.lines().rev().find(|line| line.starts_with("RESULT "))?;
    line.split_whitespace()
        .filter_map(|field| field.split_once('='))
        .find(|(name, _)| *name == key)
        .and_then(|(_, value)| value.parse().ok())
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

pub fn best(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}
