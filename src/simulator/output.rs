//! The deterministic bytes of a generated output file.

use std::io::{self, Read};

use super::state::fnv1a;

/// The byte at `pos` of the output of `job_id`.
fn byte_at(seed: u64, pos: u64) -> u8 {
    let x = pos.wrapping_add(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 56) as u8
}

/// The full content the simulator serves for the output of `job_id`, `len` bytes long
/// (what `GET /outputs/{job_id}.{ext}` streams), so a test can compare a download.
#[must_use]
pub fn expected_output(job_id: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    let mut r = OutputReader::new(job_id, len);
    let _ = r.read(&mut out);
    out
}

/// Streams the output of one job without holding it in memory.
pub(crate) struct OutputReader {
    seed: u64,
    pos: u64,
    len: u64,
}

impl OutputReader {
    pub(crate) fn new(job_id: &str, len: usize) -> Self {
        OutputReader { seed: fnv1a(job_id.as_bytes()), pos: 0, len: len as u64 }
    }
}

impl Read for OutputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = byte_at(self.seed, self.pos + i as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}
