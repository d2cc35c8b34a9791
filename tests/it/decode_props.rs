//! Property tests of answer decoding over real HTTP: whatever status and bytes a server sends,
//! every call returns a typed result and never panics.
//!
//! One stub server on 127.0.0.1 plays every case. A case (status, headers, body) is stored in a
//! shared table, and its index travels in the request itself (the job id of `get_job`, the
//! `offset` of `list_jobs`, an `X-Case` header on `usage_summary`), so every request finds its own
//! answer whatever order the tests run in, and one client serves them all (building a client
//! per case would cost more than the calls).

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use removebgvideo::client::RequestOptions;
use removebgvideo::models::{JobList, ListJobs, UsageSummary};
use removebgvideo::{Client, Error, Job, Model, OutputFormat};
use serde_json::{json, Map, Value};

use crate::support::wire::{Request, WireServer};

// ---------------------------------------------------------------------------------------------
// The stub server

#[derive(Debug, Clone)]
struct Case {
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// Whether the body is delimited by `Content-Length` or by closing the connection.
    with_length: bool,
}

struct Stub {
    server: WireServer,
    cases: Mutex<Vec<Case>>,
}

/// The one stub server of this test binary, started on first use. Its accept thread lives as
/// long as the process.
fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(|| Stub { server: WireServer::serve(answer), cases: Mutex::new(Vec::new()) })
}

/// Stores a case and returns its index.
fn add_case(case: Case) -> usize {
    let mut cases = stub().cases.lock().expect("cases");
    cases.push(case);
    cases.len() - 1
}

/// The one client, with no retries; the shared back-off after a 429 or a run of 5xx pauses on
/// a ManualClock, not for real.
fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder("sk_props")
            .base_url(stub().server.url())
            .clock(removebgvideo::clock::ManualClock::new())
            .max_retries(0)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    })
}

/// `get_job`, answered with case `n`.
fn get_job(n: usize) -> Result<Job, Error> {
    client().get_job(&format!("case{n}"))
}

/// `list_jobs`, answered with case `n`.
fn list_jobs(n: usize) -> Result<JobList, Error> {
    client().list_jobs(&ListJobs::new().offset(u32::try_from(n).expect("index")))
}

/// `usage_summary`, answered with case `n` (carried in a header: `days` is 1..=90).
fn usage_summary(n: usize) -> Result<UsageSummary, Error> {
    let client = client().with_options(RequestOptions::new().header("X-Case", n.to_string())).expect("options");
    client.usage_summary(7)
}

/// The case index a request carries (see [`get_job`], [`list_jobs`], [`usage_summary`]).
fn case_index(request: &Request) -> Option<usize> {
    let target = request.target();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse::<usize>().ok())
    };
    match path {
        "/v1/jobs" => param("offset"),
        "/v1/usage/summary" => request.header("x-case")?.parse().ok(),
        _ => path.strip_prefix("/v1/jobs/case")?.parse().ok(),
    }
}

