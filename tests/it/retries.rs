//! Retries: which answers are retried for which calls, how often, and the pause schedule
//! (recorded by a ManualClock, so nothing really sleeps). One table: each row is a run of
//! answers, a call, and what must come of it.

use crate::support;

use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mockito::ServerGuard;
use removebgvideo::clock::ManualClock;
use removebgvideo::models::CreateKey;
use removebgvideo::{AdminClient, Client, CreateJob, Error, RetryPolicy, StartJob};
use support::{KEY, TOKEN};

const JOB: &str = r#"{"id":"j","status":"processing"}"#;
const SUBMITTED: &str = r#"{"success":true,"id":"j","status":"processing"}"#;
const UPLOADED: &str = r#"{"video_url":"https://s/u"}"#;
const KEYS: &str = r#"{"items":[]}"#;
const VIDEO_BYTES: &str = "VIDEO-BYTES-xyz";

/// One answer of the mock server, given exactly `times` times, in order with the others.
#[derive(Clone)]
struct Answer {
    method: &'static str,
    path: &'static str,
    status: usize,
    retry_after: Option<String>,
    /// A `Retry-After` date this many seconds after the answer is set up.
    retry_after_date_in: Option<u64>,
    body: &'static str,
    /// The request body must contain this.
    body_has: Option<&'static str>,
    times: usize,
}

/// A failure answer, given once.
fn fail(method: &'static str, path: &'static str, status: usize) -> Answer {
    let body = r#"{"error":{"code":"x","message":"transient"}}"#;
    Answer { method, path, status, retry_after: None, retry_after_date_in: None, body, body_has: None, times: 1 }
}

/// A success answer, given once.
fn ok(method: &'static str, path: &'static str, body: &'static str) -> Answer {
    Answer { method, path, status: 200, retry_after: None, retry_after_date_in: None, body, body_has: None, times: 1 }
}

impl Answer {
    fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    fn retry_after_date_in(mut self, seconds: u64) -> Self {
        self.retry_after_date_in = Some(seconds);
        self
    }

    fn body_has(mut self, needle: &'static str) -> Self {
        self.body_has = Some(needle);
        self
    }
}

/// The call a row makes.
#[derive(Clone, Copy, Debug)]
enum Call {
    GetJob,
    CreateJob,
    StartJob,
    CreateKey,
    DisableKey,
    ListKeys,
    /// An upload from a file, which can be sent again.
    Upload,
    /// An upload from a reader, which cannot.
    UploadReader,
}

/// The pauses a row must record, in order.
#[derive(Clone)]
enum Pauses {
    /// Exactly these.
    Exactly(Vec<Duration>),
    /// One pause inside each range (seconds).
    Within(Vec<RangeInclusive<f64>>),
    /// This many, of any length.
    Count(usize),
}

struct Row {
    name: String,
    policy: RetryPolicy,
    /// Set through the builder's `max_retries` instead of the policy.
    max_retries: Option<u32>,
    answers: Vec<Answer>,
    call: Call,
    /// `Ok`, or the status of the error.
    outcome: Result<(), u16>,
    pauses: Pauses,
    /// More to check of the error.
    error: Option<fn(&Error)>,
}

fn row(name: impl Into<String>, call: Call, answers: Vec<Answer>, outcome: Result<(), u16>, pauses: Pauses) -> Row {
    Row {
        name: name.into(),
        policy: RetryPolicy::default(),
        max_retries: None,
        answers,
        call,
        outcome,
        pauses,
        error: None,
    }
}

/// What a row is about; one test each, so that each stays short.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Concern {
    /// How long the pauses are: Retry-After and the backoff schedule.
    Pauses,
    /// Whether a read is retried.
    Reads,
    /// Whether a write (a creation, a start, a key change, an upload) is retried.
    Writes,
}

impl Row {
    fn concern(&self) -> Concern {
        let advised = self.answers.iter().any(|a| a.retry_after.is_some() || a.retry_after_date_in.is_some());
        if advised || matches!(self.pauses, Pauses::Within(_)) {
            Concern::Pauses
        } else if matches!(self.call, Call::GetJob | Call::ListKeys) {
            Concern::Reads
        } else {
            Concern::Writes
        }
    }

    fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    fn error(mut self, check: fn(&Error)) -> Self {
        self.error = Some(check);
        self
    }

    fn run(&self, video: &std::path::Path) {
        let name = &self.name;
        let mut server = mockito::Server::new();
        let clock = ManualClock::new();
        let mut builder =
            Client::builder(KEY).base_url(server.url()).clock(clock.clone()).retry_policy(self.policy.clone());
        if let Some(max_retries) = self.max_retries {
            builder = builder.max_retries(max_retries);
        }
        let client = builder.build().unwrap();
        let url = server.url();
        let admin = || {
            let builder = AdminClient::builder(TOKEN).base_url(&url).clock(clock.clone());
            builder.retry_policy(self.policy.clone()).build().unwrap()
        };
        // The answers last, just before the call: a Retry-After date counts from here.
        let mocks: Vec<_> = self.answers.iter().map(|answer| mock(&mut server, answer)).collect();
        let result: Result<(), Error> = match self.call {
            Call::GetJob => client.get_job("j").map(drop),
            Call::CreateJob => client.create_job(&CreateJob::new("https://x/y.mp4")).map(drop),
            Call::StartJob => client.start_job("j", &StartJob::new()).map(drop),
            Call::CreateKey => admin().create_key(&CreateKey::new("acme")).map(drop),
            Call::DisableKey => admin().disable_key("fp").map(drop),
            Call::ListKeys => admin().list_keys().map(drop),
            Call::Upload => client.upload(video).send().map(drop),
            Call::UploadReader => client.upload_reader(std::io::Cursor::new(b"abc".to_vec()), 3, "in.mp4").map(drop),
        };
        match (&result, self.outcome) {
            (Ok(()), Ok(())) => {}
            (Err(error), Err(status)) => {
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{name}: {error:?}");
                if let Some(check) = self.error {
                    check(error);
                }
            }
            (result, expected) => panic!("{name}: {result:?}, expected {expected:?}"),
        }
        for (mock, answer) in mocks.iter().zip(&self.answers) {
            assert!(
                mock.matched(),
                "{name}: {} {} {} was not asked for {} time(s)",
                answer.method,
                answer.path,
                answer.status,
                answer.times
            );
        }
        let sleeps = clock.sleeps();
        match &self.pauses {
            Pauses::Exactly(expected) => assert_eq!(&sleeps, expected, "{name}"),
            Pauses::Count(count) => assert_eq!(sleeps.len(), *count, "{name}: {sleeps:?}"),
            Pauses::Within(ranges) => {
                assert_eq!(sleeps.len(), ranges.len(), "{name}: {sleeps:?}");
                for (pause, range) in sleeps.iter().zip(ranges) {
                    let (low, high) = (secs(*range.start()), secs(*range.end()));
                    assert!(*pause >= low && *pause <= high, "{name}: {pause:?} outside {range:?}: {sleeps:?}");
                }
            }
        }
    }
}

