//! The HTTP side: an HTTP/1.1 server on plain threads (one per connection, kept alive between
//! requests as a production server does), reading bodies as they stream, applying faults,
//! recording, dispatching, and writing answers.
//!
//! It is written here rather than taken from a crate because the handlers are synchronous and
//! read upload bodies as a stream: a thread per connection gives both with keep-alive, and lets
//! a [`Fault::DropConnection`] really drop the connection.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::faults::{self, Fault};
use super::multipart::{self, MultipartError};
use super::output::OutputReader;
use super::record::{RecordedRequest, RecordingReader};
use super::reply::{Reply, ReplyBody};
use super::routes::{self, Body, Ctx, Route, MAX_JSON_BODY};
use super::state::lock;
use super::Shared;

/// Longest request head (request line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 100;

/// The open connections and their threads, so that stopping can close and join them.
#[derive(Default)]
pub(crate) struct Connections {
    next: u64,
    open: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

impl Connections {
    /// Closes every open connection and joins every connection thread.
    pub(crate) fn close_all(this: &Mutex<Connections>) {
        let threads = {
            let mut c = lock(this);
            for stream in c.open.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut c.threads)
        };
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Accepts connections until the simulator stops; each gets a thread of its own.
pub(crate) fn accept(shared: &Arc<Shared>, listener: &TcpListener, conns: &Arc<Mutex<Connections>>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let Ok(registered) = stream.try_clone() else { continue };
        let mut c = lock(conns);
        c.threads.retain(|t| !t.is_finished());
        c.next += 1;
        let id = c.next;
        c.open.insert(id, registered);
        let (thread_shared, thread_conns) = (Arc::clone(shared), Arc::clone(conns));
        let spawned = std::thread::Builder::new().name(format!("rbv-sim-conn-{id}")).spawn(move || {
            serve(&thread_shared, stream);
            lock(&thread_conns).open.remove(&id);
        });
        match spawned {
            Ok(handle) => c.threads.push(handle),
            Err(_) => {
                if let Some(stream) = c.open.remove(&id) {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
        }
    }
}

/// One request's head.
struct Head {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Answers the requests of one connection until the client closes it, asks to, or breaks HTTP.
fn serve(shared: &Shared, stream: TcpStream) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    loop {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(answer) => {
                let _ = writer.write_all(answer.as_bytes());
                return;
            }
        };
        let chunked = head.header("Transfer-Encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        let length = if chunked {
            None
        } else {
            match head.header("Content-Length").map(|v| v.trim().parse::<u64>()) {
                None => Some(0),
                Some(Ok(n)) => Some(n),
                Some(Err(_)) => {
                    let _ = writer.write_all(bad_request("invalid Content-Length").as_bytes());
                    return;
                }
            }
        };
        if head.header("Expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
            let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let mut body: Box<dyn Read + '_> = match length {
            None => Box::new(Chunked::new(&mut reader)),
            Some(n) => Box::new((&mut reader).take(n)),
        };
        let keep_alive = head.keep_alive;
        let Some(reply) = handle(shared, &head, &mut *body) else {
            // A dropped connection: no answer at all.
            let _ = writer.shutdown(Shutdown::Both);
            return;
        };
        // Whatever the handler left of the body; a body that cannot be read to its end leaves
        // the connection unusable.
        let complete = io::copy(&mut body, &mut io::sink()).is_ok();
        drop(body);
        let keep_alive = keep_alive && complete && !shared.stopping();
        if send(&mut writer, reply, &head.method, keep_alive).is_err() || !keep_alive {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn bad_request(why: &str) -> String {
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}",
        why.len()
    )
}

/// Reads a request head; `Ok(None)` when the client closed the connection between requests, and
/// `Err` with the answer to write for a head that is not HTTP/1.x.
fn read_head(reader: &mut BufReader<TcpStream>) -> Result<Option<Head>, String> {
    let mut raw = Vec::with_capacity(1024);
    loop {
        let before = raw.len();
        match reader.by_ref().take((MAX_HEAD + 1 - raw.len()) as u64).read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
        if raw.len() > MAX_HEAD {
            return Err(bad_request("request head too large"));
        }
        // Blank lines before a request are allowed (RFC 9112 §2.2).
        if before == 0 && (raw == b"\r\n" || raw == b"\n") {
            raw.clear();
            continue;
        }
        if raw.ends_with(b"\n\r\n") || raw.ends_with(b"\n\n") {
            break;
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(&raw) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(bad_request("malformed request head")),
    }
    let (Some(method), Some(url), Some(version)) = (parsed.method, parsed.path, parsed.version) else {
        return Err(bad_request("malformed request line"));
    };
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    let connection = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Connection"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let keep_alive = if version == 1 { !connection.contains("close") } else { connection.contains("keep-alive") };
    Ok(Some(Head { method: method.to_ascii_uppercase(), url: url.to_owned(), headers, keep_alive }))
}

/// A `Transfer-Encoding: chunked` body.
struct Chunked<'a> {
    inner: &'a mut BufReader<TcpStream>,
    left: u64,
    done: bool,
}

impl<'a> Chunked<'a> {
    fn new(inner: &'a mut BufReader<TcpStream>) -> Self {
        Chunked { inner, left: 0, done: false }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        self.inner.by_ref().take(4096).read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk line not terminated"));
        }
        Ok(String::from_utf8_lossy(&line).trim().to_owned())
    }
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            self.left = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if self.left == 0 {
                // Trailers, up to the blank line.
                while !self.line()?.is_empty() {}
                self.done = true;
                return Ok(0);
            }
        }
        let want = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "chunked body cut off"));
        }
        self.left -= n as u64;
        if self.left == 0 && !self.line()?.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk not followed by CRLF"));
        }
        Ok(n)
    }
}

