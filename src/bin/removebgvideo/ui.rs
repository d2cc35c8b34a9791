//! How the command talks on standard error: `--quiet` keeps only errors and what a stop must
//! say; `--no-color` and `NO_COLOR` keep escape codes out; and Ctrl-C says what is left behind
//! (a job still running, the command that carries it on) before exiting with status 130.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

static QUIET: AtomicBool = AtomicBool::new(false);

/// What Ctrl-C says before the command exits with status 130.
static ON_INTERRUPT: Mutex<Option<Interrupted>> = Mutex::new(None);

/// The partial download (`<output>.part`) that Ctrl-C removes: the crate's download removes
/// it when it fails, but an exit skips that.
static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

/// What a Ctrl-C leaves behind, said on standard error (and as a JSON line on standard output
/// when `json` is set).
#[derive(Debug, Clone)]
pub(crate) struct Interrupted {
    pub(crate) message: String,
    pub(crate) json: Option<serde_json::Value>,
}

/// Sets `--quiet` for the whole command.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether colours are off: `--no-color`, or `NO_COLOR` set to anything but the empty string
/// (<https://no-color.org>).
pub(crate) fn no_color(flag: bool) -> bool {
    flag || std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// A line on standard error, unless `--quiet`.
pub(crate) fn note(message: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("{message}");
    }
}

/// From now on, Ctrl-C prints what [`on_interrupt`] last set and exits with status 130. A command
/// that stops cleanly by itself (a batch) sets its own handler instead.
pub(crate) fn exit_on_ctrl_c() {
    let handler = || {
        let said = ON_INTERRUPT.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(partial) = PARTIAL.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = std::fs::remove_file(partial);
        }
        // A progress line may be half drawn: start a fresh one.
        eprintln!();
        if let Some(Interrupted { message, json }) = said {
            eprintln!("{message}");
            if let Some(json) = json {
                println!("{json}");
            }
        }
        std::process::exit(130);
    };
    if let Err(error) = ctrlc::set_handler(handler) {
        note(format!("note: Ctrl-C will stop the command without a word ({error})"));
    }
}

/// From now on, Ctrl-C removes the partial download of `output` (its `.part` file).
pub(crate) fn discard_partial_download_of(output: &Path) {
    let mut name = output.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".part");
    *PARTIAL.lock().unwrap_or_else(PoisonError::into_inner) = Some(output.with_file_name(name));
}

/// What Ctrl-C says from now on.
pub(crate) fn on_interrupt(interrupted: Interrupted) {
    *ON_INTERRUPT.lock().unwrap_or_else(PoisonError::into_inner) = Some(interrupted);
}

/// Credits to two decimals; a value that rounds to zero is `0.00`, never `-0.00`.
pub(crate) fn credits(value: f64) -> String {
    let text = format!("{value:.2}");
    if text == "-0.00" {
        "0.00".to_owned()
    } else {
        text
    }
}

/// `n` and the noun, singular for 1: "1 item", "2 items".
pub(crate) fn count(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_english() {
        assert_eq!(credits(-0.001), "0.00");
        assert_eq!(credits(-1.5), "-1.50");
        assert_eq!(credits(2.0), "2.00");
        assert_eq!(count(1, "item", "items"), "1 item");
        assert_eq!(count(0, "item", "items"), "0 items");
    }
}