fn mock(server: &mut ServerGuard, answer: &Answer) -> mockito::Mock {
    let mut mock = server.mock(answer.method, answer.path).with_status(answer.status).with_body(answer.body);
    if let Some(value) = &answer.retry_after {
        mock = mock.with_header("retry-after", value);
    }
    if let Some(seconds) = answer.retry_after_date_in {
        mock = mock.with_header("retry-after", &http_date(SystemTime::now() + Duration::from_secs(seconds)));
    }
    if let Some(needle) = answer.body_has {
        mock = mock.match_body(mockito::Matcher::Regex(needle.to_owned()));
    }
    mock.expect(answer.times).create()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn api_message(err: &Error) -> &str {
    err.api_error().map(removebgvideo::ApiError::message).unwrap_or_default()
}

fn rows() -> Vec<Row> {
    use Call::*;
    use Pauses::*;
    let get = |status| fail("GET", "/v1/jobs/j", status);
    let job = || ok("GET", "/v1/jobs/j", JOB);
    let create = |status| fail("POST", "/v1/jobs", status);
    let submitted = || ok("POST", "/v1/jobs", SUBMITTED);
    let mut rows = vec![
        // The first backoff is the API's advice: between 1 s and 2 s.
        row("a GET is retried after a 503", GetJob, vec![get(503), job()], Ok(()), Within(vec![1.0..=2.0])),
        row(
            "a 429's Retry-After in seconds is waited exactly",
            GetJob,
            vec![get(429).retry_after("3"), job()],
            Ok(()),
            Exactly(vec![Duration::from_secs(3)]),
        ),
        // The date has whole seconds, and some time passes before the answer is read: more
        // than 7 s, at most 10 s.
        row(
            "a Retry-After date is waited until",
            GetJob,
            vec![get(503).retry_after_date_in(10), job()],
            Ok(()),
            Within(vec![7.000_000_001..=10.0]),
        ),
        row(
            "a past Retry-After date retries at once",
            GetJob,
            vec![get(503).retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), job()],
            Ok(()),
            Exactly(vec![Duration::ZERO]),
        ),
        row(
            "an unreadable Retry-After falls back to the backoff",
            GetJob,
            vec![get(503).retry_after("soon"), job()],
            Ok(()),
            Within(vec![1.0..=2.0]),
        ),
        row(
            "a Retry-After above the cap returns the error at once",
            GetJob,
            vec![get(429).retry_after("120")],
            Err(429),
            Exactly(vec![]),
        )
        .error(|err| {
            assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
            assert!(err.is_retryable());
        }),
        row(
            "the Retry-After cap is configurable",
            GetJob,
            vec![get(429).retry_after("120"), job()],
            Ok(()),
            Exactly(vec![Duration::from_secs(120)]),
        )
        .policy(RetryPolicy::default().with_max_retry_after(Duration::from_secs(300))),
        row("max_retries(0) sends one request", GetJob, vec![get(503), job().times(0)], Err(503), Exactly(vec![]))
            .max_retries(0),
        row(
            "by default a GET is tried three times",
            GetJob,
            vec![get(503).times(3), job().times(0)],
            Err(503),
            Within(vec![1.0..=2.0, 2.0..=4.0]),
        )
        .error(|err| assert_eq!(api_message(err), "transient")),
        // The API's advice: 1–2 s, 2–4 s, 4–8 s, then 8–16 s at most; each pause in the upper
        // half of its doubling step.
        row(
            "the backoff doubles up to the max",
            GetJob,
            vec![get(500).times(8)],
            Err(500),
            Within(vec![1.0..=2.0, 2.0..=4.0, 4.0..=8.0, 8.0..=16.0, 8.0..=16.0, 8.0..=16.0, 8.0..=16.0]),
        )
        .policy(RetryPolicy::default().with_max_retries(7)),
        row(
            "a custom backoff is followed",
            GetJob,
            vec![get(502).times(4)],
            Err(502),
            Within(vec![1.0..=2.0, 1.5..=3.0, 1.5..=3.0]),
        )
        .policy(
            RetryPolicy::default()
                .with_max_retries(3)
                .with_initial_backoff(Duration::from_secs(2))
                .with_max_backoff(Duration::from_secs(3)),
        ),
        row("a job creation is retried after a 429", CreateJob, vec![create(429), submitted()], Ok(()), Count(1)),
        row(
            "retry_non_idempotent retries a creation after a 5xx",
            CreateJob,
            vec![create(503), submitted()],
            Ok(()),
            Count(1),
        )
        .policy(RetryPolicy::default().with_retry_non_idempotent(true)),
        row(
            "a start is not retried after a 5xx",
            StartJob,
            vec![fail("POST", "/v1/jobs/j/start", 503)],
            Err(503),
            Exactly(vec![]),
        ),
        row(
            "a key creation is not retried after a 5xx",
            CreateKey,
            vec![fail("POST", "/v1/admin/keys", 500)],
            Err(500),
            Exactly(vec![]),
        ),
        row(
            "a key disabling is not retried after a 5xx",
            DisableKey,
            vec![fail("POST", "/v1/admin/keys/disable", 502)],
            Err(502),
            Exactly(vec![]),
        ),
        row(
            "admin reads are retried",
            ListKeys,
            vec![fail("GET", "/v1/admin/keys", 503), ok("GET", "/v1/admin/keys", KEYS)],
            Ok(()),
            Count(1),
        ),
        row(
            "an upload from a file is sent again in full after a 429",
            Upload,
            vec![
                fail("POST", "/v1/uploads", 429).body_has(VIDEO_BYTES),
                ok("POST", "/v1/uploads", UPLOADED).body_has(VIDEO_BYTES),
            ],
            Ok(()),
            Count(1),
        ),
        row(
            "an upload from a file is not sent again after a 5xx",
            Upload,
            vec![fail("POST", "/v1/uploads", 503)],
            Err(503),
            Exactly(vec![]),
        ),
        row(
            "an upload from a reader is never retried",
            UploadReader,
            vec![fail("POST", "/v1/uploads", 429), ok("POST", "/v1/uploads", UPLOADED).times(0)],
            Err(429),
            Exactly(vec![]),
        ),
        // The helper's policy, its pauses recorded instead of slept: what the other tests
        // really sleep, asserted without timing anything.
        row(
            "the shared fast retry policy pauses at most 2 ms",
            GetJob,
            vec![get(500).times(2), job()],
            Ok(()),
            Within(vec![0.0..=0.002, 0.0..=0.002]),
        )
        .policy(support::fast_retries()),
    ];
    for status in [408, 429, 500, 502, 503, 504] {
        rows.push(row(
            format!("a GET is retried after a {status}"),
            GetJob,
            vec![get(status), job()],
            Ok(()),
            Count(1),
        ));
    }
    for status in [500, 502, 503, 504] {
        rows.push(row(
            format!("a job creation is not retried after a {status}"),
            CreateJob,
            vec![create(status), submitted().times(0)],
            Err(status as u16),
            Exactly(vec![]),
        ));
    }
    for status in [400, 401, 403, 404, 409, 422] {
        let policy = RetryPolicy::default().with_retry_non_idempotent(true);
        for (call, answer) in [(GetJob, get(status)), (CreateJob, create(status))] {
            rows.push(
                row(
                    format!("a {status} is never retried ({call:?})"),
                    call,
                    vec![answer],
                    Err(status as u16),
                    Exactly(vec![]),
                )
                .policy(policy.clone()),
            );
        }
    }
    rows
}