fn answer(request: &Request, stream: &mut TcpStream) {
    let case = case_index(request).and_then(|index| stub().cases.lock().expect("cases").get(index).cloned());
    let Some(case) = case else {
        let _ = stream.write_all(b"HTTP/1.1 500 No Case\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let mut reply = format!("HTTP/1.1 {} Fuzzed\r\nConnection: close\r\n", case.status);
    if let Some(content_type) = case.content_type {
        reply.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    if case.with_length {
        reply.push_str(&format!("Content-Length: {}\r\n", case.body.len()));
    }
    reply.push_str("\r\n");
    let mut bytes = reply.into_bytes();
    bytes.extend_from_slice(&case.body);
    let _ = stream.write_all(&bytes).and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

// ---------------------------------------------------------------------------------------------
// What every answer must come to

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The property shared by every call: a 2xx is a value or a decode error carrying the status; any
/// other status (3xx without `Location` included: there is nothing to follow) is an API error
/// carrying that status. Never a transport error: the stub always answers properly.
fn check<T: std::fmt::Debug>(call: &str, status: u16, result: &Result<T, Error>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => prop_assert!((200..300).contains(&status), "{call}: Ok for status {status}"),
        Err(error @ Error::Decode { status: got, snippet, .. }) => {
            prop_assert!((200..300).contains(&status), "{call}: {error:?} for status {status}");
            prop_assert_eq!(got.as_u16(), status);
            prop_assert!(snippet.chars().count() <= 300);
            prop_assert!(!error.is_retryable());
        }
        Err(Error::Api(api)) => {
            prop_assert!(!(200..300).contains(&status), "{call}: API error for status {status}");
            prop_assert_eq!(api.status().as_u16(), status);
            prop_assert!(!api.message().is_empty());
            prop_assert!(api.body_snippet().chars().count() <= 300);
            prop_assert_eq!(api.is_retryable(), is_retryable_status(status));
            // Display must work for any body.
            prop_assert!(api.to_string().contains(&status.to_string()));
        }
        Err(other) => prop_assert!(false, "{call}: unexpected error for status {status}: {other:?}"),
    }
    Ok(())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![4 => 200u16..300, 1 => 300u16..400, 4 => 400u16..600]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(proptest::sample::select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=bogus",
        "text/html",
        "text/plain; charset=iso-8859-1",
        "application/octet-stream",
    ]))
}

/// Arbitrary bytes, and bodies that are almost what the API sends.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        ".{0,200}".prop_map(String::into_bytes),
        Just(br#"{"id":"j","status":"processing""#.to_vec()),
        Just(br#"{"id":"j","status":"processing","progress":"12.5"}"#.to_vec()),
        Just(br#"{"error":{"code":"x","message":"m","request_id":"r"}}"#.to_vec()),
        Just(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
        Just(b"null".to_vec()),
        Just(b"[]".to_vec()),
        Just(b"{}".to_vec()),
        Just(b" \r\n ".to_vec()),
        Just("\u{feff}{}".as_bytes().to_vec()),
    ]
}

// ---------------------------------------------------------------------------------------------
// JSON-shaped fuzz: job-like objects, with an oracle of what must decode

/// A JSON leaf of any type.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

/// A JSON value up to two levels deep.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `None` for an absent field, else the field's value: plausible values more often than not.
fn field(plausible: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![2 => Just(None), 5 => plausible.prop_map(Some), 2 => value().prop_map(Some)]
}

fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![4 => proptest::sample::select(values).prop_map(Value::from), 1 => "[a-z_]{1,10}".prop_map(Value::from)]
}

#[derive(Debug, Clone)]
struct JobLike {
    fields: Vec<(&'static str, Option<Value>)>,
    extra: Map<String, Value>,
}

impl JobLike {
    fn to_value(&self) -> Value {
        let mut object = self.extra.clone();
        for (name, value) in &self.fields {
            if let Some(value) = value {
                object.insert((*name).to_owned(), value.clone());
            }
        }
        Value::Object(object)
    }
}

fn job_like() -> impl Strategy<Value = JobLike> {
    let id = || prop_oneof!["job_[0-9a-z]{1,8}".prop_map(Value::from), any::<u32>().prop_map(Value::from)];
    (
        (
            field(id()),
            field(id()),
            field(one_of(&["pending", "processing", "completed", "failed"])),
            field(prop_oneof![
                (0.0f64..=100.0).prop_map(Value::from),
                (0u8..=100).prop_map(|p| Value::from(p.to_string())),
                Just(Value::from(" 42.5 ")),
            ]),
        ),
        (
            field("https://cdn\\.example\\.com/[a-z]{1,8}\\.webm".prop_map(Value::from)),
            field(prop_oneof![
                ".{0,20}".prop_map(Value::from),
                ".{0,20}".prop_map(|m| json!({"message": m})),
                Just(json!({"code": 7}))
            ]),
            field(one_of(&["original", "light", "pro", "human"])),
            field(one_of(&["transparent", "green", "white", "black", "blue", "custom"])),
            field(one_of(&["webm", "mov", "mp4", "gif", "webp", "png_sequence"])),
        ),
        proptest::collection::btree_map("x_[a-z]{1,6}", value(), 0..4),
    )
        .prop_map(|((id, job_id, status, progress), (output_url, error, model, bg_type, output_format), extra)| {
            JobLike {
                fields: vec![
                    ("id", id),
                    ("job_id", job_id),
                    ("status", status),
                    ("progress", progress),
                    ("output_url", output_url),
                    ("error", error),
                    ("model", model),
                    ("bg_type", bg_type),
                    ("output_format", output_format),
                ],
                extra: extra.into_iter().collect(),
            }
        })
}

/// What the crate documents for a job: ids as text or numbers (`id` first, then `job_id`),
/// a required string `status`, progress as a number or numeric text (anything else reads as
/// absent), errors as text or an object's `message`, strict optional strings elsewhere.
#[derive(Debug, PartialEq)]
struct Expected {
    id: String,
    status: String,
    progress: Option<f64>,
    output_url: Option<String>,
    error: Option<String>,
    model: Option<String>,
    bg_type: Option<String>,
    output_format: Option<String>,
}

fn lenient_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An optional strictly-typed string: `Err` when present with another type.
fn strict_text(value: Option<&Value>) -> Result<Option<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(()),
    }
}

/// `job` is the object as serde_json reads it back from the bytes sent, so float fields compare
/// with what any serde_json reader gets (see `unnamed_float_fields_are_kept_exactly_as_sent`).
fn oracle(job: &Value) -> Option<Expected> {
    let job = job.as_object()?;
    let id = lenient_id(job.get("id")).or_else(|| lenient_id(job.get("job_id")))?;
    let status = match job.get("status") {
        Some(Value::String(status)) => status.clone(),
        _ => return None,
    };
    let progress = match job.get("progress") {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    };
    let error = match job.get("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Object(object)) => match object.get("message") {
            Some(Value::String(message)) => Some(message.clone()),
            _ => Some(Value::Object(object.clone()).to_string()),
        },
        Some(other) => Some(other.to_string()),
    };
    Some(Expected {
        id,
        status,
        progress,
        output_url: strict_text(job.get("output_url")).ok()?,
        error,
        model: strict_text(job.get("model")).ok()?,
        bg_type: strict_text(job.get("bg_type")).ok()?,
        output_format: strict_text(job.get("output_format")).ok()?,
    })
}

