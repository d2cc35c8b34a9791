//! Uploads and downloads: file bodies in large chunks, stall and transfer limits, redirects
//! followed by hand.

use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::path::PathBuf;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use super::TransportError;
use crate::client::error::{invalid, Error, Transfer};
use crate::client::progress::{ProgressReader, SharedProgress};
use crate::client::transport_error::{origin_of, Kind};

/// How much of the file one body chunk carries: large enough that the per-chunk cost (a read
/// on the blocking pool, a hand-off, a socket write) disappears, small enough to keep memory flat.
const CHUNK_BYTES: usize = 512 * 1024;

/// Redirects a download follows at most, as reqwest does by default.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// The `file` part of an upload: its name, content type, length and where its bytes come
/// from. Opened anew for each attempt: a stream, once sent, cannot be sent again.
pub(crate) struct FilePart {
    file_name: String,
    mime: String,
    length: u64,
    source: UploadSource,
}

/// Where an upload's bytes come from.
pub(crate) enum UploadSource {
    /// A file, reopened for each attempt, reporting progress as it is read.
    Path { path: PathBuf, progress: Option<SharedProgress> },
    /// A reader, which can be sent once.
    Reader(Mutex<Option<Box<dyn Read + Send>>>),
}

impl FilePart {
    pub(crate) fn new(file_name: String, mime: String, length: u64, source: UploadSource) -> Self {
        Self { file_name, mime, length, source }
    }

    pub(crate) fn file_name(&self) -> &str {
        &self.file_name
    }

    pub(crate) fn mime(&self) -> &str {
        &self.mime
    }

    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    /// The path named in an [`Error::Io`] about this part.
    pub(crate) fn io_path(&self) -> PathBuf {
        match &self.source {
            UploadSource::Path { path, .. } => path.clone(),
            UploadSource::Reader(_) => PathBuf::from(&self.file_name),
        }
    }

    /// The content, from its start.
    pub(crate) fn open(&self) -> Result<Box<dyn Read + Send>, Error> {
        match &self.source {
            UploadSource::Path { path, progress } => {
                let file =
                    File::open(path).map_err(|source| Error::Io { action: "read", path: path.clone(), source })?;
                Ok(Box::new(ProgressReader::new(file, Some(self.length), progress.clone())))
            }
            UploadSource::Reader(reader) => reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| invalid("reader", "was already sent and cannot be sent again")),
        }
    }
}

/// The content of an upload's file part: `length` bytes of a reader, in large chunks read on
/// tokio's blocking pool, so that a slow disk or reader never blocks a runtime thread.
pub(crate) struct FileChunks {
    reader: Option<Box<dyn Read + Send>>,
    left: u64,
    activity: Activity,
    reading: Option<tokio::task::JoinHandle<ReadOutcome>>,
    failure: ReadFailure,
}

/// Where a failed read of an upload's source is kept, so the caller gets [`Error::Io`] rather
/// than the network error the HTTP library makes of it.
#[derive(Clone, Default)]
pub(crate) struct ReadFailure(Arc<Mutex<Option<io::Error>>>);

impl ReadFailure {
    pub(crate) fn take(&self) -> Option<io::Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn keep(&self, error: io::Error) -> io::Error {
        let stand_in = io::Error::new(error.kind(), "the upload's source could not be read");
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
        stand_in
    }
}

impl FileChunks {
    /// The chunks of `reader`; each one taken by the connection counts as `activity`.
    pub(crate) fn new(reader: Box<dyn Read + Send>, length: u64, activity: Activity) -> Self {
        Self { reader: Some(reader), left: length, activity, reading: None, failure: ReadFailure::default() }
    }

    pub(crate) fn failure(&self) -> ReadFailure {
        self.failure.clone()
    }
}

/// A chunk read on the blocking pool, with the reader handed back for the next one.
type ReadOutcome = (Box<dyn Read + Send>, io::Result<Vec<u8>>);

fn read_chunk(mut reader: Box<dyn Read + Send>, want: u64) -> ReadOutcome {
    // `usize::try_from` cannot fail: `want` is at most CHUNK_BYTES.
    let mut buffer = Vec::with_capacity(usize::try_from(want).unwrap_or(CHUNK_BYTES));
    let read = (&mut reader).take(want).read_to_end(&mut buffer).map(|_| buffer);
    (reader, read)
}

