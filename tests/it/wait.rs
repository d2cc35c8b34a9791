//! wait_for_completion: polling with a ManualClock, so the pause schedule is exact and nothing
//! really sleeps.

use crate::support;

use std::time::Duration;

use mockito::{Matcher, Mock, ServerGuard};
use removebgvideo::{Error, JobStatus, WaitOptions};
use support::{client_with_clock, job, KEY};

const PATH: &str = "/v1/jobs/job_1";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// One poll answer, given exactly `times` times; mockito answers with the first mock created
/// that still has hits left, so mocks made in order form a sequence.
fn poll(server: &mut ServerGuard, status: usize, body: &str, times: usize) -> Mock {
    server.mock("GET", PATH).match_header("x-api-key", KEY).with_status(status).with_body(body).expect(times).create()
}

fn assert_all(mocks: &[Mock]) {
    for mock in mocks {
        mock.assert();
    }
}

fn options<'a>(interval: u64, timeout: u64) -> WaitOptions<'a> {
    WaitOptions::default().interval(secs(interval)).timeout(secs(timeout))
}

#[test]
fn it_returns_the_job_once_completed_and_reports_each_change_once() {
    let mut server = mockito::Server::new();
    let mocks = vec![
        poll(&mut server, 200, &job("job_1", "pending", None), 1),
        poll(&mut server, 200, &job("job_1", "processing", Some(10.0)), 2),
        poll(&mut server, 200, &job("job_1", "processing", Some(55.0)), 1),
        poll(&mut server, 200, &job("job_1", "processing", Some(55.0)), 1),
        poll(
            &mut server,
            200,
            r#"{"id":"job_1","status":"completed","progress":100,"output_url":"https://cdn.example.com/o.webm"}"#,
            1,
        ),
    ];
    let (client, clock) = client_with_clock(&server);
    let mut seen = Vec::new();
    let done = client
        .wait_for_completion("job_1", options(2, 600).on_update(|job| seen.push((job.status.clone(), job.progress))))
        .unwrap();
    assert_all(&mocks);
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.output_url.as_deref(), Some("https://cdn.example.com/o.webm"));
    assert_eq!(
        seen,
        vec![
            (JobStatus::Pending, None),
            (JobStatus::Processing, Some(10.0)),
            (JobStatus::Processing, Some(55.0)),
            (JobStatus::Completed, Some(100.0)),
        ]
    );
    // Six polls, five pauses of the interval.
    assert_eq!(clock.sleeps(), vec![secs(2); 5]);
}

#[test]
fn a_job_completed_at_the_first_poll_returns_without_a_pause() {
    let mut server = mockito::Server::new();
    let mock = poll(&mut server, 200, &job("job_1", "completed", Some(100.0)), 1);
    let (client, clock) = client_with_clock(&server);
    let mut calls = 0;
    client.wait_for_completion("job_1", options(2, 600).on_update(|_| calls += 1)).unwrap();
    mock.assert();
    assert_eq!(calls, 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_failed_job_is_a_job_failed_error_with_the_jobs_message() {
    let mut server = mockito::Server::new();
    let mocks = vec![
        poll(&mut server, 200, &job("job_1", "processing", Some(30.0)), 1),
        poll(&mut server, 200, r#"{"id":"job_1","status":"failed","error":{"message":"Unsupported codec"}}"#, 1),
    ];
    let (client, clock) = client_with_clock(&server);
    let mut seen = Vec::new();
    let err = client
        .wait_for_completion("job_1", options(2, 600).on_update(|job| seen.push(job.status.clone())))
        .unwrap_err();
    assert_all(&mocks);
    match &err {
        Error::JobFailed(job) => {
            assert_eq!(job.id, "job_1");
            assert_eq!(job.error.as_deref(), Some("Unsupported codec"));
        }
        other => panic!("not JobFailed: {other:?}"),
    }
    assert!(err.to_string().contains("Unsupported codec"), "{err}");
    assert!(err.to_string().contains("job_1"), "{err}");
    assert_eq!(err.job().map(|job| job.status.clone()), Some(JobStatus::Failed));
    assert!(!err.is_retryable());
    assert_eq!(seen, vec![JobStatus::Processing, JobStatus::Failed]);
    assert_eq!(clock.sleeps(), vec![secs(2)]);
}

#[test]
fn a_failed_job_without_a_reason_still_says_it_failed() {
    let mut server = mockito::Server::new();
    poll(&mut server, 200, &job("job_1", "failed", None), 1);
    let (client, _clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 600)).unwrap_err();
    assert!(matches!(err, Error::JobFailed(_)), "{err:?}");
    assert!(err.to_string().contains("failed"), "{err}");
}

#[test]
fn it_times_out_with_the_last_state_seen_and_polls_once_at_the_deadline() {
    let mut server = mockito::Server::new();
    // Polls at 0, 2, 4, 6, 8 and 10 s (the deadline).
    let mock = poll(&mut server, 200, &job("job_1", "processing", Some(40.0)), 6);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 10)).unwrap_err();
    mock.assert();
    match &err {
        Error::WaitTimeout { job_id, elapsed, last_seen, last_error } => {
            assert_eq!(job_id, "job_1");
            assert!(*elapsed >= secs(10), "{elapsed:?}");
            let last = last_seen.as_deref().expect("a job was seen");
            assert_eq!(last.status, JobStatus::Processing);
            assert_eq!(last.progress, Some(40.0));
            assert!(last_error.is_none());
        }
        other => panic!("not WaitTimeout: {other:?}"),
    }
    assert!(err.is_timeout());
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("job_1") && text.contains("processing at 40%"), "{text}");
    assert_eq!(clock.sleeps(), vec![secs(2); 5]);
}

