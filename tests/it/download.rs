//! Downloading a job's output from its host (a CDN): exact bytes, progress, no credential,
//! and no half-written file left behind.

use crate::support;

use std::sync::{Arc, Mutex};

use mockito::{Matcher, Mock, ServerGuard};
use removebgvideo::client::TransferProgress;
use removebgvideo::{Error, Job};
use serde_json::json;
use support::{client, names_in, user_agent};

/// 600 KiB of a pattern that is not the same at every offset: more than one read buffer.
fn video_bytes() -> Vec<u8> {
    (0..600 * 1024u32).map(|i| (i % 251) as u8 ^ (i >> 10) as u8).collect()
}

/// The output on the CDN: no API key, no admin token, the crate's User-Agent.
fn cdn_file(cdn: &mut ServerGuard, path: &str, body: &[u8]) -> Mock {
    cdn.mock("GET", path)
        .match_header("x-api-key", Matcher::Missing)
        .match_header("x-admin-token", Matcher::Missing)
        .match_header("user-agent", user_agent())
        .with_header("content-type", "video/webm")
        .with_body(body)
        .expect(1)
        .create()
}

fn recorder() -> (Arc<Mutex<Vec<TransferProgress>>>, impl FnMut(TransferProgress) + Send + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, move |progress| sink.lock().unwrap().push(progress))
}

fn completed_job(output_url: Option<String>) -> Job {
    let mut value = json!({"id": "job_1", "status": if output_url.is_some() { "completed" } else { "processing" }});
    if let Some(url) = output_url {
        value["output_url"] = json!(url);
    }
    serde_json::from_value(value).unwrap()
}

#[test]
fn a_download_to_a_path_writes_the_exact_bytes_and_reports_progress() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let bytes = video_bytes();
    let mock = cdn_file(&mut cdn, "/outputs/job_1.webm", &bytes);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.webm");
    let (seen, on_progress) = recorder();
    let written = client(&api)
        .download(&format!("{}/outputs/job_1.webm", cdn.url()))
        .progress(on_progress)
        .to_path(&target)
        .unwrap();
    mock.assert();
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    assert_eq!(names_in(dir.path()), vec!["out.webm"], "no .part file is left");
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "{} progress reports", seen.len());
    let total = Some(bytes.len() as u64);
    assert!(seen.iter().all(|p| p.total == total), "{seen:?}");
    assert!(seen.windows(2).all(|pair| pair[0].done < pair[1].done), "{seen:?}");
    assert_eq!(seen.last().map(|p| p.done), Some(bytes.len() as u64));
}

#[test]
fn a_download_to_a_writer_gives_the_exact_bytes() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let bytes = video_bytes();
    let mock = cdn_file(&mut cdn, "/o/x.mp4", &bytes);
    let mut buffer = Vec::new();
    let written = client(&api).download(&format!("{}/o/x.mp4", cdn.url())).to_writer(&mut buffer).unwrap();
    mock.assert();
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(buffer, bytes);
}

#[test]
fn an_empty_output_downloads_as_an_empty_file() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let mock = cdn_file(&mut cdn, "/empty", b"");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("empty.webm");
    let written = client(&api).download(&format!("{}/empty", cdn.url())).to_path(&target).unwrap();
    mock.assert();
    assert_eq!(written, 0);
    assert_eq!(std::fs::read(&target).unwrap(), b"");
}

#[test]
fn download_output_fetches_the_jobs_output_url() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let mock = cdn_file(&mut cdn, "/outputs/job_1.webm?sig=abc%2F1&exp=99", b"WEBM");
    let job = completed_job(Some(format!("{}/outputs/job_1.webm?sig=abc%2F1&exp=99", cdn.url())));
    let mut buffer = Vec::new();
    client(&api).download_output(&job).unwrap().to_writer(&mut buffer).unwrap();
    mock.assert();
    assert_eq!(buffer, b"WEBM");
}

#[test]
fn download_output_without_an_output_url_is_invalid_input() {
    let mut api = mockito::Server::new();
    let never = api.mock("GET", Matcher::Any).expect(0).create();
    let err = client(&api).download_output(&completed_job(None)).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "job", .. }), "{err:?}");
    assert!(err.to_string().contains("job_1"), "{err}");
    never.assert();
}

#[test]
fn a_404_from_the_output_host_is_an_api_error_and_leaves_no_file() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let mock = cdn
        .mock("GET", "/outputs/gone.webm")
        .match_header("x-api-key", Matcher::Missing)
        .with_status(404)
        .with_header("x-request-id", "cdn_req_1")
        .with_body("<Error><Code>NoSuchKey</Code></Error>")
        .expect(1)
        .create();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.webm");
    let err = client(&api).download(&format!("{}/outputs/gone.webm", cdn.url())).to_path(&target).unwrap_err();
    mock.assert();
    let api_error = err.api_error().unwrap_or_else(|| panic!("not an API error: {err:?}"));
    assert_eq!(api_error.status(), 404);
    assert!(api_error.body_snippet().contains("NoSuchKey"));
    assert_eq!(api_error.request_id(), Some("cdn_req_1"));
    assert!(!target.exists());
    assert!(!dir.path().join("out.webm.part").exists());
    assert!(names_in(dir.path()).is_empty(), "{:?}", names_in(dir.path()));
}