fn same_progress(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (a.is_nan() && b.is_nan()),
        (a, b) => a == b,
    }
}

fn ok_json(body: &Value) -> Case {
    Case {
        status: 200,
        content_type: Some("application/json"),
        body: serde_json::to_vec(body).expect("json"),
        with_length: true,
    }
}

/// The value a serde_json reader gets back from the bytes of `case`.
fn read_back(case: &Case) -> Value {
    serde_json::from_slice(&case.body).expect("the case is JSON")
}

fn assert_job(got: &Job, expected: &Expected, sent: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(&got.id, &expected.id);
    prop_assert_eq!(got.status.as_str(), expected.status.as_str());
    prop_assert!(same_progress(got.progress, expected.progress), "{:?} vs {:?}", got.progress, expected.progress);
    prop_assert_eq!(&got.output_url, &expected.output_url);
    prop_assert_eq!(&got.error, &expected.error);
    prop_assert_eq!(got.model.as_ref().map(Model::as_str), expected.model.as_deref());
    prop_assert_eq!(got.bg_type.as_ref().map(|b| b.as_str().to_owned()), expected.bg_type.clone());
    prop_assert_eq!(got.output_format.as_ref().map(OutputFormat::as_str), expected.output_format.as_deref());
    for (name, value) in sent.as_object().into_iter().flatten().filter(|(name, _)| name.starts_with("x_")) {
        prop_assert_eq!(got.extra.get(name), Some(value), "extra field {}", name);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(crate::support::props(128, "proptest-regressions/it/decode_props.txt"))]

    #[test]
    fn any_status_and_body_gives_a_typed_result(
        status in status(),
        content_type in content_type(),
        body in body(),
        with_length in any::<bool>(),
    ) {
        let n = add_case(Case { status, content_type, body, with_length });
        check("get_job", status, &get_job(n))?;
        check("list_jobs", status, &list_jobs(n))?;
        check("usage_summary", status, &usage_summary(n))?;
    }

    #[test]
    fn a_structured_error_body_gives_its_code_message_and_request_id(
        status in 400u16..600,
        code in "[a-z_]{1,20}",
        message in ".{1,80}",
        request_id in "req_[0-9a-f]{1,16}",
    ) {
        let body = json!({"error": {"code": code, "message": message, "request_id": request_id}});
        let error = get_job(add_case(Case { status, ..ok_json(&body) })).unwrap_err();
        let api = error.api_error().expect("an API error");
        prop_assert_eq!(api.status().as_u16(), status);
        prop_assert_eq!(api.code_str(), Some(code.as_str()));
        // A message that could quote a URL's query or a `name=value` credential is redacted
        // (see tests/secret_props.rs); any other is kept as sent.
        if message.contains(['?', '#', '=', ':']) {
            prop_assert!(!api.message().is_empty());
        } else {
            prop_assert_eq!(api.message(), message.as_str());
        }
        prop_assert_eq!(api.request_id(), Some(request_id.as_str()));
    }

    #[test]
    fn a_job_like_object_decodes_exactly_as_documented(job in job_like()) {
        let case = ok_json(&job.to_value());
        let sent = read_back(&case);
        let result = get_job(add_case(case));
        check("get_job", 200, &result)?;
        match (oracle(&sent), result) {
            (Some(expected), Ok(got)) => assert_job(&got, &expected, &sent)?,
            (None, Err(Error::Decode { .. })) => {}
            (expected, got) => prop_assert!(false, "body {sent}\nexpected {expected:?}\ngot {got:?}"),
        }
    }

    #[test]
    fn a_list_decodes_when_every_row_does(rows in proptest::collection::vec(job_like(), 0..4)) {
        let case = ok_json(&json!({"items": rows.iter().map(JobLike::to_value).collect::<Vec<_>>(), "total": rows.len()}));
        let sent = read_back(&case);
        let result = list_jobs(add_case(case));
        check("list_jobs", 200, &result)?;
        let sent_rows = sent["items"].as_array().expect("items");
        let expected: Option<Vec<Expected>> = sent_rows.iter().map(oracle).collect();
        match (expected, result) {
            (Some(expected), Ok(page)) => {
                prop_assert_eq!(page.items.len(), expected.len());
                for ((got, want), row) in page.items.iter().zip(&expected).zip(sent_rows) {
                    assert_job(got, want, row)?;
                }
                prop_assert_eq!(page.extra.get("total"), Some(&json!(rows.len())));
            }
            (None, Err(Error::Decode { .. })) => {}
            (expected, got) => prop_assert!(false, "body {sent}\nexpected {expected:?}\ngot {got:?}"),
        }
    }

    #[test]
    fn any_json_object_is_a_usage_summary_and_nothing_else_is(body in value()) {
        let case = ok_json(&body);
        let sent = read_back(&case);
        let result = usage_summary(add_case(case));
        check("usage_summary", 200, &result)?;
        match (&sent, result) {
            (Value::Object(fields), Ok(summary)) => {
                // The named totals move to their fields; everything else stays in `extra`.
                let mut rest = fields.clone();
                for named in ["total_jobs", "credits_used", "completed_jobs"] {
                    rest.remove(named);
                }
                prop_assert_eq!(&summary.extra, &rest);
            }
            (Value::Object(_), Err(error)) => prop_assert!(false, "an object was refused: {error:?}"),
            (_, Ok(summary)) => prop_assert!(false, "{sent} decoded as {summary:?}"),
            (_, Err(_)) => {}
        }
    }
}

