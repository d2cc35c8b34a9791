//! The end of a tool's standard error, bounded: what an error quotes of ffmpeg or ffprobe.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};

/// How many of ffmpeg's last stderr lines an error quotes.
const TAIL_LINES: usize = 12;
/// How many characters of them at most.
const TAIL_CHARS: usize = 2_000;

/// Reads ffmpeg's stderr to the end (so that it never blocks on a full pipe), keeping the end.
pub(crate) fn read_tail(stderr: impl Read) -> String {
    let mut last: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    for line in BufReader::new(stderr).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line).trim_end().to_owned();
        if line.is_empty() {
            continue;
        }
        if last.len() == TAIL_LINES {
            last.pop_front();
        }
        last.push_back(line);
    }
    tail(&Vec::from(last).join("\n"))
}

/// The last lines of `text`, at most [`TAIL_CHARS`] characters.
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let kept = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    let chars = kept.chars().count();
    if chars <= TAIL_CHARS {
        kept
    } else {
        let cut: String = kept.chars().skip(chars - TAIL_CHARS).collect();
        format!("…{cut}")
    }
}

#[cfg(test)]
mod tests {
    use super::{read_tail, tail};

    #[test]
    fn the_tail_keeps_the_last_lines_and_bounds_their_length() {
        let text: String = (0..30).map(|n| format!("line {n}\n")).collect();
        let kept = read_tail(text.as_bytes());
        assert!(kept.starts_with("line 18\n") && kept.ends_with("line 29"));
        let long = "x".repeat(5_000);
        assert_eq!(tail(&long).chars().count(), 2_001);
    }
}
