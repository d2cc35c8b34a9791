//! A small, fast HTTP/1.1 server on 127.0.0.1 for the benchmark: std only, one thread per
//! connection, keep-alive, `Content-Length` answers.
//!
//! Routes:
//! - `POST /v1/uploads`: drains the body (`Content-Length` or chunked) without keeping it,
//!   counts the bytes and answers `{"video_url": "..."}`; answers `Expect: 100-continue`.
//! - `GET /v1/jobs/{id}`: a small job JSON. An id `wait-<ms>` is `processing` until the server
//!   has run `<ms>` milliseconds, then `completed`.
//! - `GET /v1/admin/keys`: `{"items": []}`.
//! - `GET /download/<bytes>`: `<bytes>` bytes made on the fly from a small pattern buffer.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// What the server has seen; all counters only grow.
#[derive(Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub job_polls: AtomicU64,
    pub upload_bytes: AtomicU64,
    pub download_bytes: AtomicU64,
}

pub struct Server {
    pub base_url: String,
    pub stats: Arc<Stats>,
    started: Instant,
}

impl Server {
    /// Binds 127.0.0.1:0 and serves on background threads until the process exits.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let stats = Arc::new(Stats::default());
        let started = Instant::now();
        let accept_stats = Arc::clone(&stats);
        thread::Builder::new()
            .name("bench-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    accept_stats.connections.fetch_add(1, Ordering::Relaxed);
                    let stats = Arc::clone(&accept_stats);
                    let _ = thread::Builder::new().name("bench-conn".into()).spawn(move || {
                        let _ = serve(stream, &stats, started);
                    });
                }
            })
            .expect("spawn the accept thread");
        Server { base_url: format!("http://{address}"), stats, started }
    }

    /// Milliseconds since the server started (the clock of `wait-<ms>` job ids).
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

struct Request {
    method: String,
    path: String,
    content_length: Option<u64>,
    chunked: bool,
    expect_continue: bool,
    close: bool,
}

fn serve(stream: TcpStream, stats: &Stats, started: Instant) -> io::Result<()> {
    stream.set_nodelay(true)?;
    // Bounded: a connection idle this long is dropped, so no thread waits forever.
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_write_timeout(Some(Duration::from_secs(120)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    let mut drain = vec![0u8; 1024 * 1024];
    loop {
        let Some(request) = read_head(&mut reader, &mut line)? else {
            return Ok(());
        };
        stats.requests.fetch_add(1, Ordering::Relaxed);
        if request.expect_continue {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let received = drain_body(&mut reader, &request, &mut drain)?;
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v1/uploads") => {
                stats.upload_bytes.fetch_add(received, Ordering::Relaxed);
                let body =
                    format!("{{\"video_url\":\"https://cdn.invalid/uploads/{received}.mp4\",\"size\":{received}}}");
                respond(&mut writer, "200 OK", body.as_bytes(), request.close)?;
            }
            ("GET", path) if path.starts_with("/v1/jobs/") => {
                stats.job_polls.fetch_add(1, Ordering::Relaxed);
                let id = &path["/v1/jobs/".len()..];
                let done = match id.strip_prefix("wait-").and_then(|ms| ms.parse::<u64>().ok()) {
                    Some(ready_ms) => started.elapsed().as_millis() as u64 >= ready_ms,
                    None => false,
                };
                let body = if done {
                    format!(
                        "{{\"id\":\"{id}\",\"status\":\"completed\",\"progress\":100,\
                         \"output_url\":\"https://cdn.invalid/out/{id}.webm\",\"model\":\"human\"}}"
                    )
                } else {
                    format!("{{\"id\":\"{id}\",\"status\":\"processing\",\"progress\":42,\"model\":\"human\"}}")
                };
                respond(&mut writer, "200 OK", body.as_bytes(), request.close)?;
            }
            ("GET", "/v1/admin/keys") => respond(&mut writer, "200 OK", b"{\"items\":[]}", request.close)?,
            ("GET", path) if path.starts_with("/download/") => {
                let Ok(length) = path["/download/".len()..].parse::<u64>() else {
                    respond(&mut writer, "404 Not Found", b"{\"error\":\"bad length\"}", true)?;
                    return Ok(());
                };
                send_download(&mut writer, length, request.close)?;
                stats.download_bytes.fetch_add(length, Ordering::Relaxed);
            }
            _ => respond(&mut writer, "404 Not Found", b"{\"error\":\"not found\"}", request.close)?,
        }
        if request.close {
            return Ok(());
        }
    }
}

/// Reads a request line and its headers; `None` when the client closed the connection.
fn read_head(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<Option<Request>> {
    line.clear();
    if reader.read_line(line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let http10 = parts.next() == Some("HTTP/1.0");
    let mut request =
        Request { method, path, content_length: None, chunked: false, expect_continue: false, close: http10 };
    loop {
        line.clear();
        if reader.read_line(line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            return Ok(Some(request));
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            request.content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            request.chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("expect") {
            request.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("connection") {
            request.close = value.eq_ignore_ascii_case("close");
        }
    }
}

/// Reads and drops the request body, returning its length.
fn drain_body(reader: &mut BufReader<TcpStream>, request: &Request, buffer: &mut [u8]) -> io::Result<u64> {
    if request.chunked {
        let mut total = 0;
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or_default();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| io::Error::other("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(total);
                    }
                }
            }
            drain_exact(reader, size, buffer)?;
            total += size;
            line.clear();
            reader.read_line(&mut line)?;
        }
    }
    let length = request.content_length.unwrap_or(0);
    drain_exact(reader, length, buffer)?;
    Ok(length)
}

fn drain_exact(reader: &mut BufReader<TcpStream>, mut left: u64, buffer: &mut [u8]) -> io::Result<()> {
    while left > 0 {
        let want = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let read = reader.read(&mut buffer[..want])?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        left -= read as u64;
    }
    Ok(())
}

fn respond(writer: &mut TcpStream, status: &str, body: &[u8], close: bool) -> io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let mut answer = Vec::with_capacity(160 + body.len());
    write!(
        answer,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    )?;
    answer.extend_from_slice(body);
    writer.write_all(&answer)
}

/// Sends `length` bytes of a repeating pattern from one 256 KiB buffer.
fn send_download(writer: &mut TcpStream, length: u64, close: bool) -> io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    write!(
        writer,
        "HTTP/1.1 200 OK\r\nContent-Type: video/webm\r\nContent-Length: {length}\r\nConnection: {connection}\r\n\r\n"
    )?;
    let pattern: Vec<u8> = (0..256 * 1024).map(|index| (index % 251) as u8).collect();
    let mut left = length;
    while left > 0 {
        let now = pattern.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        writer.write_all(&pattern[..now])?;
        left -= now as u64;
    }
    Ok(())
}
