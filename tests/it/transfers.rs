//! Uploads and downloads on the transfer path: long downloads that keep moving, downloads that
//! stall, redirects, large multi-chunk uploads, calls from inside an async runtime, and a
//! user's own HTTP client. The wire-level test server plays each server.

use crate::support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use removebgvideo::client::{Transfer, TransferProgress};
use removebgvideo::clock::ManualClock;
use removebgvideo::{Client, Error};
use support::wire::{self, wait_for_hangup, Act, WireServer};
use support::KEY;

fn head(status: &str, headers: &str) -> Vec<u8> {
    wire::answer(status, headers, "")
}

fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8 ^ (index >> 12) as u8).collect()
}

/// A client with this stall limit, measured on the real clock as a stall must be, whose retry
/// pauses pass on a manual clock: a retried stall costs its stall limit and nothing more.
fn client_with_stall(api: &str, stall: Duration) -> Client {
    Client::builder(KEY).base_url(api).stall_timeout(stall).clock(ManualClock::new()).build().expect("client")
}

fn recorder() -> (Arc<Mutex<Vec<TransferProgress>>>, impl FnMut(TransferProgress) + Send + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, move |progress| sink.lock().unwrap().push(progress))
}

#[test]
fn a_download_longer_than_the_stall_timeout_succeeds_while_it_keeps_moving() {
    // 24 drips 50 ms apart: at least 1.2 s in all (the sleeps guarantee it), more than twice
    // the 500 ms stall timeout, while each pause is a tenth of it. A total deadline of the
    // stall timeout would cut this off; a stall limit must not.
    const DRIPS: usize = 24;
    const DRIP: usize = 1000;
    let body = pattern(DRIPS * DRIP);
    let cdn = WireServer::script(vec![Act::Drip {
        head: head("200 OK", &format!("Content-Length: {}\r\n", body.len())),
        body: body.clone(),
        piece: DRIP,
        pause: Duration::from_millis(50),
    }]);
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_millis(500));
    let (seen, on_progress) = recorder();
    let mut received = Vec::new();
    let written = client.download(&format!("{}/slow.webm", cdn.url())).progress(on_progress).to_writer(&mut received);
    assert_eq!(written.unwrap(), body.len() as u64);
    assert_eq!(received, body);
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "progress is reported as bytes arrive: {seen:?}");
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((body.len() as u64, Some(body.len() as u64))));
}

#[test]
fn a_download_that_stalls_mid_body_fails_with_a_timeout_and_leaves_no_file() {
    let cdn = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("200 OK", "Content-Length: 100000\r\n"));
        let _ = stream.write_all(&pattern(1000));
        let _ = stream.flush();
        wait_for_hangup(stream);
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.webm");
    let err = client.download(&format!("{}/stuck.webm", cdn.url())).to_path(&target).unwrap_err();
    // The same variant as a stalled upload.
    assert!(matches!(err, Error::Stalled { transfer: Transfer::Download, .. }), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file and no .part file is left");
}

#[test]
fn a_download_whose_answer_never_starts_fails_with_a_timeout() {
    let cdn = WireServer::script(vec![Act::Silent]);
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_millis(300));
    let err = client.download(&format!("{}/silent.webm", cdn.url())).to_writer(Vec::new()).unwrap_err();
    assert!(matches!(err, Error::Stalled { transfer: Transfer::Download, .. }), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn a_download_redirected_in_a_loop_stops_after_ten_redirects() {
    let cdn = WireServer::serve(|request, stream| {
        // Relative locations are resolved against the current URL.
        let hop: u32 =
            request.head.split(' ').nth(1).and_then(|path| path.strip_prefix("/hop/")?.parse().ok()).unwrap();
        let _ = stream.write_all(&head("302 Found", &format!("Location: /hop/{}\r\nContent-Length: 0\r\n", hop + 1)));
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_secs(10));
    let err = client.download(&format!("{}/hop/0", cdn.url())).to_writer(Vec::new()).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "output_url", .. }), "{err:?}");
    assert!(err.to_string().contains("more than 10"), "{err}");
    assert_eq!(cdn.count(), 11, "the first request and ten redirects");
}

#[test]
fn a_download_redirected_to_another_scheme_is_refused() {
    let cdn = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("302 Found", "Location: file:///etc/passwd\r\nContent-Length: 0\r\n"));
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_secs(10));
    let err = client.download(&format!("{}/o", cdn.url())).to_writer(Vec::new()).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "output_url", .. }), "{err:?}");
}

