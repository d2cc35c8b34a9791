//! Finding ffmpeg (and the ffprobe beside it), asking it once which decoders and encoders it
//! has, and starting both so that they never outlive the process that started them.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use super::error::ComposeError;

/// The ffmpeg program a composition runs, found on `PATH` or set by the user, and the ffprobe
/// that reads its inputs (beside ffmpeg unless set with [`with_ffprobe`](Ffmpeg::with_ffprobe)).
///
/// On Linux both run in a process group of their own (a terminal's Ctrl-C reaches the program
/// that started them, which stops them) and are killed by the kernel when the thread that started
/// them ends, so even a `kill -9` of that program leaves no encoder running.
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
    ffprobe: PathBuf,
    codecs: OnceLock<Codecs>,
}

#[derive(Default)]
struct Codecs {
    decoders: HashSet<String>,
    encoders: HashSet<String>,
}

impl fmt::Debug for Ffmpeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ffmpeg")
            .field("program", &self.inner.program)
            .field("ffprobe", &self.inner.ffprobe)
            .finish_non_exhaustive()
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

    /// The ffmpeg at `program`, with the ffprobe beside it (`/opt/ff/ffmpeg-6` → `/opt/ff/ffprobe-6`);
    /// nothing is checked until it is used.
    #[must_use]
    pub fn at(program: impl Into<PathBuf>) -> Self {
        let program = program.into();
        let name = program.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let ffprobe = if name.contains("ffmpeg") {
            name.replacen("ffmpeg", "ffprobe", 1)
        } else if cfg!(windows) {
            "ffprobe.exe".to_owned()
        } else {
            "ffprobe".to_owned()
        };
        let ffprobe = program.with_file_name(ffprobe);
        Self { inner: Arc::new(Inner { program, ffprobe, codecs: OnceLock::new() }) }
    }

    /// The same ffmpeg with the ffprobe at `ffprobe`.
    #[must_use]
    pub fn with_ffprobe(self, ffprobe: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                program: self.inner.program.clone(),
                ffprobe: ffprobe.into(),
                codecs: OnceLock::new(),
            }),
        }
    }

    /// The program that runs.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.inner.program
    }

    /// The ffprobe that reads the inputs.
    #[must_use]
    pub fn ffprobe(&self) -> &Path {
        &self.inner.ffprobe
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

    /// A command for this ffmpeg, reading nothing from the terminal, that dies with its starter.
    pub(crate) fn command(&self) -> Command {
        tool(&self.inner.program)
    }

    /// The same for ffprobe.
    pub(crate) fn ffprobe_command(&self) -> Command {
        tool(&self.inner.ffprobe)
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

/// A command for `program` with standard input closed; on Linux in a process group of its own,
/// and sent SIGKILL by the kernel when the thread that started it ends (`PR_SET_PDEATHSIG`).
fn tool(program: &Path) -> Command {
    let mut command = Command::new(program);
    command.stdin(Stdio::null());
    #[cfg(target_os = "linux")]
    die_with_parent(&mut command);
    command
}

#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;

    // A terminal's Ctrl-C goes to the starter alone, which stops ffmpeg (and removes what it
    // wrote) rather than racing it.
    command.process_group(0);
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and calls only `prctl` and
    // `getppid`, both async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The starter died between fork and prctl: there is no one left to die with.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
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
