//! The HTTP side: hyper's HTTP/1.1 server (with axum's request and body types) on the simulator's own tokio
//! runtime, with a connection cap and an idle timeout; reading bodies as they stream (uploads
//! through multer), applying faults, recording, dispatching, and writing answers.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures_core::Stream;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::faults::{self, Fault};
use super::lock::lock;
use super::output::OutputReader;
use super::record::{LoggedRequest, CAPTURE_LIMIT};
use super::reply::{Reply, ReplyBody};
use super::routes::{self, Body, Ctx, Route, MAX_JSON_BODY};
use super::shared::Shared;
use super::uploads::{FilePart, UploadError};

/// The request head's size limit (request line and headers), as hyper's read buffer limit:
/// hyper checks it after each read, so a head that arrives whole may pass it by up to one read
/// (about 128 KiB in all); a longer one is answered 431. Either way a connection's head buffer
/// stays bounded.
const MAX_HEAD: usize = 64 * 1024;

/// Marks an answer that is no answer: the connection is closed instead ([`Fault::DropConnection`]).
#[derive(Debug, Clone, Copy)]
struct DropConnection;

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// The open connections, and the signal that tells the accept loop and each connection to stop.
pub(crate) struct Connections {
    /// How many are open: the accept loop compares it with the cap, and stopping waits for 0.
    open: tokio::sync::watch::Sender<usize>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Connections {
    pub(crate) fn new() -> Arc<Connections> {
        Arc::new(Connections { open: tokio::sync::watch::Sender::new(0), stop: tokio::sync::watch::Sender::new(false) })
    }

    /// Stops accepting, closes every idle connection and lets each request in flight finish;
    /// returns once every connection is closed, or after `grace`, whichever comes first.
    pub(crate) async fn shut_down(&self, grace: Duration) {
        self.stop.send_replace(true);
        let mut open = self.open.subscribe();
        let _ = tokio::time::timeout(grace, open.wait_for(|n| *n == 0)).await;
    }
}

/// The first of two futures to finish.
enum First<A, B> {
    A(A),
    B(B),
}

async fn first<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(First::A(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(First::B(out));
        }
        Poll::Pending
    })
    .await
}

/// Returns once the stop signal is given (or its sender is gone).
async fn told_to_stop(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Accepts connections until told to stop; each is served by a task of its own, up to the
/// connection cap: past it, a connection is answered 503 and closed.
pub(crate) async fn accept(shared: Arc<Shared>, listener: TcpListener, connections: Arc<Connections>) {
    let mut stopping = connections.stop.subscribe();
    loop {
        let accepted = match first(listener.accept(), told_to_stop(&mut stopping)).await {
            First::A(accepted) => accepted,
            First::B(_) => return,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors, most likely: give the open connections a moment to end.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        if *connections.open.borrow() >= shared.config.bounds.max_connections {
            tokio::spawn(refuse(stream));
            continue;
        }
        connections.open.send_modify(|n| *n += 1);
        let guard = OpenGuard(Arc::clone(&connections));
        let idle = shared.config.bounds.idle_timeout;
        let conn_shared = Arc::clone(&shared);
        let mut stop = connections.stop.subscribe();
        tokio::spawn(async move {
            let _guard = guard;
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let shared = Arc::clone(&conn_shared);
                async move {
                    let response = handle(shared, request.map(AxumBody::new)).await;
                    if response.extensions().get::<DropConnection>().is_some() {
                        Err(Dropped)
                    } else {
                        Ok(response)
                    }
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            // hyper's own limit of 100 headers stands: setting it explicitly makes hyper build
            // the header slots on the heap for every request.
            builder.timer(TokioTimer::new()).header_read_timeout(idle);
            // Not `pipeline_flush`: it gathers answers to pipelined requests into one write, but
            // then the 400 to a body that breaks HTTP (a bad chunk size) is never written.
            builder.max_buf_size(MAX_HEAD.max(8192));
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            if let First::B(_) = first(connection.as_mut(), told_to_stop(&mut stop)).await {
                // Idle: closed at once; busy: closed once its answer is written.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        });
    }
}

/// Counts an open connection until it ends.
struct OpenGuard(Arc<Connections>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n -= 1);
    }
}

/// Answers a connection past the cap with 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = serde_json::json!({"error": {
        "code": "internal_error",
        "message": "too many open connections to the simulator; close idle ones and retry",
        "request_id": request_id(),
    }})
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

fn request_id() -> String {
    format!("req_{:016x}", fastrand::u64(..))
}

/// What was read of a request body: the first [`CAPTURE_LIMIT`] bytes and the total length.
#[derive(Default)]
pub(crate) struct Captured {
    pub(crate) bytes: Vec<u8>,
    pub(crate) total: u64,
    /// The body paused longer than the body timeout: it was given up.
    pub(crate) timed_out: bool,
}

impl Captured {
    fn add(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        let room = CAPTURE_LIMIT.saturating_sub(self.bytes.len());
        if room > 0 {
            self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
}

/// A request body's data frames, recorded as they pass; a pause longer than `timeout` between
/// two of them ends the body with an error.
struct Recording {
    inner: axum::body::BodyDataStream,
    captured: Arc<Mutex<Captured>>,
    timeout: Duration,
    /// Set while the body is awaited (most bodies are there at once and never need it).
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The error a body that paused too long ends with.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body paused longer than the body timeout")
    }
}

impl std::error::Error for BodyTimedOut {}

impl Stream for Recording {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                lock(&self.captured).add(chunk);
                self.deadline = None;
            }
            Poll::Ready(_) => self.deadline = None,
            Poll::Pending => {
                let timeout = self.timeout;
                let deadline = self.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    self.deadline = None;
                    lock(&self.captured).timed_out = true;
                    return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
                }
            }
        }
        polled
    }
}

