//! The one wire-level HTTP/1.1 test server, for what a mock framework cannot play: connections
//! closed without an answer, answers that never come or come a byte at a time, bodies cut short
//! or endless, uploads read slowly, proxies and redirects.
//!
//! A server runs a script of [`Act`]s, one per connection in the order they arrive
//! ([`WireServer::script`]), or serves every connection with one closure
//! ([`WireServer::serve`]). It reads each request with one reader (the head, then the body by
//! its `Content-Length` or its chunks) and logs it ([`WireServer::requests`]) before it acts, so a
//! client never sees an answer to a request the log does not hold yet. It listens on 127.0.0.1
//! only; dropping it releases every connection it still holds.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use removebgvideo::clock::Clock;

/// How long a connection thread waits on a silent client at most, so that no server thread
/// outlives a broken test by much.
const READ_LIMIT: Duration = Duration::from_secs(20);

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its place in the server's log, from 0.
    pub index: usize,
    /// When it arrived: the server's clock ([`Builder::clock`]) or the real one.
    pub at: Instant,
    /// The request line as sent, without its line end.
    pub line: String,
    /// The request line and headers, lower-cased, one `\r\n`-ended line each.
    pub head: String,
    /// Every header as sent: `(name, value)`, the value trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (empty for the acts that do not read it: [`Act::Stall`], [`Act::ReadSlowly`]).
    pub body: Vec<u8>,
}

impl Request {
    /// The method.
    pub fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or("")
    }

    /// The request target: path and query (or the whole URL, through a proxy).
    pub fn target(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or("")
    }

    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// What the server does with a request: answers on the stream it came on.
pub type Handler = dyn Fn(&Request, &mut TcpStream) + Send + Sync;

/// What the server does with one connection, after reading its request.
#[derive(Clone)]
pub enum Act {
    /// Closes without a word.
    HangUp,
    /// Never answers: reads until the client hangs up.
    Silent,
    /// Reads no body and never answers, holding the connection until the server is dropped:
    /// an upload cannot finish.
    Stall,
    /// Writes these bytes as the answer, then closes.
    Raw(Vec<u8>),
    /// Writes `head`, then `body` `piece` bytes at a time with `pause` before each, until the
    /// body is sent or the client hangs up.
    Drip { head: Vec<u8>, body: Vec<u8>, piece: usize, pause: Duration },
    /// Writes `head`, then bytes until the client hangs up or `limit` bytes are written; with
    /// `chunked`, each 64 KiB is framed as a chunk.
    Endless { head: Vec<u8>, chunked: bool, limit: u64 },
    /// Reads the body `piece` bytes at a time with `pause` before each read, except the last
    /// `fast_tail` bytes, read at once; then writes `answer`.
    ReadSlowly { piece: usize, pause: Duration, fast_tail: usize, answer: Vec<u8> },
    /// Answers with a closure.
    Serve(Arc<Handler>),
}

impl Act {
    /// [`Act::Serve`] with `handler`.
    pub fn serve(handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> Self {
        Self::Serve(Arc::new(handler))
    }

    /// An endless chunked JSON answer, cut at 64 MiB.
    pub fn endless_json() -> Self {
        Self::Endless {
            head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            chunked: true,
            limit: 64 << 20,
        }
    }
}

/// An answer's bytes: `status` (e.g. `"200 OK"`), `Connection: close`, `headers` (each ending
/// in `\r\n`), then `body`.
pub fn answer(status: &str, headers: &str, body: impl AsRef<[u8]>) -> Vec<u8> {
    let mut bytes = format!("HTTP/1.1 {status}\r\nConnection: close\r\n{headers}\r\n").into_bytes();
    bytes.extend_from_slice(body.as_ref());
    bytes
}

/// A `200 OK` JSON answer with its `Content-Length`.
pub fn json(body: &str) -> Vec<u8> {
    answer("200 OK", &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()), body)
}

/// Waits until the client closes the connection (or the read limit passes).
pub fn wait_for_hangup(stream: &mut TcpStream) {
    let _ = stream.read_to_end(&mut Vec::new());
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// A request's line as sent, its head lower-cased, and its headers as sent.
type Head = (String, String, Vec<(String, String)>);

/// Reads a request line and headers. `None` when the connection closes first or the head is not
/// text.
fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut head = String::new();
    let mut first = String::new();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            return Some((first, head, headers));
        }
        if head.is_empty() {
            first = line.trim_end().to_owned();
        }
        if !head.is_empty()
            && let Some((name, value)) = line.split_once(':')
        {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        head.push_str(&line.to_ascii_lowercase());
    }
}