/// An API that takes uploads: answers with the size of the body it read.
fn upload_api() -> WireServer {
    WireServer::serve(|request, stream| {
        let json = format!(r#"{{"video_url":"https://cdn.example.com/u.mp4","size":{}}}"#, request.body.len());
        let _ = stream.write_all(&head(
            "200 OK",
            &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", json.len()),
        ));
        let _ = stream.write_all(json.as_bytes());
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn a_large_upload_arrives_whole_in_one_part_with_the_credential_and_progress() {
    // Five and a half chunks of the transfer path, so the last one is partial.
    let content = pattern(5 * 512 * 1024 + 1234);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    std::fs::write(&path, &content).unwrap();
    let api = upload_api();
    let client = client_with_stall(api.url(), Duration::from_secs(10));
    let (seen, on_progress) = recorder();
    let upload = client.upload(&path).progress(on_progress).send().unwrap();
    assert_eq!(upload.video_url, "https://cdn.example.com/u.mp4");
    let requests = api.requests();
    let request = &requests[0];
    assert!(request.head.starts_with("post /v1/uploads "), "{}", request.head);
    assert!(request.head.contains(&format!("x-api-key: {}", KEY.to_ascii_lowercase())), "{}", request.head);
    assert!(request.head.contains("content-type: multipart/form-data; boundary="), "{}", request.head);
    assert!(request.head.contains("user-agent: removebgvideo-rust/"), "{}", request.head);
    assert!(contains(&request.body, b"name=\"file\"; filename=\"big.mp4\""));
    assert!(contains(&request.body, &content), "the file's bytes arrive in order, whole");
    assert!(request.body.len() < content.len() + 400, "one part and nothing else: {}", request.body.len());
    let seen = seen.lock().unwrap();
    assert!(seen.windows(2).all(|pair| pair[0].done < pair[1].done), "{seen:?}");
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((content.len() as u64, Some(content.len() as u64))));
}

/// An upload API that reads the body slowly, `piece` bytes at a time, so the upload takes
/// longer than a stall timeout in all while never pausing for one; the last `fast_tail` bytes
/// are read at once, so that what the socket buffers still hold when the client has handed
/// over its last chunk (at most a few MiB) drains in moments, not at the slow pace.
fn slow_reading_upload_api(piece: usize, pause: Duration, fast_tail: usize) -> WireServer {
    // A small, fixed receive buffer: what the kernel holds unread stays small, so the
    // client's last chunk is read soon after it is taken.
    WireServer::builder().recv_buffer(256 * 1024).script(vec![Act::ReadSlowly {
        piece,
        pause,
        fast_tail,
        answer: wire::json(r#"{"video_url":"https://cdn.example.com/slow.mp4"}"#),
    }])
}

#[test]
fn an_upload_longer_than_the_stall_timeout_succeeds_while_it_keeps_moving() {
    // 64 MiB: the first 56 MiB read 64 KiB per 4 ms sleep, so at least 3.5 s in all (the
    // sleeps guarantee it) against a 3 s stall limit, with pauses of a few ms between reads
    // (hundreds of times inside it, so a loaded machine that delays a read tenfold still
    // passes). The last 8 MiB (more than the kernel's largest send
    // buffer, 4 MiB, plus the receive buffer and one 512 KiB chunk in flight) are read at once:
    // the stall clock, which runs from the last chunk handed over until the answer, sees only
    // that drain, milliseconds against the 3 s limit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.mp4");
    std::fs::write(&path, pattern(64 * 1024 * 1024)).unwrap();
    let api = slow_reading_upload_api(64 * 1024, Duration::from_millis(4), 8 * 1024 * 1024);
    let client =
        Client::builder(KEY).base_url(api.url()).stall_timeout(Duration::from_secs(3)).max_retries(0).build().unwrap();

    let upload = client.upload(&path).send().expect("an upload that keeps moving is not cut off");

    assert_eq!(upload.video_url, "https://cdn.example.com/slow.mp4");
}

/// The call timeout bounds API calls only: a transfer that keeps moving outlasts it. (The
/// client's HTTP stack carries the call timeout; each transfer lifts it.)
#[test]
fn a_download_and_an_upload_outlast_the_call_timeout_while_they_keep_moving() {
    // The download: 24 drips 50 ms apart, at least 1.2 s in all (the server's pauses
    // guarantee it), four times the 300 ms call timeout.
    let body = pattern(24 * 1000);
    let cdn = WireServer::script(vec![Act::Drip {
        head: head("200 OK", &format!("Content-Length: {}\r\n", body.len())),
        body: body.clone(),
        piece: 1000,
        pause: Duration::from_millis(50),
    }]);
    // The upload: 24 MiB, the first 16 MiB read 64 KiB per 4 ms pause, so at least 1 s
    // before the answer, against the same 300 ms.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.mp4");
    std::fs::write(&path, pattern(24 * 1024 * 1024)).unwrap();
    let api = slow_reading_upload_api(64 * 1024, Duration::from_millis(4), 8 * 1024 * 1024);
    let client = Client::builder(KEY)
        .base_url(api.url())
        .timeout(Duration::from_millis(300))
        .stall_timeout(Duration::from_secs(5))
        .max_retries(0)
        .build()
        .unwrap();

    let mut received = Vec::new();
    let written = client.download(&format!("{}/slow.webm", cdn.url())).to_writer(&mut received);
    assert_eq!(written.expect("a download is not bounded by the call timeout"), body.len() as u64);
    assert_eq!(received, body);
    let upload = client.upload(&path).send().expect("an upload is not bounded by the call timeout");
    assert_eq!(upload.video_url, "https://cdn.example.com/slow.mp4");
}

#[test]
fn a_reader_shorter_than_its_announced_length_is_an_io_error() {
    let api = upload_api();
    let client = client_with_stall(api.url(), Duration::from_secs(10));
    let err = client.upload_reader(std::io::Cursor::new(vec![7u8; 100]), 1000, "short.mp4").unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, source, .. } if path.as_os_str() == "short.mp4" && source.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
}

/// A reader that gives `good` bytes, then fails.
struct FailingReader {
    good: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.good == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(1);
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn a_reader_that_fails_mid_upload_is_an_io_error_with_its_cause() {
    let api = upload_api();
    let client = client_with_stall(api.url(), Duration::from_secs(10));
    let err = client.upload_reader(FailingReader { good: 3 << 20 }, 8 << 20, "big.mp4").unwrap_err();
    match &err {
        Error::Io { source, .. } => assert_eq!(source.to_string(), "disk on fire"),
        other => panic!("not an I/O error: {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[test]
fn transfers_called_from_inside_an_async_runtime_work_instead_of_panicking() {
    // Blocking a runtime thread is the caller's choice; the crate must not crash it. Clients
    // are made and dropped outside the runtime: reqwest's own blocking client panics when
    // dropped inside one in debug builds.
    let api = upload_api();
    let cdn = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("200 OK", "Content-Length: 5\r\n"));
        let _ = stream.write_all(b"VIDEO");
    });
    let client = client_with_stall(api.url(), Duration::from_secs(10));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.mp4");
    std::fs::write(&path, b"input").unwrap();
    let runtimes = [
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap(),
    ];
    for runtime in runtimes {
        let (upload, downloaded) = runtime.block_on(async {
            let upload = client.upload(&path).send().unwrap();
            let mut buffer = Vec::new();
            client.download(&format!("{}/o.webm", cdn.url())).to_writer(&mut buffer).unwrap();
            (upload, buffer)
        });
        assert_eq!(upload.video_url, "https://cdn.example.com/u.mp4");
        assert_eq!(downloaded, b"VIDEO");
        // And from the blocking pool, where the crate's docs send async callers.
        let task_client = client.clone();
        let task_path = path.clone();
        let upload = runtime
            .block_on(async { tokio::task::spawn_blocking(move || task_client.upload(task_path).send()).await })
            .unwrap();
        assert_eq!(upload.unwrap().video_url, "https://cdn.example.com/u.mp4");
    }
}

#[test]
fn the_last_client_dropped_inside_an_async_task_does_not_panic() {
    let cdn = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("200 OK", "Content-Length: 2\r\n"));
        let _ = stream.write_all(b"ok");
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_secs(10));
    // A transfer first, so that the client's own runtime is running when it is dropped.
    client.download(&format!("{}/o", cdn.url())).to_writer(Vec::new()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // The one and only client moves into a task and is dropped there: dropping a runtime
    // inside a task panics unless the crate shuts it down in the background. The task's
    // panic would come back as its join error.
    let dropped = runtime.block_on(async move { tokio::spawn(async move { drop(client) }).await });
    assert!(dropped.is_ok(), "dropping the last client inside a task panicked: {dropped:?}");
}

#[test]
fn a_proxy_carries_every_request_and_its_password_is_never_shown() {
    let proxy = WireServer::serve(|request, stream| {
        let body = if request.head.starts_with("post") {
            r#"{"video_url":"https://s/u"}"#.to_owned()
        } else if request.head.contains("/v1/jobs/") {
            support::job("job_1", "completed", Some(100.0))
        } else {
            "OUTPUT".to_owned()
        };
        let _ = stream.write_all(&head("200 OK", &format!("Content-Length: {}\r\n", body.len())));
        let _ = stream.write_all(body.as_bytes());
    });
    let proxy_url = proxy.url().replace("http://", "http://user:PROXYPASS@");
    let builder = Client::builder(KEY)
        .base_url("http://api.example.test")
        .allow_insecure_http(true)
        .proxy(&proxy_url)
        .stall_timeout(Duration::from_secs(10));
    assert!(!format!("{builder:?}").contains("PROXYPASS"), "{builder:?}");
    let client = builder.build().expect("client");

    let job = client.get_job("job_1").unwrap();
    assert_eq!(job.id, "job_1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.mp4");
    std::fs::write(&path, b"PROXIED-BYTES").unwrap();
    assert_eq!(client.upload(&path).send().unwrap().video_url, "https://s/u");
    let mut buffer = Vec::new();
    client.download("http://cdn.example.test/o.webm").to_writer(&mut buffer).unwrap();
    assert_eq!(buffer, b"OUTPUT");

    let heads = proxy.heads();
    assert_eq!(heads.len(), 3, "{heads:?}");
    assert!(heads[0].starts_with("get http://api.example.test/v1/jobs/job_1 "), "{heads:?}");
    assert!(heads[1].starts_with("post http://api.example.test/v1/uploads "), "{heads:?}");
    assert!(heads[2].starts_with("get http://cdn.example.test/o.webm "), "{heads:?}");
    assert!(heads.iter().all(|head| head.contains("proxy-authorization: basic")), "{heads:?}");
}

#[test]
fn a_proxy_that_is_not_a_url_is_refused_at_build_without_quoting_it() {
    for proxy in ["ftp://user:PROXYPASS@proxy:21", "not a url PROXYPASS", "http://"] {
        let err = Client::builder(KEY).proxy(proxy).build().unwrap_err();
        assert!(
            matches!(err, Error::Config(removebgvideo::client::ConfigError::InvalidProxy { .. })),
            "{proxy}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains("PROXYPASS"), "{err:?}");
    }
}

#[test]
fn no_credential_reaches_any_hop_of_a_download() {
    let origin = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("200 OK", "Content-Length: 4\r\n"));
        let _ = stream.write_all(b"DATA");
    });
    let target = format!("{}/final", origin.url());
    let cdn = WireServer::serve(move |_, stream| {
        let _ =
            stream.write_all(&head("307 Temporary Redirect", &format!("Location: {target}\r\nContent-Length: 0\r\n")));
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_secs(10));
    let mut buffer = Vec::new();
    client.download(&format!("{}/start", cdn.url())).to_writer(&mut buffer).unwrap();
    assert_eq!(buffer, b"DATA");
    for head in cdn.heads().iter().chain(origin.heads().iter()) {
        assert!(!head.contains("x-api-key") && !head.contains("x-admin-token"), "{head}");
        assert!(!head.contains(&KEY.to_ascii_lowercase()), "{head}");
    }
}

#[test]
fn a_download_cut_off_mid_body_names_the_host_and_leaves_no_file() {
    let cdn = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&head("200 OK", "Content-Length: 100000\r\n"));
        let _ = stream.write_all(&[5u8; 1000]);
        // The handler returns: the connection closes with most of the body unsent.
    });
    let client = client_with_stall("http://127.0.0.1:9", Duration::from_secs(10));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.webm");
    let err = client.download(&format!("{}/o.webm?X-Amz-Signature=SIGNED", cdn.url())).to_path(&path).unwrap_err();
    assert!(matches!(&err, Error::Transport(inner) if inner.is_body()), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("broke off") && message.contains(cdn.url()), "{message}");
    assert!(!format!("{message} {err:?}").contains("SIGNED"), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "neither the file nor its .part");
}
