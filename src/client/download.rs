//! Downloading a job's output, streamed to disk or to any writer, with no API credential: one
//! loop for both clients.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{fmt, fs};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::{invalid, Error};
use crate::client::progress::TransferProgress;
use crate::client::transport::Transport;
use crate::models::Job;

/// The write buffer of a download to a file.
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// A download being set up; finish it with [`to_path`](Download::to_path) or
/// [`to_writer`](Download::to_writer). Made by [`Client::download`].
#[must_use = "a download does nothing until `to_path` or `to_writer` is called"]
pub struct Download<'a> {
    client: &'a Client,
    url: String,
    /// The job the URL came from, to fetch a fresh URL once when it has expired.
    job_id: Option<String>,
    on_progress: Option<Box<dyn FnMut(TransferProgress) + 'a>>,
}

/// A download being set up on an [`AsyncClient`]; finish it with
/// [`to_path`](AsyncDownload::to_path) or [`to_writer`](AsyncDownload::to_writer).
#[must_use = "a download does nothing until `to_path` or `to_writer` is awaited"]
pub struct AsyncDownload<'a> {
    client: &'a AsyncClient,
    url: String,
    /// The job the URL came from, to fetch a fresh URL once when it has expired.
    job_id: Option<String>,
    on_progress: Option<Box<dyn FnMut(TransferProgress) + Send + 'a>>,
}

impl AsyncClient {
    /// Starts a download of `output_url` (a completed job's [`Job::output_url`]).
    ///
    /// The output lives on another host (object storage), so **no API credential is sent**,
    /// and redirects (up to 10, http and https only) are followed to any host. The body is
    /// streamed, never held in memory. The download may take as long as it needs: only a
    /// pause longer than the [stall timeout](crate::client::ClientBuilder::stall_timeout) ends it, or
    /// the [transfer timeout](crate::client::ClientBuilder::transfer_timeout) when one is set.
    pub fn download(&self, output_url: &str) -> AsyncDownload<'_> {
        AsyncDownload { client: self, url: output_url.to_owned(), job_id: None, on_progress: None }
    }

    /// Starts a download of a completed job's output. When the output host answers 403, 404
    /// or 410 (the signed URL has expired), [`to_path`](AsyncDownload::to_path) fetches the
    /// job once more (`get_job`) for a fresh URL and carries on.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the job has no `output_url` (it is not completed).
    pub fn download_output(&self, job: &Job) -> Result<AsyncDownload<'_>, Error> {
        Ok(AsyncDownload { job_id: Some(job.id.clone()), ..self.download(output_url(job)?) })
    }
}

impl Client {
    /// Starts a download of `output_url` (a completed job's [`Job::output_url`]); see
    /// [`AsyncClient::download`] for what is sent and how long it may take.
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
        Download { client: self, url: output_url.to_owned(), job_id: None, on_progress: None }
    }

    /// Starts a download of a completed job's output; an expired URL is refreshed once, as
    /// [`AsyncClient::download_output`] does.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the job has no `output_url` (it is not completed).
    pub fn download_output(&self, job: &Job) -> Result<Download<'_>, Error> {
        Ok(Download { job_id: Some(job.id.clone()), ..self.download(output_url(job)?) })
    }
}

fn output_url(job: &Job) -> Result<&str, Error> {
    job.output_url
        .as_deref()
        .ok_or_else(|| invalid("job", format!("job {} has no output_url (status {})", job.id, job.status)))
}

impl<'a> Download<'a> {
    /// Calls `on_progress` as bytes arrive (on the calling thread).
    pub fn progress(mut self, on_progress: impl FnMut(TransferProgress) + 'a) -> Self {
        self.on_progress = Some(Box::new(on_progress));
        self
    }

    /// Writes the output to `path` and returns its size in bytes; see
    /// [`AsyncDownload::to_path`] for how it survives the network.
    ///
    /// # Errors
    /// As [`AsyncDownload::to_path`].
    pub fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let future = save(
            &self.client.inner,
            self.url,
            self.job_id.as_deref(),
            path.as_ref(),
            |file| Blocking(io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)),
            self.on_progress,
        );
        self.client.runtime.block_on(future)
    }

    /// Streams the output into `writer` and returns the number of bytes written.
    ///
    /// # Errors
    /// [`Error::Api`] when the output host answers non-2xx; [`Error::Transport`] when the
    /// transfer fails or stalls; [`Error::Io`] when `writer` fails.
    pub fn to_writer(self, writer: impl Write) -> Result<u64, Error> {
        let url = checked_url(&self.url)?;
        let mut writer = Blocking(writer);
        let future = fetch(&self.client.inner.transport, url, &mut writer, Path::new("the writer"), self.on_progress);
        self.client.runtime.block_on(future)
    }
}