/// Reads a whole body, keeping up to `keep` bytes: `Body::TooLarge` when it was longer,
/// `Body::Unreadable` when it broke off or broke HTTP (a bad chunk size). The buffer starts at
/// the `announced` length when that fits, up to [`CAPTURE_LIMIT`], instead of doubling from
/// nothing; beyond that it grows only with the bytes that arrive, as a length is only a claim.
async fn read_body(stream: &mut Recording, keep: usize, announced: usize) -> Body {
    let mut buf = Vec::with_capacity(if announced <= keep { announced.min(CAPTURE_LIMIT) } else { 0 });
    let mut fits = true;
    while let Some(chunk) = next(stream).await {
        let Ok(chunk) = chunk else { return Body::Unreadable };
        if fits && buf.len() + chunk.len() <= keep {
            buf.extend_from_slice(&chunk);
        } else {
            fits = false;
            buf = Vec::new();
        }
    }
    if fits {
        Body::Bytes(buf)
    } else {
        Body::TooLarge
    }
}

fn next<S: Stream + Unpin>(stream: &mut S) -> impl std::future::Future<Output = Option<S::Item>> + '_ {
    std::future::poll_fn(move |cx| Pin::new(&mut *stream).poll_next(cx))
}

/// One request, whatever its route.
async fn handle(shared: Arc<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = request_id();
    let path = parts.uri.path();
    let method = parts.method.as_str();
    let resolved = routes::resolve(path);
    let fault = if matches!(resolved, Some((Route::Output(_) | Route::UploadedFile(..), _))) {
        None
    } else {
        faults::take(&mut lock(&shared.state).faults, method, path)
    };
    let ctx = Ctx::new(&shared, &request_id, method, parts.uri.query(), &parts.headers);

    let length = ctx.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    // Sized once from the announced length, so that a captured body takes no more memory
    // than its bytes (growing by doubling would leave up to twice that).
    let announced = length.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let captured = Captured { bytes: Vec::with_capacity(announced.min(CAPTURE_LIMIT)), ..Captured::default() };
    let captured = Arc::new(Mutex::new(captured));
    let mut stream = Recording {
        inner: body.into_data_stream(),
        captured: Arc::clone(&captured),
        timeout: shared.config.bounds.body_timeout,
        deadline: None,
    };
    let is_upload = matches!(&resolved, Some((Route::Uploads | Route::LegacyUpload, _)));
    let scan = method == "POST"
        && is_upload
        && fault.as_ref().is_none_or(Fault::applies_request)
        && resolved.as_ref().is_some_and(|(route, _)| ctx.authorized(route));
    let body = if scan {
        let boundary = ctx.header("Content-Type").and_then(|t| multer::parse_boundary(t).ok());
        Body::Upload(match boundary {
            Some(boundary) => scan_upload(stream, boundary, shared.config.bounds.upload_budget, length).await,
            None => match read_body(&mut stream, 0, 0).await {
                Body::Unreadable => Err(UploadError::Unreadable),
                _ => Err(UploadError::NotMultipart),
            },
        })
    } else {
        read_body(&mut stream, MAX_JSON_BODY, announced).await
    };
    let captured = std::mem::take(&mut *lock(&captured));
    let timed_out = captured.timed_out;
    let record = LoggedRequest::new(
        method,
        path,
        parts.uri.query(),
        &request_id,
        &parts.headers,
        captured.bytes,
        captured.total,
    );
    lock(&shared.state).log_request(record, shared.config.bounds.request_log);
    if timed_out {
        // Where the next request would start is unknown: the connection is closed.
        let message = format!(
            "the request body paused for more than {} s; the request was not applied",
            shared.config.bounds.body_timeout.as_secs_f64()
        );
        let reply = Reply::error(408, "timeout", &message, &request_id)
            .with_header("Connection", "close")
            .with_header("X-Request-Id", &request_id);
        return into_response(reply);
    }
    let request = Received { shared: Arc::clone(&shared), request_id, parts, resolved };
    let reply = match fault {
        Some(Fault::DropConnection) => {
            let mut response = Response::new(AxumBody::empty());
            response.extensions_mut().insert(DropConnection);
            return response;
        }
        Some(Fault::Delay(d)) => {
            // On a task of its own: the request takes effect after the delay even when the
            // client has given up and closed the connection meanwhile.
            let delayed = tokio::spawn(async move {
                tokio::time::sleep(d).await;
                request.answer(None, body)
            });
            match delayed.await {
                Ok(reply) => reply,
                Err(_) => Reply::empty(500),
            }
        }
        fault => request.answer(fault.as_ref(), body),
    };
    into_response(reply)
}