#[test]
fn the_last_pause_is_cut_to_the_deadline() {
    let mut server = mockito::Server::new();
    // Polls at 0, 2, 4 and 5 s.
    let mock = poll(&mut server, 200, &job("job_1", "processing", None), 4);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 5)).unwrap_err();
    mock.assert();
    assert!(matches!(&err, Error::WaitTimeout { elapsed, .. } if *elapsed == secs(5)), "{err:?}");
    let sleeps = clock.sleeps();
    assert_eq!(sleeps, vec![secs(2), secs(2), secs(1)]);
    assert_eq!(sleeps.iter().sum::<Duration>(), secs(5));
}

#[test]
fn a_zero_timeout_polls_once() {
    let mut server = mockito::Server::new();
    let mock = poll(&mut server, 200, &job("job_1", "pending", None), 1);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 0)).unwrap_err();
    mock.assert();
    assert!(matches!(err, Error::WaitTimeout { .. }), "{err:?}");
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_transient_error_in_the_middle_does_not_end_the_wait() {
    let mut server = mockito::Server::new();
    let mocks = vec![
        poll(&mut server, 200, &job("job_1", "processing", Some(20.0)), 1),
        poll(&mut server, 503, r#"{"error":{"code":"unavailable","message":"try later"}}"#, 1),
        poll(&mut server, 502, "<html>Bad Gateway</html>", 1),
        poll(&mut server, 200, &job("job_1", "completed", Some(100.0)), 1),
    ];
    let (client, clock) = client_with_clock(&server);
    let mut seen = Vec::new();
    let done =
        client.wait_for_completion("job_1", options(2, 600).on_update(|job| seen.push(job.status.clone()))).unwrap();
    assert_all(&mocks);
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(seen, vec![JobStatus::Processing, JobStatus::Completed]);
    // Each poll is one attempt: no retry backoff between the wait's own pauses.
    assert_eq!(clock.sleeps(), vec![secs(2); 3]);
}

#[test]
fn a_429_retry_after_stretches_the_next_pause() {
    let mut server = mockito::Server::new();
    let limited = server
        .mock("GET", PATH)
        .with_status(429)
        .with_header("retry-after", "7")
        .with_body(r#"{"error":{"code":"rate_limited","message":"slow down"}}"#)
        .expect(1)
        .create();
    let done = poll(&mut server, 200, &job("job_1", "completed", None), 1);
    let (client, clock) = client_with_clock(&server);
    client.wait_for_completion("job_1", options(2, 600)).unwrap();
    limited.assert();
    done.assert();
    assert_eq!(clock.sleeps(), vec![secs(7)]);
}

#[test]
fn a_retry_after_past_the_deadline_is_cut_to_the_deadline() {
    let mut server = mockito::Server::new();
    // The client's shared back-off holds the poll at the deadline too: the server asked for 25 s.
    let limited = server.mock("GET", PATH).with_status(429).with_header("retry-after", "25").expect(1).create();
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 10)).unwrap_err();
    limited.assert();
    match &err {
        Error::WaitTimeout { last_seen, last_error, .. } => {
            assert!(last_seen.is_none());
            let last = last_error.as_deref().expect("the last poll failed");
            assert_eq!(last.status().map(|s| s.as_u16()), Some(429));
        }
        other => panic!("not WaitTimeout: {other:?}"),
    }
    assert!(err.to_string().contains("never seen"), "{err}");
    assert_eq!(clock.sleeps(), vec![secs(10)]);
}

