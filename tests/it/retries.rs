//! Retries: which answers are retried for which calls, how often, and the pause schedule
//! (recorded by a ManualClock, so nothing really sleeps).

use crate::support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mockito::{Mock, ServerGuard};
use removebgvideo::clock::ManualClock;
use removebgvideo::models::CreateKey;
use removebgvideo::{AdminClient, Client, CreateJob, Error, RetryPolicy, StartJob};
use support::{client_with_clock, KEY, TOKEN};

const JOB: &str = r#"{"id":"j","status":"processing"}"#;
const SUBMITTED: &str = r#"{"success":true,"id":"j","status":"processing"}"#;

fn with_policy(server: &ServerGuard, policy: RetryPolicy) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = Client::builder(KEY).base_url(server.url()).clock(clock.clone()).retry_policy(policy).build().unwrap();
    (client, clock)
}

/// One answer that is given exactly `times` times, in creation order with the others.
fn answer(server: &mut ServerGuard, method: &str, path: &str, status: usize, times: usize) -> Mock {
    server
        .mock(method, path)
        .with_status(status)
        .with_body(r#"{"error":{"code":"x","message":"transient"}}"#)
        .expect(times)
        .create()
}

fn ok(server: &mut ServerGuard, method: &str, path: &str, body: &str) -> Mock {
    server.mock(method, path).with_status(200).with_body(body).expect(1).create()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn a_get_is_retried_after_a_503_and_succeeds() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/jobs/j", 503, 1);
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = client_with_clock(&server);
    let job = client.get_job("j").unwrap();
    assert_eq!(job.id, "j");
    failing.assert();
    success.assert();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    // The first backoff is the API's advice: between 1 s and 2 s.
    assert!(sleeps[0] >= secs(1.0) && sleeps[0] <= secs(2.0), "{sleeps:?}");
}

#[test]
fn every_retryable_status_is_retried_for_a_get() {
    for status in [408, 429, 500, 502, 503, 504] {
        let mut server = mockito::Server::new();
        let failing = answer(&mut server, "GET", "/v1/jobs/j", status, 1);
        let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
        let (client, clock) = client_with_clock(&server);
        client.get_job("j").unwrap_or_else(|err| panic!("{status}: {err}"));
        failing.assert();
        success.assert();
        assert_eq!(clock.sleeps().len(), 1, "{status}");
    }
}

#[test]
fn a_429_with_retry_after_seconds_waits_exactly_that_long() {
    let mut server = mockito::Server::new();
    let limited = server
        .mock("GET", "/v1/jobs/j")
        .with_status(429)
        .with_header("retry-after", "3")
        .with_body(r#"{"error":{"code":"rate_limited","message":"slow down"}}"#)
        .expect(1)
        .create();
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = client_with_clock(&server);
    client.get_job("j").unwrap();
    limited.assert();
    success.assert();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(3)]);
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `time`.
fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(month - 1) as usize];
    format!("{weekday}, {day:02} {month} {year} {:02}:{:02}:{:02} GMT", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[test]
fn the_http_date_helper_is_right() {
    assert_eq!(http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(UNIX_EPOCH + Duration::from_secs(951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT");
}

#[test]
fn retry_after_as_an_http_date_waits_until_that_date() {
    let mut server = mockito::Server::new();
    let date = http_date(SystemTime::now() + Duration::from_secs(10));
    let limited =
        server.mock("GET", "/v1/jobs/j").with_status(503).with_header("retry-after", &date).expect(1).create();
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = client_with_clock(&server);
    client.get_job("j").unwrap();
    limited.assert();
    success.assert();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    // The date has whole seconds, and some time passes before the answer is read.
    assert!(sleeps[0] > secs(7.0) && sleeps[0] <= secs(10.0), "{sleeps:?} for {date}");
}

#[test]
fn retry_after_as_a_past_date_retries_at_once() {
    let mut server = mockito::Server::new();
    let limited = server
        .mock("GET", "/v1/jobs/j")
        .with_status(503)
        .with_header("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")
        .expect(1)
        .create();
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = client_with_clock(&server);
    client.get_job("j").unwrap();
    limited.assert();
    success.assert();
    assert_eq!(clock.sleeps(), vec![Duration::ZERO]);
}

#[test]
fn an_unreadable_retry_after_falls_back_to_the_backoff() {
    let mut server = mockito::Server::new();
    server.mock("GET", "/v1/jobs/j").with_status(503).with_header("retry-after", "soon").expect(1).create();
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = client_with_clock(&server);
    client.get_job("j").unwrap();
    success.assert();
    let sleeps = clock.sleeps();
    assert!(sleeps.len() == 1 && sleeps[0] >= secs(1.0) && sleeps[0] <= secs(2.0), "{sleeps:?}");
}

#[test]
fn a_retry_after_above_the_cap_returns_the_error_at_once() {
    let mut server = mockito::Server::new();
    let limited = server
        .mock("GET", "/v1/jobs/j")
        .with_status(429)
        .with_header("retry-after", "120")
        .with_body(r#"{"error":{"code":"rate_limited","message":"come back later"}}"#)
        .expect(1)
        .create();
    let (client, clock) = client_with_clock(&server);
    let err = client.get_job("j").unwrap_err();
    limited.assert();
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_retryable());
}

#[test]
fn the_retry_after_cap_is_configurable() {
    let mut server = mockito::Server::new();
    let limited =
        server.mock("GET", "/v1/jobs/j").with_status(429).with_header("retry-after", "120").expect(1).create();
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(300));
    let (client, clock) = with_policy(&server, policy);
    client.get_job("j").unwrap();
    limited.assert();
    success.assert();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(120)]);
}

#[test]
fn max_retries_zero_sends_one_request() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/jobs/j", 503, 1);
    let never = ok(&mut server, "GET", "/v1/jobs/j", JOB).expect(0);
    let clock = ManualClock::new();
    let client = Client::builder(KEY).base_url(server.url()).clock(clock.clone()).max_retries(0).build().unwrap();
    let err = client.get_job("j").unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    failing.assert();
    never.assert();
    assert!(clock.sleeps().is_empty());
    assert_eq!(RetryPolicy::none().max_retries(), 0);
    assert_eq!(RetryPolicy::default().max_retries(), 2);
}

