//! Downloading a job's output: streamed to disk or to any writer, with no API credential.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::invalid;
use crate::progress::SharedProgress;
use crate::{progress, Client, Error, Job, TransferProgress};

/// A download being set up; finish it with [`to_path`](Download::to_path) or
/// [`to_writer`](Download::to_writer). Made by [`Client::download`].
#[must_use = "a download does nothing until `to_path` or `to_writer` is called"]
pub struct Download<'a> {
    client: &'a Client,
    url: String,
    on_progress: Option<SharedProgress>,
}

impl Client {
    /// Starts a download of `output_url` (a completed job's [`Job::output_url`]).
    ///
    /// The output lives on another host (a CDN), so **no API credential is sent**, and
    /// redirects (up to 10, http and https only) are followed to any host. The body is streamed,
    /// never held in memory. The download may take as long as it needs: only a pause longer
    /// than the [stall timeout](crate::ClientBuilder::stall_timeout) ends it, or the
    /// [transfer timeout](crate::ClientBuilder::transfer_timeout) when one is set.
    ///
    /// ```no_run
    /// # let client = removebgvideo::Client::new("key")?;
    /// # let job: removebgvideo::Job = unimplemented!();
    /// let url = job.output_url.as_deref().expect("completed jobs have an output");
    /// let bytes = client
    ///     .download(url)
    ///     .progress(|p| eprintln!("{} of {:?} bytes", p.done, p.total))
    ///     .to_path("output.webm")?;
    /// # Ok::<(), removebgvideo::Error>(())
    /// ```
    pub fn download(&self, output_url: &str) -> Download<'_> {
        Download { client: self, url: output_url.to_owned(), on_progress: None }
    }

    /// Starts a download of a completed job's output.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the job has no `output_url` (it is not completed).
    pub fn download_output(&self, job: &Job) -> Result<Download<'_>, Error> {
        let url = job
            .output_url
            .as_deref()
            .ok_or_else(|| invalid("job", format!("job {} has no output_url (status {})", job.id, job.status)))?;
        Ok(self.download(url))
    }
}

impl Download<'_> {
    /// Calls `on_progress` as bytes arrive.
    pub fn progress(mut self, on_progress: impl FnMut(TransferProgress) + Send + 'static) -> Self {
        self.on_progress = Some(progress::shared(on_progress));
        self
    }

    /// Writes the output to `path` and returns its size in bytes. The bytes go to a `.part`
    /// file beside it first, renamed into place once complete, so `path` never holds half a
    /// video.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::Api`] when the output host answers non-2xx;
    /// [`Error::Transport`] when the transfer fails or stalls.
    pub fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|source| io_error("could not create", &partial, source))?;
        let mut writer = BufWriter::with_capacity(256 * 1024, file);
        let written = self
            .to_writer(&mut writer)
            .and_then(|written| {
                writer.flush().map_err(|source| io_error("could not write", &partial, source))?;
                Ok(written)
            })
            .and_then(|written| {
                fs::rename(&partial, path)
                    .map_err(|source| io_error("could not move the download to", path, source))?;
                Ok(written)
            });
        if written.is_err() {
            let _ = fs::remove_file(&partial);
        }
        written
    }

    /// Streams the output into `writer` and returns the number of bytes written.
    ///
    /// # Errors
    /// [`Error::Api`] when the output host answers non-2xx; [`Error::Transport`] when the
    /// transfer fails or stalls; [`Error::Io`] when `writer` fails.
    pub fn to_writer(self, mut writer: impl Write) -> Result<u64, Error> {
        let url =
            reqwest::Url::parse(&self.url).map_err(|error| invalid("output_url", format!("is not a URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(
                "output_url",
                format!("has scheme {:?}; only http and https are fetched", url.scheme()),
            ));
        }
        let on_progress = self.on_progress;
        let mut done = 0u64;
        let mut sink = |total: Option<u64>, bytes: &[u8]| -> Result<(), Error> {
            writer.write_all(bytes).map_err(|source| Error::Io {
                action: "could not write the download to",
                path: PathBuf::from("the writer"),
                source,
            })?;
            done += bytes.len() as u64;
            if let (Some(callback), false) = (&on_progress, bytes.is_empty()) {
                progress::report(callback, TransferProgress { done, total });
            }
            Ok(())
        };
        self.client.transport.download(url, &mut sink)
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> Error {
    Error::Io { action, path: path.to_owned(), source }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

impl fmt::Debug for Download<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An output URL is often signed: its query is a credential, so it is left out.
        let unsigned = self.url.split(['?', '#']).next().unwrap_or_default();
        f.debug_struct("Download").field("url", &unsigned).field("progress", &self.on_progress.is_some()).finish()
    }
}