#[test]
fn a_timeout_after_a_failed_poll_keeps_both_the_job_and_the_error() {
    let mut server = mockito::Server::new();
    let mocks = vec![poll(&mut server, 200, &job("job_1", "processing", Some(90.0)), 1), poll(&mut server, 503, "", 1)];
    let (client, _clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(3, 3)).unwrap_err();
    assert_all(&mocks);
    match &err {
        Error::WaitTimeout { last_seen, last_error, .. } => {
            assert_eq!(last_seen.as_deref().map(|job| job.progress), Some(Some(90.0)));
            assert_eq!(last_error.as_deref().and_then(Error::status).map(|s| s.as_u16()), Some(503));
        }
        other => panic!("not WaitTimeout: {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn a_404_ends_the_wait_at_once() {
    let mut server = mockito::Server::new();
    let mocks = vec![
        poll(&mut server, 200, &job("job_1", "processing", None), 1),
        poll(&mut server, 404, r#"{"error":{"code":"not_found","message":"No such job"}}"#, 1),
    ];
    let never = poll(&mut server, 200, &job("job_1", "completed", None), 0);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 600)).unwrap_err();
    assert_all(&mocks);
    never.assert();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.api_error().map(|api| api.message()), Some("No such job"));
    assert_eq!(clock.sleeps(), vec![secs(2)]);
}

#[test]
fn a_402_out_of_credits_ends_the_wait_at_once_and_is_never_retried() {
    let mut server = mockito::Server::new();
    let mock = poll(&mut server, 402, r#"{"error":{"code":"insufficient_credits","message":"Top up"}}"#, 1);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", WaitOptions::default()).unwrap_err();
    mock.assert();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    assert!(!err.is_retryable());
    assert!(clock.sleeps().is_empty(), "no pause, no second poll");
}

#[test]
fn a_401_at_the_first_poll_ends_the_wait_without_a_pause() {
    let mut server = mockito::Server::new();
    let mock = poll(&mut server, 401, r#"{"error":{"code":"unauthorized","message":"bad key"}}"#, 1);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(2, 600)).unwrap_err();
    mock.assert();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(clock.sleeps().is_empty());
}

#[test]
fn backoff_grows_the_interval_up_to_the_max_and_stops_at_the_deadline() {
    let mut server = mockito::Server::new();
    // Pauses 1, 2, 4, 5, 5, then the 3 s left: polls at 0, 1, 3, 7, 12, 17, 20.
    let mock = poll(&mut server, 200, &job("job_1", "processing", None), 7);
    let (client, clock) = client_with_clock(&server);
    let err = client.wait_for_completion("job_1", options(1, 20).backoff(2.0, secs(5))).unwrap_err();
    mock.assert();
    assert!(err.is_timeout(), "{err:?}");
    let sleeps = clock.sleeps();
    assert_eq!(sleeps, vec![secs(1), secs(2), secs(4), secs(5), secs(5), secs(3)]);
    assert_eq!(sleeps.iter().sum::<Duration>(), secs(20));
}

#[test]
fn a_backoff_max_below_the_interval_keeps_the_interval() {
    let mut server = mockito::Server::new();
    let mock = poll(&mut server, 200, &job("job_1", "processing", None), 4);
    let (client, clock) = client_with_clock(&server);
    client.wait_for_completion("job_1", options(3, 9).backoff(2.0, secs(1))).unwrap_err();
    mock.assert();
    assert_eq!(clock.sleeps(), vec![secs(3); 3]);
}

#[test]
fn the_pause_schedule_never_passes_the_deadline() {
    for (interval, timeout) in [(1, 1), (2, 7), (3, 10), (5, 4), (7, 30)] {
        let mut server = mockito::Server::new();
        server.mock("GET", PATH).with_body(job("job_1", "processing", None)).expect_at_least(1).create();
        let (client, clock) = client_with_clock(&server);
        let err = client.wait_for_completion("job_1", options(interval, timeout).backoff(1.5, secs(6))).unwrap_err();
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.iter().sum::<Duration>(), secs(timeout), "{interval}/{timeout}: {sleeps:?}");
        assert!(sleeps.iter().all(|pause| !pause.is_zero()), "{sleeps:?}");
        assert!(matches!(&err, Error::WaitTimeout { elapsed, .. } if *elapsed == secs(timeout)), "{err:?}");
    }
}

#[test]
fn invalid_options_are_refused_without_a_request() {
    let mut server = mockito::Server::new();
    let never = server.mock("GET", Matcher::Any).expect(0).create();
    let (client, clock) = client_with_clock(&server);
    let field = |options: WaitOptions<'static>| match client.wait_for_completion("job_1", options).unwrap_err() {
        Error::InvalidInput { field, .. } => field,
        other => panic!("not InvalidInput: {other:?}"),
    };
    assert_eq!(field(WaitOptions::default().interval(Duration::ZERO)), "interval");
    assert_eq!(field(WaitOptions::default().backoff(0.9, secs(5))), "backoff");
    assert_eq!(field(WaitOptions::default().backoff(f64::NAN, secs(5))), "backoff");
    assert_eq!(field(WaitOptions::default().backoff(f64::INFINITY, secs(5))), "backoff");
    never.assert();
    assert!(clock.sleeps().is_empty());
}
