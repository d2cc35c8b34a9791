//! Faults a mock framework cannot produce: connections closed without an answer, answers that
//! never come, bodies cut short or far too large. The wire-level test server plays each one.

use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::{Client, CreateJob, Error};

use crate::support::wire::{self, closed_port, Act, WireServer};

fn answer(status: &str, headers: &str, body: &str) -> Act {
    Act::Raw(wire::answer(status, headers, body))
}

/// A client with the default call timeout (30 s): a prompt local answer is thousands of
/// times faster. Retries pause on a ManualClock.
fn client(server: &WireServer) -> Client {
    Client::builder("raw-test-key").base_url(server.url()).clock(ManualClock::new()).build().expect("client")
}

/// As [`client`], with a 2 s call timeout: a silent attempt costs 2 s, and a prompt local
/// answer (a few ms, well under 200 ms even on a loaded machine) is more than 10× inside it.
fn impatient_client(server: &WireServer) -> Client {
    Client::builder("raw-test-key")
        .base_url(server.url())
        .timeout(Duration::from_secs(2))
        .clock(ManualClock::new())
        .build()
        .expect("client")
}

const JOB: &str = r#"{"id":"job_1","status":"processing","progress":10}"#;

fn ok_job() -> Act {
    Act::Raw(wire::json(JOB))
}

#[test]
fn an_answer_that_arrives_in_many_pieces_is_read_whole() {
    // One byte at a time: every piece after the first is gathered behind it.
    let server = WireServer::script(vec![Act::Drip {
        head: format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", JOB.len())
            .into_bytes(),
        body: JOB.as_bytes().to_vec(),
        piece: 1,
        pause: Duration::from_millis(1),
    }]);
    let job = client(&server).get_job("job_1").expect("a job read in pieces");
    assert_eq!((job.id.as_str(), job.progress), ("job_1", Some(10.0)));
}

#[test]
fn a_read_survives_a_dropped_connection() {
    let server = WireServer::script(vec![Act::HangUp, ok_job()]);
    let job = client(&server).get_job("job_1").expect("retried after the hangup");
    assert_eq!(job.id, "job_1");
    assert_eq!(server.count(), 2);
}

#[test]
fn a_job_creation_is_not_repeated_after_a_dropped_connection() {
    // The server may have created the job before the connection dropped: no blind retry.
    let server = WireServer::script(vec![Act::HangUp, ok_job()]);
    let error = client(&server).create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(server.count(), 1);
}

#[test]
fn an_answer_slower_than_the_timeout_is_a_timeout_error() {
    let server = WireServer::script(vec![Act::Silent, Act::Silent, Act::Silent]);
    let client = Client::builder("raw-test-key")
        .base_url(server.url())
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .expect("client");
    let error = client.get_job("job_1").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(server.count(), 1);
}

#[test]
fn a_slow_read_is_retried_but_a_slow_creation_is_not() {
    let server = WireServer::script(vec![Act::Silent, ok_job()]);
    assert_eq!(impatient_client(&server).get_job("job_1").expect("second attempt answers").id, "job_1");
    assert_eq!(server.count(), 2);

    let server = WireServer::script(vec![Act::Silent, ok_job()]);
    let error = impatient_client(&server).create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(server.count(), 1, "a timed-out POST may have created the job");
}

#[test]
fn truncated_json_on_a_200_is_a_decode_error_with_the_snippet() {
    let body = r#"{"id":"job_1","status":"proc"#;
    let server = WireServer::script(vec![answer(
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
    let server = WireServer::script(vec![answer("200 OK", "Content-Length: 500\r\n", r#"{"id":"job_1""#)]);
    let client = Client::builder("raw-test-key").base_url(server.url()).max_retries(0).build().expect("client");
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
    let server = WireServer::script(vec![answer("200 OK", "Content-Length: 1073741824\r\n", "{")]);
    let error = client(&server).get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { limit, .. } if limit == 16 * 1024 * 1024), "{error:?}");
}

#[test]
fn an_endless_answer_is_cut_off_at_the_limit() {
    let server = WireServer::script(vec![Act::endless_json()]);
    let error = client(&server).get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { .. }), "{error:?}");
}

#[test]
fn an_endless_error_page_is_cut_off_too() {
    let head = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1073741824\r\n\r\n<html>";
    let server = WireServer::script(vec![Act::Raw(head.as_bytes().to_vec())]);
    let client = Client::builder("raw-test-key").base_url(server.url()).max_retries(0).build().expect("client");
    let error = client.get_job("job_1").unwrap_err();
    assert!(matches!(error, Error::AnswerTooLarge { .. }), "{error:?}");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(502));
}

#[test]
fn a_closed_port_is_a_retryable_connect_error() {
    let port = closed_port();
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
