//! File transfers on async reqwest, run on the crate's own one-thread tokio runtime and waited
//! for on the caller's thread.
//!
//! Why not reqwest's blocking client: its body pump hands the runtime 8 KiB at a time over a
//! zero-capacity channel (an upload runs at a fraction of what the link carries), and its only
//! timeout is a total one, so it cannot bound a pause in a long download without cutting the
//! download off.

use std::future::Future;
use std::io::{self, Read};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use bytes::Bytes;
use reqwest::redirect;

use super::answer::{too_large, Answer, DRAIN_BYTES, MAX_ANSWER_BYTES};
use super::Reply;
use crate::Error;

/// How much of the file one body chunk carries: large enough that the per-chunk cost
/// (a read, a queue hand-off, a socket write) disappears, small enough to keep memory flat.
const CHUNK_BYTES: usize = 512 * 1024;

/// The runtime and the two async clients that carry transfers.
pub(crate) struct Transfers {
    /// `Option` only so that `Drop` can take it out and shut it down without blocking.
    runtime: Option<tokio::runtime::Runtime>,
    /// No read timeout: reqwest starts it when the request starts and resets it only on reads
    /// of the answer, so it would cut off any upload longer than itself.
    pub(crate) upload: reqwest::Client,
    /// A read timeout: each pause in the answer, and the wait for its head, is bounded.
    pub(crate) download: reqwest::Client,
}

impl Transfers {
    pub(crate) fn build(connect_timeout: Duration, stall_timeout: Duration) -> Result<Self, String> {
        // One worker: a transfer is bound by the link or the disk, not by the CPU, and the
        // worker drives the connections while each caller's own thread waits for its transfer.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("removebgvideo-transfer")
            .enable_all()
            .build()
            .map_err(|error| format!("could not start the transfer runtime: {error}"))?;
        let builder = || {
            let builder = reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                // Uploads carry a credential and must never follow a redirect; downloads follow
                // theirs by hand, one request at a time.
                .redirect(redirect::Policy::none());
            // An upload that stops moving is cut off by the kernel once sent data stays
            // unacknowledged this long: reqwest has no per-write timeout for a request body.
            #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
            let builder = builder.tcp_user_timeout(stall_timeout);
            builder
        };
        let built = {
            let _context = runtime.enter();
            builder().build().and_then(|upload| Ok((upload, builder().read_timeout(stall_timeout).build()?)))
        };
        let (upload, download) = built.map_err(|error| format!("could not build the HTTP client: {error}"))?;
        Ok(Self { runtime: Some(runtime), upload, download })
    }

    /// Runs `future` to completion on the calling thread, its I/O driven by the transfer runtime.
    ///
    /// Unlike `Runtime::block_on` this never panics inside another runtime (a caller on a
    /// runtime thread is blocked, as by any blocking call, rather than crashed), and calls from
    /// many threads at once each wait only for their own transfer.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let _context = runtime.enter();
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut context = Context::from_waker(&waker);
        // Unconstrained: a caller inside a task of another runtime carries that task's
        // cooperative budget, which would never be refilled while we wait, and make every
        // poll return `Pending` for ever.
        let mut future = pin!(tokio::task::unconstrained(future));
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            thread::park();
        }
    }
}

impl Drop for Transfers {
    fn drop(&mut self) {
        // A plain drop waits for the worker, which panics when the last client is dropped
        // inside an async task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The content of an upload's file part: `length` bytes of a reader, in large chunks.
///
/// The reads block the runtime's worker; that is where the bytes go next anyway, and a file
/// read from the page cache is far quicker than a hand-off to another thread.
pub(crate) struct FileChunks {
    reader: Box<dyn Read + Send>,
    left: u64,
    activity: Activity,
}

impl FileChunks {
    /// The chunks of `reader`; each one taken by the connection counts as `activity`.
    pub(crate) fn new(reader: Box<dyn Read + Send>, length: u64, activity: Activity) -> Self {
        Self { reader, left: length, activity }
    }

    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        // The connection asks for the next chunk only once it has written the last one.
        self.activity.touch();
        if self.left == 0 {
            return Ok(None);
        }
        let want = self.left.min(CHUNK_BYTES as u64);
        // `read_to_end` fills the spare capacity without zeroing it first.
        let mut buffer = Vec::with_capacity(want as usize);
        (&mut self.reader).take(want).read_to_end(&mut buffer)?;
        if buffer.is_empty() {
            // The multipart head announced `length` bytes; fewer would corrupt the body.
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the upload ended before its announced length"));
        }
        self.left -= buffer.len() as u64;
        Ok(Some(Bytes::from(buffer)))
    }
}

impl futures_core::Stream for FileChunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.next_chunk().transpose())
    }
}