impl futures_core::Stream for FileChunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.reading.is_none() {
            // The connection asks for the next chunk only once it has written the last one.
            this.activity.touch();
            if this.left == 0 {
                return Poll::Ready(None);
            }
            let Some(reader) = this.reader.take() else { return Poll::Ready(None) };
            let want = this.left.min(CHUNK_BYTES as u64);
            this.reading = Some(tokio::task::spawn_blocking(move || read_chunk(reader, want)));
        }
        let Some(reading) = this.reading.as_mut() else { return Poll::Ready(None) };
        let joined = match Pin::new(reading).poll(context) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(joined) => joined,
        };
        this.reading = None;
        let (reader, read) = match joined {
            Ok(done) => done,
            Err(panicked) => {
                let error = io::Error::other(format!("the upload's reader panicked: {panicked}"));
                return Poll::Ready(Some(Err(this.failure.keep(error))));
            }
        };
        this.reader = Some(reader);
        let chunk = match read {
            Ok(chunk) if chunk.is_empty() => {
                // The multipart head announced `length` bytes; fewer would corrupt the body.
                let error = io::Error::new(io::ErrorKind::UnexpectedEof, "ended before its announced length");
                return Poll::Ready(Some(Err(this.failure.keep(error))));
            }
            Ok(chunk) => chunk,
            Err(error) => return Poll::Ready(Some(Err(this.failure.keep(error)))),
        };
        this.left -= chunk.len() as u64;
        Poll::Ready(Some(Ok(Bytes::from(chunk))))
    }
}

/// When an upload last moved: the last time the connection took a chunk of its body.
#[derive(Clone)]
// tokio's `Instant` is std's, except that a test can pause it.
pub(crate) struct Activity(Arc<Mutex<tokio::time::Instant>>);

impl Activity {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(tokio::time::Instant::now())))
    }

    fn touch(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = tokio::time::Instant::now();
    }

    fn last(&self) -> tokio::time::Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `instant + duration`, or tokio's "far future" when that is past what an instant holds.
fn after(instant: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    instant.checked_add(duration).unwrap_or_else(|| instant + Duration::from_secs(86_400 * 365 * 30))
}

/// Runs an upload's `send` to its end, or until it has not moved for `stall`: the body not
/// taken (a peer that stopped reading) or, once all is sent, no answer. A read timeout cannot
/// do this: it runs from the start of the request, so it would cut off any upload longer
/// than itself.
pub(crate) async fn unless_stalled<F: Future>(
    send: F,
    activity: &Activity,
    stall: Duration,
) -> Result<F::Output, Error> {
    let mut send = pin!(send);
    loop {
        let deadline = after(activity.last(), stall);
        match tokio::time::timeout_at(deadline, send.as_mut()).await {
            Ok(output) => return Ok(output),
            Err(_) if after(activity.last(), stall) <= tokio::time::Instant::now() => {
                return Err(Error::Stalled { transfer: Transfer::Upload, stalled_for: stall })
            }
            // The body moved meanwhile: wait again from its last move.
            Err(_) => {}
        }
    }
}

/// A download's limits: each pause at most `stall`, the whole (redirects included) at most
/// the transfer timeout when one is set.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    stall: Duration,
    transfer: Option<(Duration, tokio::time::Instant)>,
}

impl Limits {
    pub(crate) fn new(stall: Duration, transfer: Option<Duration>) -> Self {
        let now = tokio::time::Instant::now();
        Self { stall, transfer: transfer.map(|limit| (limit, after(now, limit))) }
    }

    /// Runs one step of a download (the wait for an answer, or for a chunk) within the limits.
    pub(crate) async fn run<T>(
        &self,
        url: &url::Url,
        step: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let stall_end = after(tokio::time::Instant::now(), self.stall);
        match self.transfer {
            Some((limit, end)) if end < stall_end => match tokio::time::timeout_at(end, step).await {
                Ok(outcome) => outcome,
                Err(_) => Err(TransportError::new(Kind::Timeout(Some(limit)), Some(origin_of(url))).into()),
            },
            _ => match tokio::time::timeout_at(stall_end, step).await {
                Ok(outcome) => outcome,
                Err(_) => Err(Error::Stalled { transfer: Transfer::Download, stalled_for: self.stall }),
            },
        }
    }
}

/// The body of a download, read chunk by chunk within its limits.
pub(crate) struct DownloadBody {
    response: reqwest::Response,
    url: url::Url,
    limits: Limits,
    total: Option<u64>,
    /// Where a `206 Partial Content` answer starts, and the whole file's size when it says.
    partial: Option<(u64, Option<u64>)>,
}

impl DownloadBody {
    pub(crate) fn new(response: reqwest::Response, url: url::Url, limits: Limits) -> Self {
        let total = response.content_length();
        let partial = if response.status() == http::StatusCode::PARTIAL_CONTENT {
            response.headers().get(http::header::CONTENT_RANGE).and_then(|value| content_range(value.to_str().ok()?))
        } else {
            None
        };
        Self { response, url, limits, total, partial }
    }

    /// The size of this answer's body, when the output host announced it.
    pub(crate) fn total(&self) -> Option<u64> {
        self.total
    }

    /// Where this body starts in the file: the start of a `206` answer's range, else 0 (a
    /// whole file).
    pub(crate) fn starts_at(&self) -> u64 {
        self.partial.map_or(0, |(start, _)| start)
    }