#[test]
fn by_default_a_get_is_tried_three_times_then_fails() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/jobs/j", 503, 3);
    let never = ok(&mut server, "GET", "/v1/jobs/j", JOB).expect(0);
    let (client, clock) = client_with_clock(&server);
    let err = client.get_job("j").unwrap_err();
    failing.assert();
    never.assert();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(api_message(&err), "transient");
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    assert!(sleeps[0] >= secs(1.0) && sleeps[0] <= secs(2.0), "{sleeps:?}");
    assert!(sleeps[1] >= secs(2.0) && sleeps[1] <= secs(4.0), "{sleeps:?}");
}

fn api_message(err: &Error) -> &str {
    err.api_error().map(removebgvideo::ApiError::message).unwrap_or_default()
}

#[test]
fn backoff_doubles_within_equal_jitter_bounds_up_to_the_max() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/jobs/j", 500, 8);
    let (client, clock) = with_policy(&server, RetryPolicy::default().with_max_retries(7));
    client.get_job("j").unwrap_err();
    failing.assert();
    let sleeps = clock.sleeps();
    // The API's advice: 1–2 s, 2–4 s, 4–8 s, then 8–16 s at most; each pause in the upper half
    // of its doubling step.
    let steps = [2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0];
    assert_eq!(sleeps.len(), steps.len(), "{sleeps:?}");
    for (pause, step) in sleeps.iter().zip(steps) {
        assert!(*pause >= secs(step / 2.0) && *pause <= secs(step), "{pause:?} for step {step}: {sleeps:?}");
        assert!(*pause >= secs(1.0) && *pause <= secs(16.0));
    }
}

#[test]
fn a_custom_backoff_is_followed() {
    let mut server = mockito::Server::new();
    answer(&mut server, "GET", "/v1/jobs/j", 502, 4);
    let policy = RetryPolicy::default()
        .with_max_retries(3)
        .with_initial_backoff(Duration::from_secs(2))
        .with_max_backoff(Duration::from_secs(3));
    let (client, clock) = with_policy(&server, policy);
    client.get_job("j").unwrap_err();
    let sleeps = clock.sleeps();
    let steps = [2.0, 3.0, 3.0];
    assert_eq!(sleeps.len(), 3, "{sleeps:?}");
    for (pause, step) in sleeps.iter().zip(steps) {
        assert!(*pause >= secs(step / 2.0) && *pause <= secs(step), "{sleeps:?}");
    }
}

#[test]
fn create_job_is_not_retried_after_a_5xx() {
    for status in [500, 502, 503, 504] {
        let mut server = mockito::Server::new();
        let failing = answer(&mut server, "POST", "/v1/jobs", status, 1);
        let never = ok(&mut server, "POST", "/v1/jobs", SUBMITTED).expect(0);
        let (client, clock) = client_with_clock(&server);
        let err = client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status as u16));
        failing.assert();
        never.assert();
        assert!(clock.sleeps().is_empty());
    }
}

#[test]
fn create_job_is_retried_after_a_429() {
    let mut server = mockito::Server::new();
    let limited = answer(&mut server, "POST", "/v1/jobs", 429, 1);
    let success = ok(&mut server, "POST", "/v1/jobs", SUBMITTED);
    let (client, clock) = client_with_clock(&server);
    client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap();
    limited.assert();
    success.assert();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn retry_non_idempotent_retries_a_post_after_a_5xx() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "POST", "/v1/jobs", 503, 1);
    let success = ok(&mut server, "POST", "/v1/jobs", SUBMITTED);
    let (client, clock) = with_policy(&server, RetryPolicy::default().with_retry_non_idempotent(true));
    client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap();
    failing.assert();
    success.assert();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn start_job_and_key_calls_are_not_retried_after_a_5xx() {
    let mut server = mockito::Server::new();
    let start = answer(&mut server, "POST", "/v1/jobs/j/start", 503, 1);
    let create_key = answer(&mut server, "POST", "/v1/admin/keys", 500, 1);
    let disable = answer(&mut server, "POST", "/v1/admin/keys/disable", 502, 1);
    let (client, clock) = client_with_clock(&server);
    let admin = AdminClient::builder(TOKEN).base_url(server.url()).clock(clock.clone()).build().unwrap();
    client.start_job("j", &StartJob::new()).unwrap_err();
    admin.create_key(&CreateKey::new("acme")).unwrap_err();
    admin.disable_key("fp").unwrap_err();
    start.assert();
    create_key.assert();
    disable.assert();
    assert!(clock.sleeps().is_empty());
}

