//! Faults a mock framework cannot produce: connections closed without an answer, answers that
//! never come, bodies cut short or far too large. A raw TCP server on 127.0.0.1 plays each one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::{Client, CreateJob, Error};

/// What the server does with one connection.
#[derive(Clone)]
enum Act {
    /// Reads the request, then closes without a word.
    Hangup,
    /// Reads the request and never answers (until the test ends).
    Silence,
    /// Reads the request and writes these bytes as the answer, then closes.
    Raw(Vec<u8>),
    /// Reads the request and streams an endless chunked body (bounded at 64 MiB).
    Endless,
}

struct RawServer {
    url: String,
    requests: Arc<AtomicUsize>,
    // Dropping this releases connections held in `Silence`.
    _release: mpsc::Sender<()>,
}

impl RawServer {
    /// Serves one connection per act, in order; requests are counted as they arrive.
    fn start(acts: Vec<Act>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let (release, released) = mpsc::channel::<()>();
        let counter = Arc::clone(&requests);
        thread::spawn(move || {
            let mut held = Vec::new();
            for act in acts {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                read_request(&mut reader);
                counter.fetch_add(1, Ordering::SeqCst);
                match act {
                    Act::Hangup => drop(stream),
                    Act::Silence => held.push(stream),
                    Act::Raw(bytes) => {
                        let mut stream = stream;
                        let _ = stream.write_all(&bytes);
                    }
                    Act::Endless => stream_endless(stream),
                }
            }
            // Keep silent connections open until the test is over.
            let _ = released.recv();
        });
        Self { url, requests, _release: release }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request head and its Content-Length body.
fn read_request(reader: &mut BufReader<TcpStream>) {
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let _ = reader.by_ref().take(length as u64).read_to_end(&mut Vec::new());
}

fn stream_endless(mut stream: TcpStream) {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head).is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..1024 {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&framed).is_err() {
            return; // the client stopped reading, as it should
        }
    }
}

fn answer(status: &str, headers: &str, body: &str) -> Act {
    Act::Raw(format!("HTTP/1.1 {status}\r\nConnection: close\r\n{headers}\r\n{body}").into_bytes())
}

/// A client with the default call timeout (30 s): a prompt local answer is thousands of
/// times faster. Retries pause on a ManualClock.
fn client(server: &RawServer) -> Client {
    Client::builder("raw-test-key").base_url(&server.url).clock(ManualClock::new()).build().expect("client")
}

/// As [`client`], with a 2 s call timeout: a silent attempt costs 2 s, and a prompt local
/// answer (a few ms, well under 200 ms even on a loaded machine) is more than 10× inside it.
fn impatient_client(server: &RawServer) -> Client {
    Client::builder("raw-test-key")
        .base_url(&server.url)
        .timeout(Duration::from_secs(2))
        .clock(ManualClock::new())
        .build()
        .expect("client")
}

const JOB: &str = r#"{"id":"job_1","status":"processing","progress":10}"#;

fn ok_job() -> Act {
    answer("200 OK", &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", JOB.len()), JOB)
}

#[test]
fn a_read_survives_a_dropped_connection() {
    let server = RawServer::start(vec![Act::Hangup, ok_job()]);
    let job = client(&server).get_job("job_1").expect("retried after the hangup");
    assert_eq!(job.id, "job_1");
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_job_creation_is_not_repeated_after_a_dropped_connection() {
    // The server may have created the job before the connection dropped: no blind retry.
    let server = RawServer::start(vec![Act::Hangup, ok_job()]);
    let error = client(&server).create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_answer_slower_than_the_timeout_is_a_timeout_error() {
    let server = RawServer::start(vec![Act::Silence, Act::Silence, Act::Silence]);
    let client = Client::builder("raw-test-key")
        .base_url(&server.url)
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .expect("client");
    let error = client.get_job("job_1").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_slow_read_is_retried_but_a_slow_creation_is_not() {
    let server = RawServer::start(vec![Act::Silence, ok_job()]);
    assert_eq!(impatient_client(&server).get_job("job_1").expect("second attempt answers").id, "job_1");
    assert_eq!(server.requests(), 2);

    let server = RawServer::start(vec![Act::Silence, ok_job()]);
    let error = impatient_client(&server).create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(server.requests(), 1, "a timed-out POST may have created the job");
}

#[test]
fn truncated_json_on_a_200_is_a_decode_error_with_the_snippet() {
    let body = r#"{"id":"job_1","status":"proc"#;
    let server = RawServer::start(vec![answer(
        "200 OK",
        &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()),
        body,
    )]);
    match client(&server).get_job("job_1").unwrap_err() {
        Error::Decode { status, snippet, .. } => {
            assert_eq!(status, 200);
            assert_eq!(snippet, body);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn a_body_cut_short_of_its_content_length_is_a_transport_error() {
    let server = RawServer::start(vec![answer("200 OK", "Content-Length: 500\r\n", r#"{"id":"job_1""#)]);
    let client = Client::builder("raw-test-key").base_url(&server.url).max_retries(0).build().expect("client");
    let error = client.get_job("job_1").unwrap_err();
    assert!(matches!(&error, Error::Transport(inner) if inner.is_body()), "{error:?}");
    assert!(error.is_retryable());
    // The message names the host and what happened, and nothing of the path.
    let message = error.to_string();
    assert!(message.contains("broke off") && message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains("job_1"), "{message}");
}

#[test]
fn an_announced_huge_answer_is_refused_before_reading() {
    let server = RawServer::start(vec![answer("200 OK", "Content-Length: 1073741824\r\n", "{")]);
    let error = client(&server).get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { limit, .. } if limit == 16 * 1024 * 1024), "{error:?}");
}

#[test]
fn an_endless_answer_is_cut_off_at_the_limit() {
    let server = RawServer::start(vec![Act::Endless]);
    let error = client(&server).get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { .. }), "{error:?}");
}

#[test]
fn an_endless_error_page_is_cut_off_too() {
    let head = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1073741824\r\n\r\n<html>";
    let server = RawServer::start(vec![Act::Raw(head.as_bytes().to_vec())]);
    let client = Client::builder("raw-test-key").base_url(&server.url).max_retries(0).build().expect("client");
    let error = client.get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { .. }), "{error:?}");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(502));
}

#[test]
fn a_closed_port_is_a_retryable_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let clock = ManualClock::new();
    let client = Client::builder("raw-test-key")
        .base_url(format!("http://127.0.0.1:{port}"))
        .clock(clock.clone())
        .build()
        .expect("client");
    let error = client.create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).unwrap_err();
    assert!(matches!(&error, Error::Transport(inner) if inner.is_connect()), "{error:?}");
    // A connection that never opened sent nothing, so even a creation is retried.
    assert_eq!(clock.sleeps().len(), 2);
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(!error.to_string().contains("raw-test-key"));
}