/// Reads the body a head announces: `Content-Length` bytes, or chunks to the last one.
fn read_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> Option<Vec<u8>> {
    let value = |name: &str| headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let mut body = Vec::new();
    if value("transfer-encoding").is_some_and(|coding| coding.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                return Some(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let length: u64 = value("content-length").map_or(Some(0), |length| length.parse().ok())?;
    reader.take(length).read_to_end(&mut body).ok()?;
    Some(body)
}

/// How a server is set up before it starts.
#[derive(Default)]
#[must_use]
pub struct Builder {
    clock: Option<Arc<dyn Clock>>,
    recv_buffer: Option<usize>,
    keep_alive: bool,
}

impl Builder {
    /// Stamps each request with `clock`'s time instead of the real one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A small, fixed receive buffer for every connection, so that what the kernel holds
    /// unread stays small.
    pub fn recv_buffer(mut self, bytes: usize) -> Self {
        self.recv_buffer = Some(bytes);
        self
    }

    /// Serves any number of requests per connection (the handler must then not close it).
    pub fn keep_alive(mut self) -> Self {
        self.keep_alive = true;
        self
    }

    /// Plays `acts`, one per connection in the order they arrive; connections past the last
    /// act are closed unanswered.
    pub fn script(self, acts: Vec<Act>) -> WireServer {
        self.start(move |connection| acts.get(connection).cloned().unwrap_or(Act::HangUp))
    }

    /// Answers every request with `handler`.
    pub fn serve(self, handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> WireServer {
        let act = Act::serve(handler);
        self.start(move |_| act.clone())
    }

    fn start(self, act_for: impl Fn(usize) -> Act + Send + 'static) -> WireServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        if let Some(bytes) = self.recv_buffer {
            // Accepted sockets inherit the listener's buffer.
            socket2::SockRef::from(&listener).set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        }
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let shared = Arc::new(Shared::default());
        let held = Arc::new(Mutex::new(Vec::new()));
        let (weak_shared, weak_held) = (Arc::downgrade(&shared), Arc::downgrade(&held));
        let (clock, keep_alive) = (self.clock, self.keep_alive);
        thread::spawn(move || {
            for (connection, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let Some(shared) = weak_shared.upgrade() else { return };
                let act = act_for(connection);
                let (held, clock) = (weak_held.clone(), clock.clone());
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(READ_LIMIT));
                    run(stream, act, &shared, &held, clock.as_deref(), keep_alive);
                    let mut finished = shared.finished.lock().unwrap();
                    *finished += 1;
                    shared.changed.notify_all();
                });
            }
        });
        WireServer { url, shared, _held: held }
    }
}

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Request>>,
    /// Signalled with each request logged.
    logged: Condvar,
    finished: Mutex<usize>,
    changed: Condvar,
    written: AtomicU64,
}

