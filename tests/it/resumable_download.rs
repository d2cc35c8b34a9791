//! Downloads that survive the network: resumed with `Range`, restarted when the host ignores
//! it, refreshed once when the URL has expired, never renamed into place when short.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::{Client, Error, Job};

use crate::support::wire::WireServer;

const KEY: &str = "sk_test_download";

/// What the test server does with one request.
enum Reply {
    /// The file from the asked offset (206 when asked with `Range` and `ranges` is on, else
    /// 200 with all of it), cut off after `cut` bytes of body when set.
    File { ranges: bool, cut: Option<u64> },
    /// A status and a JSON body.
    Json(u16, String),
    /// The whole file announced, but only `send` bytes of it sent before closing.
    Short { send: u64 },
}

/// A request as the server saw it: its path, the offset asked for, the body bytes sent.
#[derive(Debug, Clone, PartialEq)]
struct Served {
    path: String,
    from: u64,
    sent: u64,
}

struct FileServer {
    server: WireServer,
    url: String,
    served: Arc<Mutex<Vec<Served>>>,
}

impl FileServer {
    /// What the server sent so far, once every answer is over.
    fn served(&self) -> Vec<Served> {
        self.server.wait_idle(Duration::from_secs(10));
        self.served.lock().unwrap().clone()
    }
}

/// A file server on 127.0.0.1 for `data`; `plan(n, path)` says what to do with request `n`.
fn file_server(data: Arc<Vec<u8>>, plan: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> FileServer {
    let served = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&served);
    let server = WireServer::serve(move |request, stream| {
        let path = request.target().to_owned();
        // The start of its `Range`, if any.
        let from = request
            .header("range")
            .and_then(|range| range.strip_prefix("bytes=")?.trim_end_matches('-').parse().ok())
            .unwrap_or(0);
        let sent = answer(stream, &data, plan(request.index, &path), from);
        log.lock().unwrap().push(Served { path, from, sent });
    });
    FileServer { url: server.url().to_owned(), server, served }
}

/// Writes the reply; returns the body bytes sent.
fn answer(stream: &mut TcpStream, data: &[u8], reply: Reply, from: u64) -> u64 {
    let size = data.len() as u64;
    let (head, body): (String, &[u8]) = match reply {
        Reply::Json(status, json) => {
            let head = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", json.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(json.as_bytes());
            return json.len() as u64;
        }
        Reply::Short { send } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n");
            (head, &data[..send as usize])
        }
        Reply::File { ranges, cut } => {
            let start = if ranges { from } else { 0 };
            let rest = &data[start as usize..];
            let head = if ranges && from > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {start}-{}/{size}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    size - 1,
                    rest.len()
                )
            } else {
                format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n")
            };
            let body = match cut {
                Some(cut) => &rest[..(cut as usize).min(rest.len())],
                None => rest,
            };
            (head, body)
        }
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return 0;
    }
    let mut sent = 0;
    for piece in body.chunks(64 * 1024) {
        if stream.write_all(piece).is_err() {
            break;
        }
        sent += piece.len() as u64;
    }
    let _ = stream.flush();
    // Dropped here: a cut-off reply ends with the connection, its length unmet.
    sent
}

/// `len` bytes that are not all alike (xorshift).
fn sample(len: usize, mut seed: u64) -> Vec<u8> {
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        data.extend_from_slice(&seed.to_le_bytes());
    }
    data.truncate(len);
    data
}

fn client(base_url: &str) -> Client {
    Client::builder(KEY).base_url(base_url).clock(ManualClock::new()).build().unwrap()
}

fn part_of(path: &Path) -> std::path::PathBuf {
    path.with_file_name(format!("{}.part", path.file_name().unwrap().to_string_lossy()))
}

