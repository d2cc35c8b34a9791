//! Finding ffmpeg and asking it once which decoders and encoders it has.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use super::error::ComposeError;

/// The ffmpeg program a composition runs: found on `PATH` or set by the user.
///
/// Cheap to clone; the clones share what ffmpeg said it can do (asked once, on first need).
///
/// ```no_run
/// use removebgvideo::compose::Ffmpeg;
///
/// let on_path = Ffmpeg::locate()?;
/// let pinned = Ffmpeg::at("/opt/ffmpeg/bin/ffmpeg");
/// # let _ = (on_path, pinned);
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Clone)]
pub struct Ffmpeg {
    inner: Arc<Inner>,
}

struct Inner {
    program: PathBuf,
    codecs: OnceLock<Codecs>,
}

#[derive(Default)]
struct Codecs {
    decoders: HashSet<String>,
    encoders: HashSet<String>,
}

impl fmt::Debug for Ffmpeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ffmpeg").field("program", &self.inner.program).finish_non_exhaustive()
    }
}

impl Ffmpeg {
    /// The `ffmpeg` found on `PATH` (`ffmpeg.exe` on Windows).
    ///
    /// # Errors
    ///
    /// [`ComposeError::FfmpegNotFound`], saying how to install it.
    pub fn locate() -> Result<Self, ComposeError> {
        let name = if cfg!(windows) { "ffmpeg.exe" } else { "ffmpeg" };
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(Self::at)
            .ok_or_else(|| ComposeError::FfmpegNotFound { searched: format!("no {name} in any folder of PATH") })
    }

    /// The ffmpeg at `program`; nothing is checked until it is used.
    #[must_use]
    pub fn at(program: impl Into<PathBuf>) -> Self {
        Self { inner: Arc::new(Inner { program: program.into(), codecs: OnceLock::new() }) }
    }

    /// The program that runs.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.inner.program
    }

    /// The first line of `ffmpeg -version`, such as `ffmpeg version 5.1.6-0+deb12u1 …`.
    ///
    /// # Errors
    ///
    /// [`ComposeError::FfmpegNotFound`] when the program does not exist,
    /// [`ComposeError::FfmpegUnusable`] when it cannot be run or does not answer like ffmpeg.
    pub fn version(&self) -> Result<String, ComposeError> {
        let text = self.ask(["-version"])?;
        let first = text.lines().next().unwrap_or_default().trim().to_owned();
        if first.starts_with("ffmpeg version") {
            Ok(first)
        } else {
            Err(self.unusable(format!("`-version` answered {first:?}")))
        }
    }

    /// Refuses when ffmpeg has no decoder `name`.
    pub(crate) fn need_decoder(&self, name: &str, needed_for: &'static str) -> Result<(), ComposeError> {
        if self.codecs()?.decoders.contains(name) {
            Ok(())
        } else {
            Err(ComposeError::Missing { component: format!("{name} decoder"), needed_for })
        }
    }

    /// Refuses when ffmpeg has no encoder `name`.
    pub(crate) fn need_encoder(&self, name: &str, needed_for: &'static str) -> Result<(), ComposeError> {
        if self.codecs()?.encoders.contains(name) {
            Ok(())
        } else {
            Err(ComposeError::Missing { component: format!("{name} encoder"), needed_for })
        }
    }

    /// A command for this ffmpeg with no window of its own and nothing read from the terminal.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.inner.program);
        command.stdin(Stdio::null());
        command
    }

    fn codecs(&self) -> Result<&Codecs, ComposeError> {
        if let Some(codecs) = self.inner.codecs.get() {
            return Ok(codecs);
        }
        let codecs = Codecs {
            decoders: codec_names(&self.ask(["-hide_banner", "-decoders"])?),
            encoders: codec_names(&self.ask(["-hide_banner", "-encoders"])?),
        };
        if codecs.decoders.is_empty() || codecs.encoders.is_empty() {
            return Err(self.unusable("`-decoders`/`-encoders` listed nothing".to_owned()));
        }
        // Two threads asking at once get the same answer; the second one's is dropped.
        Ok(self.inner.codecs.get_or_init(|| codecs))
    }

    /// Runs ffmpeg with `args` and returns what it wrote to stdout.
    fn ask<const N: usize>(&self, args: [&str; N]) -> Result<String, ComposeError> {
        let output =
            self.command().args(args.map(OsString::from)).stderr(Stdio::null()).output().map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    ComposeError::FfmpegNotFound {
                        searched: format!("{} does not exist", self.inner.program.display()),
                    }
                } else {
                    ComposeError::FfmpegUnusable { path: self.inner.program.clone(), source }
                }
            })?;
        if !output.status.success() {
            return Err(self.unusable(format!("`{}` ended with {}", args.join(" "), output.status)));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn unusable(&self, reason: String) -> ComposeError {
        ComposeError::FfmpegUnusable { path: self.inner.program.clone(), source: std::io::Error::other(reason) }
    }
}

/// The names in `ffmpeg -decoders`/`-encoders`: lines such as ` V....D libx264   libx264 H.264`
/// after the ` ------` rule.
fn codec_names(listing: &str) -> HashSet<String> {
    listing
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("---"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let flags = words.next()?;
            (flags.len() == 6).then_some(())?;
            words.next().map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::codec_names;

    #[test]
    fn codec_listing_is_read_after_the_rule() {
        let listing = "Encoders:\n V..... = Video\n ------\n V....D libx264              libx264 H.264\n VFS... prores_ks            Apple ProRes\n";
        let names = codec_names(listing);
        assert!(names.contains("libx264") && names.contains("prores_ks"));
        assert!(!names.contains("="));
        assert_eq!(names.len(), 2);
    }
}