/// Reads the requests of one connection and plays `act` on each.
fn run(
    stream: TcpStream,
    act: Act,
    shared: &Shared,
    held: &Weak<Mutex<Vec<TcpStream>>>,
    clock: Option<&dyn Clock>,
    keep_alive: bool,
) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut stream = stream;
    loop {
        let Some((line, head, headers)) = read_head(&mut reader) else { return };
        let reads_body = !matches!(act, Act::Stall | Act::ReadSlowly { .. });
        let body = if reads_body {
            match read_body(&mut reader, &headers) {
                Some(body) => body,
                None => return,
            }
        } else {
            Vec::new()
        };
        let at = clock.map_or_else(Instant::now, |clock| clock.now());
        let request = {
            let mut log = shared.log.lock().unwrap();
            let request = Request { index: log.len(), at, line, head, headers, body };
            log.push(request.clone());
            shared.logged.notify_all();
            request
        };
        match &act {
            Act::HangUp => return,
            Act::Silent => {
                let _ = reader.read_to_end(&mut Vec::new());
                return;
            }
            Act::Stall => {
                if let Some(held) = held.upgrade() {
                    held.lock().unwrap().push(stream);
                }
                return;
            }
            Act::Raw(bytes) => {
                let _ = stream.write_all(bytes).and_then(|()| stream.flush());
                return;
            }
            Act::Drip { head, body, piece, pause } => {
                if stream.write_all(head).is_err() {
                    return;
                }
                for drip in body.chunks((*piece).max(1)) {
                    // Pacing the server, not synchronising the test.
                    thread::sleep(*pause);
                    if stream.write_all(drip).and_then(|()| stream.flush()).is_err() {
                        return;
                    }
                    shared.written.fetch_add(drip.len() as u64, Ordering::SeqCst);
                }
                return;
            }
            Act::Endless { head, chunked, limit } => {
                if stream.write_all(head).is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let framed = if *chunked {
                    [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat()
                } else {
                    chunk
                };
                let mut written = 0;
                while written < *limit && stream.write_all(&framed).is_ok() {
                    written += framed.len() as u64;
                    shared.written.fetch_add(framed.len() as u64, Ordering::SeqCst);
                }
                return;
            }
            Act::ReadSlowly { piece, pause, fast_tail, answer } => {
                let length: usize = request.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut buffer = vec![0u8; *piece];
                let mut left = length;
                while left > 0 {
                    if left > *fast_tail {
                        // Pacing the reads, not synchronising the test.
                        thread::sleep(*pause);
                    }
                    match reader.read(&mut buffer[..(*piece).min(left)]) {
                        Ok(0) | Err(_) => return,
                        Ok(read) => left -= read,
                    }
                }
                let _ = stream.write_all(answer);
                return;
            }
            Act::Serve(handler) => handler(&request, &mut stream),
        }
        if !keep_alive {
            return;
        }
    }
}

/// A running server; see the [module](self).
pub struct WireServer {
    url: String,
    shared: Arc<Shared>,
    // Dropping this releases the connections held by [`Act::Stall`].
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl WireServer {
    /// A server with settings; [`WireServer::script`] and [`WireServer::serve`] need none.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Plays `acts`, one per connection; see [`Builder::script`].
    pub fn script(acts: Vec<Act>) -> Self {
        Builder::default().script(acts)
    }

    /// Answers every request, one per connection, with `handler`.
    pub fn serve(handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> Self {
        Builder::default().serve(handler)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request read so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// How many requests were read so far.
    pub fn count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    /// The heads of every request so far (lower-cased).
    pub fn heads(&self) -> Vec<String> {
        self.requests().into_iter().map(|request| request.head).collect()
    }

    /// Body bytes the drip and endless acts wrote so far.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::SeqCst)
    }

    /// Waits until `requests` requests have been read (their acts may still be under way), for
    /// at most `deadline`; panics past it.
    pub fn wait_requests(&self, requests: usize, deadline: Duration) {
        let log = self.shared.log.lock().unwrap();
        let (log, timeout) = self.shared.logged.wait_timeout_while(log, deadline, |log| log.len() < requests).unwrap();
        assert!(!timeout.timed_out(), "{} of {requests} requests read after {deadline:?}", log.len());
    }

    /// Waits until `connections` connections are over (their acts done, their threads ending),
    /// for at most `deadline`; panics past it.
    pub fn wait_finished(&self, connections: usize, deadline: Duration) {
        self.wait_connections(connections, deadline);
    }

    /// Waits until every connection that sent a request is over, for at most `deadline`: what
    /// a handler does after its answer is then done.
    pub fn wait_idle(&self, deadline: Duration) {
        self.wait_connections(self.count(), deadline);
    }

    fn wait_connections(&self, connections: usize, deadline: Duration) {
        let finished = self.shared.finished.lock().unwrap();
        let (finished, timeout) =
            self.shared.changed.wait_timeout_while(finished, deadline, |finished| *finished < connections).unwrap();
        assert!(!timeout.timed_out(), "{} of {connections} connections over after {deadline:?}", *finished);
    }
}

/// The client side of a kept-alive connection: sends `request` on `stream` and reads one whole
/// answer, returning its status line and its header lines (lower case).
pub fn exchange(stream: &mut BufReader<TcpStream>, request: &str) -> (String, Vec<String>) {
    stream.get_mut().write_all(request.as_bytes()).expect("write");
    let mut status = String::new();
    stream.read_line(&mut status).expect("status");
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().expect("length");
        }
        headers.push(line.trim().to_ascii_lowercase());
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).expect("body");
    (status.trim().to_owned(), headers)
}