/// A request once its body is read: what answering it needs.
struct Received {
    shared: Arc<Shared>,
    request_id: String,
    parts: http::request::Parts,
    resolved: Option<(Route, &'static [&'static str])>,
}

impl Received {
    /// The answer: the route's, or the fault's instead of (or after) it.
    fn answer(self, fault: Option<&Fault>, body: Body) -> Reply {
        let ctx = Ctx::new(
            &self.shared,
            &self.request_id,
            self.parts.method.as_str(),
            self.parts.uri.query(),
            &self.parts.headers,
        );
        let mut reply = match fault {
            Some(f) if !f.applies_request() => faults::reply(f, &self.request_id),
            Some(f) => {
                let _ = routes::dispatch(&ctx, self.resolved.as_ref(), body);
                faults::reply(f, &self.request_id)
            }
            None => routes::dispatch(&ctx, self.resolved.as_ref(), body),
        };
        reply.headers.push(("X-Request-Id".to_owned(), self.request_id));
        reply
    }
}

/// Streams a multipart body through multer: the part named `file` is counted exactly and kept
/// when it fits `keep` bytes; other parts are read and dropped. The body's length, when
/// announced, sizes the buffer once (no doubling, which would leave freed memory behind).
async fn scan_upload(
    stream: Recording,
    boundary: String,
    keep: u64,
    length: Option<u64>,
) -> Result<FilePart, UploadError> {
    let capacity = usize::try_from(length.unwrap_or(0).min(keep)).unwrap_or(0);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut found: Option<FilePart> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(UploadError::Malformed(e.to_string())),
        };
        let is_file = found.is_none() && field.name() == Some("file");
        let mut part = FilePart {
            filename: field.file_name().map(str::to_owned),
            content_type: field.content_type().map(|m| m.essence_str().to_ascii_lowercase()),
            size: 0,
            bytes: Some(if is_file { Vec::with_capacity(capacity) } else { Vec::new() }),
        };
        let mut field = field;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if !is_file {
                        continue;
                    }
                    part.size += chunk.len() as u64;
                    if part.size > keep {
                        part.bytes = None;
                    } else if let Some(bytes) = part.bytes.as_mut() {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(UploadError::Malformed(e.to_string())),
            }
        }
        if is_file {
            found = Some(part);
        }
    }
    found.ok_or(UploadError::MissingFile)
}

/// The HTTP answer for a [`Reply`].
fn into_response(reply: Reply) -> Response {
    let mut length = None;
    let body = match reply.body {
        ReplyBody::Bytes(b) => AxumBody::from(b),
        ReplyBody::Static(b) => AxumBody::from(Bytes::from_static(b)),
        ReplyBody::Shared(b) => AxumBody::from(Bytes::from_owner(SharedBytes(b))),
        ReplyBody::Output { job_id, len } => {
            length = Some(len);
            AxumBody::from_stream(Generated { reader: OutputReader::new(&job_id, len), left: len })
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (k, v) in reply.headers {
        // The two names every answer has are not parsed again.
        let name = match k.as_str() {
            "Content-Type" => Ok(http::header::CONTENT_TYPE),
            "X-Request-Id" => Ok(http::HeaderName::from_static("x-request-id")),
            _ => http::HeaderName::try_from(k),
        };
        if let (Ok(name), Ok(value)) = (name, http::HeaderValue::try_from(v)) {
            headers.append(name, value);
        }
    }
    headers.insert(http::header::SERVER, http::HeaderValue::from_static("removebgvideo-simulator"));
    if let Some(len) = length {
        // A streamed output still says its length, as a storage link does.
        headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    }
    response
}

/// A generated output, streamed in chunks.
struct Generated {
    reader: OutputReader,
    left: usize,
}

impl Stream for Generated {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use std::io::Read;
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let mut chunk = vec![0; self.left.min(64 * 1024)];
        let n = match self.reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        chunk.truncate(n);
        self.left = self.left.saturating_sub(n.max(1));
        Poll::Ready(Some(Ok(Bytes::from(chunk))))
    }
}

/// Shared bytes as a slice, for a response body.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