#[test]
fn a_download_cut_off_ten_times_resumes_to_the_same_bytes() {
    const SIZE: usize = 64 * 1024 * 1024;
    let data = Arc::new(sample(SIZE, 0x5eed));
    // Ten cut-offs at offsets spread over the file, each reply cut after this many bytes.
    let mut rng = 0x1234_5678_u64;
    let cuts: Vec<u64> = (0..10)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            1 + rng % (SIZE as u64 / 12)
        })
        .collect();
    let plan_cuts = cuts.clone();
    let server =
        file_server(Arc::clone(&data), move |n, _| Reply::File { ranges: true, cut: plan_cuts.get(n).copied() });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.webm");

    let written = client(&server.url).download(&format!("{}/out.webm?sig=secret", server.url)).to_path(&out).unwrap();

    assert_eq!(written, SIZE as u64);
    // Compared whole (a digest of 64 MiB costs seconds in a debug build).
    assert!(std::fs::read(&out).unwrap() == *data, "byte-identical");
    assert!(!part_of(&out).exists());
    let served = server.served();
    assert_eq!(served.len(), 11, "ten cut-offs, then the rest: {served:?}");
    let mut lost = 0;
    for pair in served.windows(2) {
        assert!(pair[1].from > 0, "each try after a cut-off resumes: {served:?}");
        lost += (pair[0].from + pair[0].sent).saturating_sub(pair[1].from);
    }
    let fetched: u64 = served.iter().map(|s| s.sent).sum();
    assert!(fetched <= SIZE as u64 + lost, "fetched {fetched} of {SIZE} with {lost} lost");
}

#[test]
fn a_host_that_ignores_range_gets_a_fresh_start() {
    let data = Arc::new(sample(300_000, 7));
    let server = file_server(Arc::clone(&data), |n, _| Reply::File { ranges: false, cut: (n == 0).then_some(100_000) });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    client(&server.url).download(&format!("{}/o.mp4", server.url)).to_path(&out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), *data);
    let served = server.served();
    assert_eq!(served.iter().map(|s| s.from).collect::<Vec<_>>(), [0, 100_000], "asked to resume, got it all");
}

#[test]
fn a_file_that_always_comes_short_is_never_renamed_into_place() {
    let data = Arc::new(sample(50_000, 9));
    let server = file_server(Arc::clone(&data), |_, _| Reply::Short { send: 10_000 });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let err = client(&server.url).download(&format!("{}/o.mp4", server.url)).to_path(&out).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!out.exists() && !part_of(&out).exists());
    assert_eq!(server.served().len(), 3, "the first try and the policy's two retries");
}

#[test]
fn an_expired_output_url_is_refreshed_once_through_get_job() {
    let data = Arc::new(sample(20_000, 11));
    let server_url = Arc::new(Mutex::new(String::new()));
    let url_for_plan = Arc::clone(&server_url);
    let server = file_server(Arc::clone(&data), move |_, path| {
        let base = url_for_plan.lock().unwrap().clone();
        match path {
            "/v1/jobs/job_1" => Reply::Json(
                200,
                format!(r#"{{"id":"job_1","status":"completed","output_url":"{base}/fresh.webm?sig=2"}}"#),
            ),
            p if p.starts_with("/fresh.webm") => Reply::File { ranges: true, cut: None },
            _ => Reply::Json(403, r#"{"error":"expired"}"#.to_owned()),
        }
    });
    *server_url.lock().unwrap() = server.url.clone();
    let job: Job = serde_json::from_str(&format!(
        r#"{{"id":"job_1","status":"completed","output_url":"{}/stale.webm?sig=1"}}"#,
        server.url
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.webm");

    let client = client(&server.url);
    client.download_output(&job).unwrap().to_path(&out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), *data);
    let paths: Vec<String> = server.served().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/stale.webm?sig=1", "/v1/jobs/job_1", "/fresh.webm?sig=2"]);

    // A URL given directly has no job to refresh it from: the 403 is the answer.
    let err = client.download(&format!("{}/stale.webm", server.url)).to_path(&out).unwrap_err();
    assert!(matches!(&err, Error::Api(api) if api.status() == 403), "{err:?}");
}