/// Runs the table's rows about `concern`, each on its own thread: a failing row's panic
/// (which names it) ends its thread only, and the test then lists every failed row.
fn run_rows(concern: Concern) {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("in.mp4");
    std::fs::write(&video, VIDEO_BYTES).unwrap();
    let rows: Vec<Row> = rows().into_iter().filter(|row| row.concern() == concern).collect();
    assert!(!rows.is_empty());
    let failed: Vec<&str> = std::thread::scope(|scope| {
        let runs: Vec<_> = rows.iter().map(|row| (row, scope.spawn(|| row.run(&video)))).collect();
        runs.into_iter().filter_map(|(row, run)| run.join().is_err().then_some(row.name.as_str())).collect()
    });
    assert!(failed.is_empty(), "{} of {} rows failed (their messages above): {failed:#?}", failed.len(), rows.len());
}

#[test]
fn pauses_follow_the_advice_and_the_backoff_as_the_table_says() {
    run_rows(Concern::Pauses);
}

#[test]
fn reads_are_retried_as_the_table_says() {
    run_rows(Concern::Reads);
}

#[test]
fn writes_are_retried_only_where_the_table_says() {
    run_rows(Concern::Writes);
}

#[test]
fn the_policies_say_how_many_retries_they_allow() {
    assert_eq!(RetryPolicy::none().max_retries(), 0);
    assert_eq!(RetryPolicy::default().max_retries(), 2);
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

#[test]
fn max_retries_wins_over_the_policy_whichever_is_set_first() {
    for max_retries_first in [true, false] {
        let mut server = mockito::Server::new();
        let failing = mock(&mut server, &fail("GET", "/v1/jobs/j", 503).times(2));
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