impl<'a> AsyncDownload<'a> {
    /// Calls `on_progress` as bytes arrive.
    pub fn progress(mut self, on_progress: impl FnMut(TransferProgress) + Send + 'a) -> Self {
        self.on_progress = Some(Box::new(on_progress));
        self
    }

    /// Writes the output to `path` and returns its size in bytes.
    ///
    /// The bytes go to a `.part` file beside `path`, renamed into place once whole: `path`
    /// never holds half a video. A download that breaks off (a dropped connection, a stall, a
    /// 5xx or 429 from the output host) is tried again with the client's
    /// [retry policy](crate::RetryPolicy)'s pauses, for as long as each try brings new bytes,
    /// and resumes from the end of the `.part` file with `Range` when the host answers `206`,
    /// or starts over when it sends the whole file. Started from
    /// [`download_output`](AsyncClient::download_output), an expired URL (403, 404 or 410
    /// from the output host) is refreshed once through `get_job`. The size is checked against
    /// `Content-Length` or `Content-Range`: a file that came out short is never renamed into
    /// place. When the download fails or its future is dropped, the `.part` file is removed.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::Api`] when the output host answers non-2xx;
    /// [`Error::Transport`] when the transfer fails or stalls, or ends short, after its retries.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let wrap = |file| tokio::io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, tokio::fs::File::from_std(file));
        save(self.client, self.url, self.job_id.as_deref(), path.as_ref(), wrap, self.on_progress).await
    }

    /// Streams the output into `writer` and returns the number of bytes written (flushed).
    ///
    /// # Errors
    /// As [`Download::to_writer`].
    pub async fn to_writer<W: AsyncWrite + Unpin>(self, mut writer: W) -> Result<u64, Error> {
        let url = checked_url(&self.url)?;
        fetch(&self.client.transport, url, &mut writer, Path::new("the writer"), self.on_progress).await
    }
}

/// The one download loop: opens the download of a [checked](checked_url) URL and writes its
/// chunks to `writer`, reporting progress, then flushes.
async fn fetch<W, F>(
    transport: &Transport,
    url: url::Url,
    writer: &mut W,
    label: &Path,
    mut on_progress: Option<F>,
) -> Result<u64, Error>
where
    W: AsyncWrite + Unpin,
    F: FnMut(TransferProgress),
{
    let mut body = transport.open_download(url, 0).await?;
    let total = body.total();
    let write_error = |source| io_error("write the download to", label, source);
    let mut done = 0u64;
    while let Some(chunk) = body.chunk().await? {
        if chunk.is_empty() {
            continue;
        }
        writer.write_all(&chunk).await.map_err(write_error)?;
        done += chunk.len() as u64;
        if let Some(on_progress) = on_progress.as_mut() {
            on_progress(TransferProgress { done, total });
        }
    }
    writer.flush().await.map_err(write_error)?;
    Ok(done)
}

/// Downloads into a `.part` file beside `path`, resuming or starting over after each break,
/// and renames it to `path` once whole.
async fn save<W, F>(
    client: &AsyncClient,
    url: String,
    job_id: Option<&str>,
    path: &Path,
    wrap: impl Fn(fs::File) -> W,
    mut on_progress: Option<F>,
) -> Result<u64, Error>
where
    W: AsyncWrite + Unpin,
    F: FnMut(TransferProgress),
{
    let transport = &client.transport;
    let mut url = checked_url(&url)?;
    let partial = PartFile { path: partial_path(path), keep: false };
    fs::File::create(&partial.path).map_err(|source| io_error("create", &partial.path, source))?;
    let policy = transport.retry_policy().clone();
    let (mut on_disk, mut failures, mut refreshed) = (0u64, 0u32, false);
    let written = loop {
        let (now_on_disk, outcome) = save_once(transport, &url, &partial.path, on_disk, &wrap, &mut on_progress).await;
        let progressed = now_on_disk > on_disk;
        on_disk = now_on_disk;
        let error = match outcome {
            Ok(()) => break on_disk,
            Err(error) => error,
        };
        if progressed {
            failures = 0;
        }
        let status = error.status().map(|status| status.as_u16());
        if let (Some(403 | 404 | 410), Some(job_id), false) = (status, job_id, refreshed) {
            // A signed URL that expired: the job gives a fresh one, once.
            refreshed = true;
            let job = client.get_job(job_id).await?;
            url = checked_url(output_url(&job)?)?;
            continue;
        }
        if status == Some(416) {
            // The host refuses the range: whatever is on disk is not a prefix it knows.
            on_disk = 0;
        } else if !error.is_retryable() {
            return Err(error);
        }
        if failures >= policy.max_retries() {
            return Err(error);
        }
        failures += 1;
        let pause = policy.pause(failures).max(error.retry_after().unwrap_or_default());
        transport.clock().sleep(pause).await;
    };
    fs::rename(&partial.path, path).map_err(|source| io_error("move the download to", path, source))?;
    partial.kept();
    Ok(written)
}