/// Reads the whole body of an async answer, at most `limit` bytes.
pub(crate) async fn read_bounded(mut response: reqwest::Response, limit: u64) -> Result<Answer, Error> {
    let status = response.status();
    let headers = response.headers().clone();
    if response.content_length().is_some_and(|length| length > limit) {
        return Err(too_large(status));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large(status));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, headers, body })
}

/// An answer of the async client, with the runtime needed to read its body.
pub(crate) struct AsyncReply<'a> {
    pub(crate) response: reqwest::Response,
    pub(crate) transfers: &'a Transfers,
}

impl AsyncReply<'_> {
    /// Reads and decodes a 2xx answer.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, Error> {
        self.transfers.block_on(read_bounded(self.response, MAX_ANSWER_BYTES))?.decode()
    }
}

impl Reply for AsyncReply<'_> {
    fn status(&self) -> http::StatusCode {
        self.response.status()
    }

    fn headers(&self) -> &http::HeaderMap {
        self.response.headers()
    }

    fn into_error(self, retry_after: Option<Duration>) -> Error {
        match self.transfers.block_on(read_bounded(self.response, MAX_ANSWER_BYTES)) {
            Ok(answer) => answer.into_error(retry_after),
            Err(error) => error,
        }
    }

    fn discard(self) {
        let mut response = self.response;
        self.transfers.block_on(async {
            let mut read = 0u64;
            while let Ok(Some(chunk)) = response.chunk().await {
                read += chunk.len() as u64;
                if read > DRAIN_BYTES {
                    break;
                }
            }
        });
    }
}

/// Redirects followed at most, by downloads and by the API client, as reqwest does by default.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// The URL a download is at, moved along each redirect it is answered with.
pub(crate) struct RedirectChain {
    url: reqwest::Url,
    followed: usize,
}

impl RedirectChain {
    pub(crate) fn new(url: reqwest::Url) -> Self {
        Self { url, followed: 0 }
    }

    /// The URL to request next.
    pub(crate) fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// Moves to where a redirect answer points; `false` for any other answer, which is the
    /// one to read.
    pub(crate) fn follow(&mut self, status: http::StatusCode, headers: &http::HeaderMap) -> Result<bool, Error> {
        let Some(next) = redirect_target(status, headers, &self.url)? else { return Ok(false) };
        if self.followed == MAX_REDIRECTS {
            return Err(crate::error::invalid("output_url", format!("redirected more than {MAX_REDIRECTS} times")));
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
    current: &reqwest::Url,
) -> Result<Option<reqwest::Url>, Error> {
    use crate::error::invalid;
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

/// Runs an upload's `send` to its end, or until it has not moved for `stall`: the body not
/// taken (a peer that stopped reading) or, once all is sent, no answer. reqwest's read timeout
/// cannot do this: it runs from the start of the request, so it would cut off any upload
/// longer than itself.
pub(crate) async fn unless_stalled<F: Future>(
    send: F,
    activity: &Activity,
    stall: Duration,
) -> Result<F::Output, Error> {
    let mut send = pin!(send);
    loop {
        let deadline = activity.last() + stall;
        match tokio::time::timeout_at(deadline, send.as_mut()).await {
            Ok(output) => return Ok(output),
            Err(_) if activity.last() + stall <= tokio::time::Instant::now() => {
                return Err(Error::Stalled { stalled_for: stall })
            }
            // The body moved meanwhile: wait again from its last move.
            Err(_) => {}
        }
    }
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

        assert!(matches!(outcome, Err(Error::Stalled { stalled_for }) if stalled_for == Duration::from_millis(300)));
        assert_eq!(started.elapsed(), Duration::from_millis(800), "the last move at 500 ms, plus 300 ms");
    }
}