    /// The whole file's size, when known: from `Content-Range` for a part, else
    /// `Content-Length`.
    pub(crate) fn file_size(&self) -> Option<u64> {
        match self.partial {
            Some((start, whole)) => whole.or_else(|| self.total.map(|length| start.saturating_add(length))),
            None => self.total,
        }
    }

    /// An error for a body that ended before its announced size.
    pub(crate) fn cut_short(&self) -> Error {
        TransportError::new(Kind::Body, Some(origin_of(&self.url))).into()
    }

    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let Self { response, url, limits, .. } = self;
        let url = &*url;
        limits.run(url, async { response.chunk().await.map_err(|error| super::transport(error, url)) }).await
    }
}

/// `bytes <start>-<end>/<size or *>`: the start, and the size when given.
fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, size) = range.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end) = (start.trim().parse::<u64>().ok()?, end.trim().parse::<u64>().ok()?);
    if end < start {
        return None;
    }
    let size = match size.trim() {
        "*" => None,
        size => Some(size.parse::<u64>().ok().filter(|size| *size > end)?),
    };
    Some((start, size))
}

/// The URL a download is at, moved along each redirect it is answered with.
pub(crate) struct RedirectChain {
    url: url::Url,
    followed: usize,
}

impl RedirectChain {
    pub(crate) fn new(url: url::Url) -> Self {
        Self { url, followed: 0 }
    }

    /// The URL to request next.
    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    /// Moves to where a redirect answer points; `false` for any other answer, which is the
    /// one to read.
    pub(crate) fn follow(&mut self, status: http::StatusCode, headers: &http::HeaderMap) -> Result<bool, Error> {
        let Some(next) = redirect_target(status, headers, &self.url)? else { return Ok(false) };
        if self.followed == MAX_REDIRECTS {
            return Err(invalid("output_url", format!("redirected more than {MAX_REDIRECTS} times")));
        }
        self.followed += 1;
        self.url = next;
        Ok(true)
    }
}

/// Where a redirect answer to a download points, or `None` for any other answer.
fn redirect_target(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    current: &url::Url,
) -> Result<Option<url::Url>, Error> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    // The URLs are not quoted: an output URL is often signed, and its query is a credential.
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| invalid("output_url", format!("answered {status} with no usable Location")))?;
    let next = current.join(location).map_err(|error| {
        invalid("output_url", format!("redirected ({status}) to a Location that is not a URL: {error}"))
    })?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(invalid(
            "output_url",
            format!("redirected to a {:?} URL; only http and https are fetched", next.scheme()),
        ));
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upload whose body keeps being taken: a chunk every `every`, `chunks` times, then an
    /// answer at once.
    async fn moving_upload(activity: Activity, every: Duration, chunks: u32) -> &'static str {
        for _ in 0..chunks {
            tokio::time::sleep(every).await;
            activity.touch();
        }
        "answer"
    }

    // The runtime's clock is paused: its sleeps advance it, so nothing here really waits.
    #[tokio::test(start_paused = true)]
    async fn an_upload_that_keeps_moving_runs_past_the_stall_timeout() {
        let activity = Activity::new();
        let started = tokio::time::Instant::now();
        let send = moving_upload(activity.clone(), Duration::from_millis(200), 20);

        let outcome = unless_stalled(send, &activity, Duration::from_millis(300)).await;

        assert_eq!(outcome.ok(), Some("answer"));
        assert!(started.elapsed() >= Duration::from_secs(4), "ten stall timeouts in all");
    }

    #[tokio::test(start_paused = true)]
    async fn an_upload_that_stops_moving_ends_one_stall_timeout_after_its_last_move() {
        let activity = Activity::new();
        let started = tokio::time::Instant::now();
        let send = async {
            moving_upload(activity.clone(), Duration::from_millis(100), 5).await;
            // The body is all sent; the answer never comes.
            std::future::pending::<()>().await;
        };

        let outcome = unless_stalled(send, &activity, Duration::from_millis(300)).await;

        assert!(
            matches!(outcome, Err(Error::Stalled { stalled_for, .. }) if stalled_for == Duration::from_millis(300))
        );
        assert_eq!(started.elapsed(), Duration::from_millis(800), "the last move at 500 ms, plus 300 ms");
    }

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(content_range("bytes 5-4/10"), None);
        assert_eq!(content_range("bytes 0-99/50"), None);
        assert_eq!(content_range("items 0-1/2"), None);
        assert_eq!(content_range("bytes x-1/2"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_of_any_length_never_panics() {
        let activity = Activity::new();
        let outcome = unless_stalled(async { 7 }, &activity, Duration::MAX).await;
        assert_eq!(outcome.ok(), Some(7));
        let limits = Limits::new(Duration::MAX, Some(Duration::MAX));
        let url = url::Url::parse("http://127.0.0.1:1/x").unwrap();
        assert_eq!(limits.run(&url, async { Ok(3) }).await.ok(), Some(3));
    }
}
