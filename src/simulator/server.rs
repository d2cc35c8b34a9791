//! The HTTP side: worker threads pulling requests from `tiny_http`, reading bodies, applying
//! faults, recording, dispatching, and writing answers.

use std::io::{Cursor, Read, Write};
use std::sync::Arc;
use std::thread::JoinHandle;

use tiny_http::Request;

use super::faults::{self, Fault};
use super::multipart::{self, MultipartError};
use super::output::OutputReader;
use super::record::{RecordedRequest, RecordingReader};
use super::reply::{Reply, ReplyBody};
use super::routes::{self, Body, Ctx, Route, MAX_JSON_BODY};
use super::state::lock;
use super::Shared;

/// Starts `threads` workers answering requests until the simulator stops.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    server: &Arc<tiny_http::Server>,
    threads: usize,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    let mut handles = Vec::with_capacity(threads);
    for i in 0..threads {
        let worker_shared = Arc::clone(shared);
        let worker_server = Arc::clone(server);
        let spawned = std::thread::Builder::new()
            .name(format!("rbv-sim-{i}"))
            .spawn(move || worker(&worker_shared, &worker_server));
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                // Stop the ones already running before reporting.
                shared.signal_stop();
                for _ in &handles {
                    server.unblock();
                }
                for h in handles {
                    let _ = h.join();
                }
                return Err(e);
            }
        }
    }
    Ok(handles)
}

fn worker(shared: &Shared, server: &tiny_http::Server) {
    loop {
        match server.recv() {
            Ok(rq) => {
                // A bug in a handler must not cost a worker; the dropped request answers 500.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handle(shared, rq);
                }));
            }
            Err(_) if shared.stopping() => return,
            Err(_) => {}
        }
    }
}

fn handle(shared: &Shared, mut rq: Request) {
    let request_id = format!("req_{:016x}", fastrand::u64(..));
    let method = rq.method().as_str().to_ascii_uppercase();
    let url = rq.url().to_owned();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (url.clone(), None),
    };
    let headers: Vec<(String, String)> =
        rq.headers().iter().map(|h| (h.field.as_str().to_string(), h.value.as_str().to_owned())).collect();
    let resolved = routes::resolve(&path);
    let fault = if path.starts_with("/outputs/") {
        None
    } else {
        let mut st = lock(&shared.state);
        faults::take(&mut st.faults, &method, &path)
    };
    let ctx = Ctx { shared, request_id: &request_id, method: &method, query: query.as_deref(), headers: &headers };

    let (body, captured, total) = {
        let mut reader = RecordingReader::new(rq.as_reader());
        let scan = method == "POST"
            && matches!(&resolved, Some((Route::Uploads, _)))
            && fault.as_ref().is_none_or(Fault::applies_request)
            && ctx.authorized(&Route::Uploads);
        let body = if scan {
            Body::Upload(match ctx.header("Content-Type").and_then(multipart::boundary) {
                Some(b) => multipart::scan_upload(&mut reader, &b),
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
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        body: captured,
        body_len: total,
        request_id: request_id.clone(),
    });

    let reply = match &fault {
        Some(Fault::DropConnection) => return faults::drop_connection(rq),
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
    send(rq, reply, &request_id);
}

/// Writes the answer by hand, with `Connection: close`.
///
/// `tiny_http` 0.12 refuses a `Connection` header on its own responses, and its connection
/// thread pool can leave a newly accepted connection queued behind idle keep-alive
/// connections (a lost wake-up), which hangs a client doing several requests at once.
/// Closing every connection after one answer bounds that wait to one request.
fn send(rq: Request, reply: Reply, request_id: &str) {
    let (mut data, len): (Box<dyn Read + Send>, usize) = match reply.body {
        ReplyBody::Bytes(b) => {
            let len = b.len();
            (Box::new(Cursor::new(b)), len)
        }
        ReplyBody::Output { job_id, len } => (Box::new(OutputReader::new(&job_id, len)), len),
    };
    let mut head =
        format!("HTTP/1.1 {} {}\r\nX-Request-Id: {request_id}\r\n", reply.status, faults::reason(reply.status));
    for (k, v) in &reply.headers {
        // Header values are built by the simulator; keep them on one line regardless.
        if !k.contains(['\r', '\n', ':']) && !v.contains(['\r', '\n']) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {len}\r\nConnection: close\r\nServer: removebgvideo-simulator\r\n\r\n"));
    let mut writer = rq.into_writer();
    // The client may have gone away; nothing to do about it.
    let _ = writer
        .write_all(head.as_bytes())
        .and_then(|()| std::io::copy(&mut data, &mut writer).map(|_| ()))
        .and_then(|()| writer.flush());
}