#[test]
fn admin_reads_are_retried() {
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/admin/keys", 503, 1);
    let success = ok(&mut server, "GET", "/v1/admin/keys", r#"{"items":[]}"#);
    let clock = ManualClock::new();
    let admin = AdminClient::builder(TOKEN).base_url(server.url()).clock(clock.clone()).build().unwrap();
    admin.list_keys().unwrap();
    failing.assert();
    success.assert();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let mut server = mockito::Server::new();
        let get = answer(&mut server, "GET", "/v1/jobs/j", status, 1);
        let post = answer(&mut server, "POST", "/v1/jobs", status, 1);
        let (client, clock) = with_policy(&server, RetryPolicy::default().with_retry_non_idempotent(true));
        assert_eq!(client.get_job("j").unwrap_err().status().map(|s| s.as_u16()), Some(status as u16));
        client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err();
        get.assert();
        post.assert();
        assert!(clock.sleeps().is_empty(), "{status}");
    }
}

#[test]
fn a_refused_connection_is_retried_even_for_a_post() {
    // Nothing listens on port 1: the connect fails, so the server certainly did not act.
    let clock = ManualClock::new();
    let client = Client::builder(KEY).base_url("http://127.0.0.1:1").clock(clock.clone()).build().unwrap();
    let err = client.get_job("j").unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(clock.sleeps().len(), 2);
    let err = client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(clock.sleeps().len(), 4);
}

fn temp_video(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("in.mp4");
    std::fs::write(&path, b"VIDEO-BYTES-xyz").unwrap();
    path
}

#[test]
fn an_upload_is_sent_again_in_full_after_a_429_but_not_after_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_video(&dir);
    let mut server = mockito::Server::new();
    let has_bytes = mockito::Matcher::Regex("VIDEO-BYTES-xyz".to_owned());
    let limited = server.mock("POST", "/v1/uploads").match_body(has_bytes.clone()).with_status(429).expect(1).create();
    let success = server
        .mock("POST", "/v1/uploads")
        .match_body(has_bytes.clone())
        .with_body(r#"{"video_url":"https://s/u"}"#)
        .expect(1)
        .create();
    let (client, clock) = client_with_clock(&server);
    client.upload(&path).send().unwrap();
    limited.assert();
    success.assert();
    assert_eq!(clock.sleeps().len(), 1);

    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "POST", "/v1/uploads", 503, 1);
    let (client, clock) = client_with_clock(&server);
    client.upload(&path).send().unwrap_err();
    failing.assert();
    assert!(clock.sleeps().is_empty());
}

#[test]
fn an_upload_from_a_reader_is_never_retried() {
    let mut server = mockito::Server::new();
    let limited = answer(&mut server, "POST", "/v1/uploads", 429, 1);
    let never = ok(&mut server, "POST", "/v1/uploads", r#"{"video_url":"https://s/u"}"#).expect(0);
    let (client, clock) = client_with_clock(&server);
    let reader = std::io::Cursor::new(b"abc".to_vec());
    let err = client.upload_reader(reader, 3, "in.mp4").unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    limited.assert();
    never.assert();
    assert!(clock.sleeps().is_empty());
}

#[test]
fn the_shared_fast_retry_policy_pauses_at_most_2_ms() {
    // The helper's policy, its pauses recorded by a ManualClock instead of slept: what the
    // other tests really sleep, asserted without timing anything.
    let mut server = mockito::Server::new();
    let failing = answer(&mut server, "GET", "/v1/jobs/j", 500, 2);
    let success = ok(&mut server, "GET", "/v1/jobs/j", JOB);
    let (client, clock) = with_policy(&server, support::fast_retries());
    client.get_job("j").unwrap();
    failing.assert();
    success.assert();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    assert!(sleeps.iter().all(|pause| *pause <= Duration::from_millis(2)), "{sleeps:?}");
}

#[test]
fn max_retries_wins_over_the_policy_whichever_is_set_first() {
    for max_retries_first in [true, false] {
        let mut server = mockito::Server::new();
        let failing = answer(&mut server, "GET", "/v1/jobs/j", 503, 2);
        let policy = RetryPolicy::default().with_max_retries(7);
        let builder = Client::builder(KEY).base_url(server.url()).clock(ManualClock::new());
        let builder = if max_retries_first {
            builder.max_retries(1).retry_policy(policy)
        } else {
            builder.retry_policy(policy).max_retries(1)
        };
        builder.build().unwrap().get_job("j").unwrap_err();
        failing.assert();
    }
}
