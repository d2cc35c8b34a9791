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

/// CPU time (user + system) of the whole process, every thread included (also threads that
/// already exited), in nanoseconds: `CLOCK_PROCESS_CPUTIME_ID`, which the kernel keeps exact.
///
/// (Summing `/proc/self/task/*/schedstat` loses the time of threads that exit between two
/// readings, such as tokio's idle blocking threads, and `/proc/self/stat` counts 10 ms ticks;
/// switching between the two made single batches jump by several percent.)
pub fn process_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanos: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut time = Timespec { seconds: 0, nanos: 0 };
    // SAFETY: `time` is a valid, writable timespec (two 64-bit fields on 64-bit Linux).
    let status = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    time.seconds as u64 * 1_000_000_000 + time.nanos as u64
}

/// A CPU mask as the kernel takes it (`cpu_set_t`: 1024 bits).
type CpuSet = [u64; 16];

unsafe extern "C" {
    fn sched_setaffinity(pid: i32, size: usize, mask: *const CpuSet) -> i32;
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut CpuSet) -> i32;
}

/// The CPUs this thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    let mut mask: CpuSet = [0; 16];
    // SAFETY: the mask is a valid, writable cpu_set_t of the size given.
    let status = unsafe { sched_getaffinity(0, std::mem::size_of::<CpuSet>(), &mut mask) };
    if status != 0 {
        return Vec::new();
    }
    (0..1024).filter(|cpu| mask[cpu / 64] & (1 << (cpu % 64)) != 0).collect()
}

/// Pins the calling thread to one CPU; threads and processes it starts afterwards inherit it.
pub fn pin_to_cpu(cpu: usize) -> std::io::Result<()> {
    let mut mask: CpuSet = [0; 16];
    mask[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: the mask is a valid cpu_set_t of the size given.
    let status = unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), &mask) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
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