/// One try: asks for the file from byte `from` and appends what comes to the `.part` file (or
/// writes it from the start when the host sends the whole file). Returns how many bytes the
/// file holds afterwards, all flushed, and whether the file is now whole.
async fn save_once<W, F>(
    transport: &Transport,
    url: &url::Url,
    part: &Path,
    from: u64,
    wrap: &impl Fn(fs::File) -> W,
    on_progress: &mut Option<F>,
) -> (u64, Result<(), Error>)
where
    W: AsyncWrite + Unpin,
    F: FnMut(TransferProgress),
{
    let mut body = match transport.open_download(url.clone(), from).await {
        Ok(body) => body,
        Err(error) => return (from, Err(error)),
    };
    // A 206 for exactly the asked range continues the file; anything else is the whole file.
    let start = if body.starts_at() == from { from } else { 0 };
    let total = body.file_size();
    let mut writer = match open_at(part, start) {
        Ok(file) => wrap(file),
        Err(error) => return (0, Err(error)),
    };
    let write_error = |source| io_error("write the download to", part, source);
    let mut done = start;
    let mut outcome = Ok(());
    loop {
        let chunk = match body.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                outcome = Err(error);
                break;
            }
        };
        if let Err(source) = writer.write_all(&chunk).await {
            return (done, Err(write_error(source)));
        }
        done += chunk.len() as u64;
        if let Some(on_progress) = on_progress.as_mut() {
            on_progress(TransferProgress { done, total });
        }
    }
    // What was written stays usable for the next try only once it is on disk.
    if let Err(source) = writer.flush().await {
        return (start, Err(write_error(source)));
    }
    if outcome.is_ok() && total.is_some_and(|total| done != total) {
        outcome = Err(body.cut_short());
    }
    (done, outcome)
}

/// The `.part` file, cut to `length` bytes and positioned at its end.
fn open_at(part: &Path, length: u64) -> Result<fs::File, Error> {
    use std::io::Seek;
    let mut file = fs::OpenOptions::new().write(true).open(part).map_err(|source| io_error("open", part, source))?;
    file.set_len(length).map_err(|source| io_error("truncate", part, source))?;
    file.seek(io::SeekFrom::Start(length)).map_err(|source| io_error("seek in", part, source))?;
    Ok(file)
}

/// A `.part` file, removed when dropped unless [`kept`](PartFile::kept): a failed download, or
/// one whose future was dropped half-way, leaves nothing behind.
struct PartFile {
    path: PathBuf,
    keep: bool,
}

impl PartFile {
    fn kept(mut self) {
        self.keep = true;
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn checked_url(url: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(url).map_err(|error| invalid("output_url", format!("is not a URL: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("output_url", format!("has scheme {:?}; only http and https are fetched", url.scheme())));
    }
    Ok(url)
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> Error {
    Error::Io { action, path: path.to_owned(), source }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

/// A blocking writer seen as an async one: each write completes at once, on the thread that
/// polls, which for the blocking client is the caller's own.
struct Blocking<W>(W);

// Never pinned through: the writer is only reached by `&mut`.
impl<W> Unpin for Blocking<W> {}

impl<W: Write> AsyncWrite for Blocking<W> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().0.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().0.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().0.flush())
    }
}

/// An output URL as it may be shown or recorded: often signed, its query is a credential, so
/// it is left out (with the fragment).
pub(crate) fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

impl fmt::Debug for Download<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("url", &without_query(&self.url))
            .field("progress", &self.on_progress.is_some())
            .finish()
    }
}

impl fmt::Debug for AsyncDownload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncDownload")
            .field("url", &without_query(&self.url))
            .field("progress", &self.on_progress.is_some())
            .finish()
    }
}