/// One request: `None` when the answer is a dropped connection.
fn handle(shared: &Shared, head: &Head, body: &mut dyn Read) -> Option<Reply> {
    let request_id = format!("req_{:016x}", fastrand::u64(..));
    let method = head.method.as_str();
    let (path, query) = match head.url.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (head.url.clone(), None),
    };
    let headers = &head.headers;
    let resolved = routes::resolve(&path);
    let fault = if matches!(resolved, Some((Route::Output(_) | Route::UploadedFile(_), _))) {
        None
    } else {
        let mut st = lock(&shared.state);
        faults::take(&mut st.faults, method, &path)
    };
    let ctx = Ctx { shared, request_id: &request_id, method, query: query.as_deref(), headers };

    let (body, captured, total) = {
        let mut reader = RecordingReader::new(body);
        let scan = method == "POST"
            && matches!(&resolved, Some((Route::Uploads, _)))
            && fault.as_ref().is_none_or(Fault::applies_request)
            && ctx.authorized(&Route::Uploads);
        let body = if scan {
            let keep = shared.config.keep_uploads;
            Body::Upload(match ctx.header("Content-Type").and_then(multipart::boundary) {
                Some(b) => multipart::scan_upload(&mut reader, &b, keep),
                None => Err(MultipartError::NotMultipart),
            })
        } else {
            let mut buf = Vec::new();
            let _ = (&mut reader).take(MAX_JSON_BODY as u64 + 1).read_to_end(&mut buf);
            if buf.len() > MAX_JSON_BODY {
                Body::TooLarge
            } else {
                Body::Bytes(buf)
            }
        };
        let _ = reader.drain();
        (body, reader.captured, reader.total)
    };

    lock(&shared.state).requests.push(RecordedRequest {
        method: method.to_owned(),
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        body: captured,
        body_len: total,
        request_id: request_id.clone(),
    });

    let mut reply = match &fault {
        Some(Fault::DropConnection) => return None,
        Some(f) if !f.applies_request() => faults::reply(f, &request_id),
        Some(Fault::Delay(d)) => {
            shared.wait_for_stop(*d);
            routes::dispatch(&ctx, resolved.as_ref(), body)
        }
        Some(f) => {
            let _ = routes::dispatch(&ctx, resolved.as_ref(), body);
            faults::reply(f, &request_id)
        }
        None => routes::dispatch(&ctx, resolved.as_ref(), body),
    };
    reply.headers.push(("X-Request-Id".to_owned(), request_id));
    Some(reply)
}

/// Writes one answer, saying whether the connection stays open.
fn send(writer: &mut TcpStream, reply: Reply, method: &str, keep_alive: bool) -> io::Result<()> {
    let (mut data, len): (Box<dyn Read + Send>, usize) = match reply.body {
        ReplyBody::Bytes(b) => {
            let len = b.len();
            (Box::new(io::Cursor::new(b)), len)
        }
        ReplyBody::Static(b) => (Box::new(b), b.len()),
        ReplyBody::Shared(b) => {
            let len = b.len();
            (Box::new(io::Cursor::new(SharedBytes(b))), len)
        }
        ReplyBody::Output { job_id, len } => (Box::new(OutputReader::new(&job_id, len)), len),
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, faults::reason(reply.status));
    for (k, v) in &reply.headers {
        // Header values are built by the simulator; keep them on one line regardless.
        if !k.contains(['\r', '\n', ':']) && !v.contains(['\r', '\n']) {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
    }
    let connection = if keep_alive { "keep-alive" } else { "close" };
    head.push_str(&format!(
        "Content-Length: {len}\r\nConnection: {connection}\r\nServer: removebgvideo-simulator\r\n\r\n"
    ));
    if method == "HEAD" {
        writer.write_all(head.as_bytes())?;
        return writer.flush();
    }
    if len <= 16 * 1024 {
        // One write for a small answer: a second small write waits on the peer's delayed ACK.
        let mut all = head.into_bytes();
        data.read_to_end(&mut all)?;
        writer.write_all(&all)?;
    } else {
        writer.write_all(head.as_bytes())?;
        io::copy(&mut data, writer)?;
    }
    writer.flush()
}

/// Shared bytes as a slice, for a cursor.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