/// The soak run (`cargo test -- --ignored`): the properties above again, each round with
/// fresh random cases.
#[test]
#[ignore = "soak run: cargo test -- --ignored"]
fn soak() {
    for _ in 0..crate::support::SOAK_ROUNDS {
        any_status_and_body_gives_a_typed_result();
        a_structured_error_body_gives_its_code_message_and_request_id();
        a_job_like_object_decodes_exactly_as_documented();
        a_list_decodes_when_every_row_does();
        any_json_object_is_a_usage_summary_and_nothing_else_is();
    }
}

/// A redirect with nowhere to go is the answer itself, not a transport error.
#[test]
fn a_3xx_without_a_location_is_an_api_error_with_that_status() {
    for status in [300, 301, 302, 303, 307, 308] {
        let body = json!({"error": {"code": "moved", "message": "elsewhere"}});
        let error = get_job(add_case(Case { status, ..ok_json(&body) })).unwrap_err();
        let api = error.api_error().unwrap_or_else(|| panic!("{status}: {error:?}"));
        assert_eq!(api.status().as_u16(), status);
        assert_eq!(api.code_str(), Some("moved"));
        assert!(!error.is_retryable());
    }
}

/// Found by `a_job_like_object_decodes_exactly_as_documented`: serde_json's default float parser
/// may be one unit in the last place off (it trades exactness for speed unless its
/// `float_roundtrip` feature is on), so a float the server sent comes back as a different
/// number in `Job::extra`, `Job::progress` and every `fields` map, which promise the answer's
/// fields "as sent".
#[test]
fn unnamed_float_fields_are_kept_exactly_as_sent() {
    let text = "199588372086.35562";
    let sent: f64 = text.parse().expect("f64");
    let body = format!(r#"{{"id":"j","status":"processing","progress":{text},"x_eta":{text}}}"#);
    let case = Case { body: body.into_bytes(), ..ok_json(&Value::Null) };
    let job = get_job(add_case(case)).expect("decodes");
    assert_eq!(job.extra.get("x_eta").and_then(Value::as_f64), Some(sent), "extra field");
    assert_eq!(job.progress, Some(sent), "progress");
}