#[test]
fn a_failed_download_leaves_an_existing_file_untouched() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    cdn.mock("GET", "/o").with_status(403).expect(1).create();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("keep.webm");
    std::fs::write(&target, b"previous").unwrap();
    let err = client(&api).download(&format!("{}/o", cdn.url())).to_path(&target).unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    assert_eq!(names_in(dir.path()), vec!["keep.webm"]);
}

#[test]
fn a_successful_download_replaces_an_existing_file() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    cdn_file(&mut cdn, "/o", b"new bytes");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.webm");
    std::fs::write(&target, b"old bytes that are longer").unwrap();
    client(&api).download(&format!("{}/o", cdn.url())).to_path(&target).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new bytes");
    assert_eq!(names_in(dir.path()), vec!["out.webm"]);
}

#[test]
fn a_download_into_a_missing_directory_is_an_io_error_without_a_request() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let never = cdn.mock("GET", Matcher::Any).expect(0).create();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("out.webm");
    let err = client(&api).download(&format!("{}/o", cdn.url())).to_path(&target).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    never.assert();
}

#[test]
fn only_http_and_https_urls_are_fetched() {
    let api = mockito::Server::new();
    let client = client(&api);
    for url in ["ftp://cdn.example.com/o.webm", "file:///etc/passwd", "not a url", ""] {
        let err = client.download(url).to_writer(Vec::new()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: "output_url", .. }), "{url}: {err:?}");
    }
}

#[test]
fn a_redirect_between_output_hosts_is_followed_without_a_credential() {
    let api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let mut origin = mockito::Server::new();
    let redirect = cdn
        .mock("GET", "/o")
        .with_status(302)
        .with_header("location", &format!("{}/real/o.webm", origin.url()))
        .expect(1)
        .create();
    let file = cdn_file(&mut origin, "/real/o.webm", b"REAL");
    let mut buffer = Vec::new();
    client(&api).download(&format!("{}/o", cdn.url())).to_writer(&mut buffer).unwrap();
    redirect.assert();
    file.assert();
    assert_eq!(buffer, b"REAL");
}

#[test]
fn a_redirect_from_the_api_host_to_the_cdn_is_followed_for_a_download() {
    // The download sends no credential, so the API's cross-origin redirect guard has nothing
    // to protect here; an output URL on the API host that redirects to a CDN must work.
    let mut api = mockito::Server::new();
    let mut cdn = mockito::Server::new();
    let redirect = api
        .mock("GET", "/files/job_1.webm")
        .match_header("x-api-key", Matcher::Missing)
        .with_status(302)
        .with_header("location", &format!("{}/signed/job_1.webm", cdn.url()))
        .expect(1)
        .create();
    let file = cdn_file(&mut cdn, "/signed/job_1.webm", b"SIGNED");
    let mut buffer = Vec::new();
    let result = client(&api).download(&format!("{}/files/job_1.webm", api.url())).to_writer(&mut buffer);
    redirect.assert();
    result.unwrap();
    file.assert();
    assert_eq!(buffer, b"SIGNED");
}

#[test]
fn debug_of_a_download_leaves_out_the_signature_of_a_signed_url() {
    let client = removebgvideo::Client::builder("sk_test_key").build().unwrap();
    let download = client.download("https://cdn.example.com/out/job_1.webm?X-Amz-Signature=abc123&exp=9");

    let shown = format!("{download:?}");

    assert!(shown.contains("https://cdn.example.com/out/job_1.webm"), "{shown}");
    assert!(!shown.contains("abc123"), "{shown}");
    assert!(!shown.contains("sk_test_key"), "{shown}");
}

#[test]
fn a_failed_download_of_a_signed_url_never_shows_its_query() {
    let client = client(&mockito::Server::new());
    // Nothing listens on port 1: the connection fails.
    let signed = "http://127.0.0.1:1/o.webm?X-Amz-Signature=SIGNATURE123&X-Amz-Credential=CRED456";
    let err = client.download(signed).to_writer(Vec::new()).unwrap_err();
    assert!(matches!(&err, Error::Transport(inner) if inner.is_connect()), "{err:?}");
    let mut text = format!("{err} {err:?} {err:#?}");
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        text.push_str(&format!(" {inner} {inner:?}"));
        source = inner.source();
    }
    assert!(!text.contains("SIGNATURE123") && !text.contains("CRED456") && !text.contains("o.webm"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "the origin is named: {text}");
}
