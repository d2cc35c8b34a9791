//! Error mapping: API answers to `Error`, what errors print, and input refused before sending.

use crate::support;

use mockito::{Matcher, Mock, ServerGuard};
use removebgvideo::client::{ADMIN_TOKEN_ENV, API_KEY_ENV};
use removebgvideo::clock::ManualClock;
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::{AdminClient, Client, CreateJob, Error, StartJob, WaitOptions};
use serde_json::json;
use support::{admin, client, KEY, TOKEN};

/// A client that never retries, whose shared back-off (closed by a 429 or a run of 5xx) passes
/// on a manual clock: the next call waits for nothing real.
fn no_retries(server: &ServerGuard) -> Client {
    Client::builder(KEY).base_url(server.url()).max_retries(0).clock(ManualClock::new()).build().unwrap()
}

fn api_error(err: &Error) -> &removebgvideo::ApiError {
    err.api_error().unwrap_or_else(|| panic!("not an API error: {err:?}"))
}

/// Every text an error shows: Display, Debug, and the chain of sources.
fn all_text(err: &Error) -> String {
    let mut text = format!("{err} {err:?} {err:#?}");
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(&format!(" {inner} {inner:?}"));
        source = inner.source();
    }
    text
}

fn assert_no_secret(err: &Error) {
    let text = all_text(err);
    assert!(!text.contains(KEY), "the API key leaked: {text}");
    assert!(!text.contains(TOKEN), "the admin token leaked: {text}");
    assert!(!text.contains("LEAKCHECK"), "a credential leaked: {text}");
}

/// Catches every request; `.expect(0)` proves none was sent.
fn nothing_sent(server: &mut ServerGuard) -> Vec<Mock> {
    ["GET", "POST"].iter().map(|method| server.mock(method, Matcher::Any).expect(0).create()).collect()
}

#[test]
fn a_structured_error_gives_status_code_message_and_request_id() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/v1/jobs/nope")
        .with_status(404)
        .with_header("content-type", "application/json")
        .with_header("x-request-id", "req_from_header")
        .with_body(r#"{"error":{"code":"job_not_found","message":"No job nope","request_id":"req_123"}}"#)
        .expect(1)
        .create();
    let err = client(&server).get_job("nope").unwrap_err();
    mock.assert();
    let api = api_error(&err);
    assert_eq!(api.status(), 404);
    assert_eq!(api.code_str(), Some("job_not_found"));
    assert_eq!(api.message(), "No job nope");
    // The body's request id wins over the header's.
    assert_eq!(api.request_id(), Some("req_123"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.request_id(), Some("req_123"));
    let text = err.to_string();
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("job_not_found"), "{text}");
    assert!(text.contains("No job nope"), "{text}");
    assert!(text.contains("req_123"), "{text}");
    assert!(!err.is_retryable());
}

#[test]
fn a_message_only_error_gives_its_message() {
    let mut server = mockito::Server::new();
    server
        .mock("POST", "/v1/jobs")
        .with_status(402)
        .with_body(r#"{"message":"Insufficient credits"}"#)
        .expect(1)
        .create();
    let err = client(&server).create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.status(), 402);
    assert_eq!(api.message(), "Insufficient credits");
    assert_eq!(api.code(), None);
    assert_eq!(api.request_id(), None);
}

#[test]
fn the_request_id_can_come_from_the_header_alone() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/v1/jobs/j")
        .with_status(401)
        .with_header("X-Request-Id", "req_hdr_9")
        .with_body(r#"{"error":{"code":"unauthorized","message":"Invalid API key"}}"#)
        .expect(1)
        .create();
    let err = client(&server).get_job("j").unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.request_id(), Some("req_hdr_9"));
    assert_eq!(api.code_str(), Some("unauthorized"));
    assert_eq!(api.message(), "Invalid API key");
    assert_no_secret(&err);
}

#[test]
fn an_html_page_from_a_proxy_is_an_api_error_saying_non_json() {
    let mut server = mockito::Server::new();
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";
    server
        .mock("GET", "/v1/jobs/j")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(page)
        .expect(1)
        .create();
    let err = no_retries(&server).get_job("j").unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.status(), 502);
    assert!(api.message().to_lowercase().contains("non-json"), "{}", api.message());
    // The page's title, not the page.
    assert!(api.message().contains("\"502 Bad Gateway\""), "{}", api.message());
    assert!(!api.message().contains("<html>"), "{}", api.message());
    assert_eq!(api.body_snippet(), page);
    assert!(err.is_retryable());
}

#[test]
fn a_long_body_is_cut_to_a_snippet_of_300_characters() {
    let mut server = mockito::Server::new();
    let page = format!("<html>{}</html>", "é".repeat(1000));
    server.mock("GET", "/v1/jobs/j").with_status(500).with_body(&page).create();
    let err = no_retries(&server).get_job("j").unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.body_snippet().chars().count(), 300);
    assert!(page.starts_with(api.body_snippet()));
}

#[test]
fn an_empty_error_body_still_gives_the_status() {
    let mut server = mockito::Server::new();
    server.mock("GET", "/v1/jobs/j").with_status(503).with_body("").expect(1).create();
    let err = no_retries(&server).get_job("j").unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.status(), 503);
    assert!(api.message().contains("empty"), "{}", api.message());
    assert_eq!(api.body_snippet(), "");
    assert!(err.is_retryable());
}

#[test]
fn a_2xx_answer_with_invalid_json_is_a_decode_error() {
    let mut server = mockito::Server::new();
    server.mock("GET", "/v1/jobs/j").with_status(200).with_body("<html>OK</html>").expect(1).create();
    let err = client(&server).get_job("j").unwrap_err();
    match &err {
        Error::Decode { status, snippet, .. } => {
            assert_eq!(*status, 200);
            assert_eq!(snippet, "<html>OK</html>");
        }
        other => panic!("not a decode error: {other:?}"),
    }
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("<html>OK</html>"), "{err}");
}

#[test]
fn a_2xx_answer_with_the_wrong_shape_is_a_decode_error() {
    let mut server = mockito::Server::new();
    server.mock("GET", "/v1/jobs/j").with_status(200).with_body(r#"{"unexpected":true}"#).expect(1).create();
    let err = client(&server).get_job("j").unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_2xx_answer_with_an_empty_body_is_a_decode_error() {
    let mut server = mockito::Server::new();
    server.mock("GET", "/v1/jobs/j").with_status(200).with_body("").expect(1).create();
    server.mock("POST", "/v1/jobs").with_status(201).with_body("").expect(1).create();
    let client = client(&server);
    let err = client.get_job("j").unwrap_err();
    assert!(matches!(&err, Error::Decode { status, snippet, .. } if *status == 200 && snippet.is_empty()), "{err:?}");
    let err = client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err();
    assert!(matches!(&err, Error::Decode { status, .. } if *status == 201), "{err:?}");
}

#[test]
fn retryable_statuses_are_those_the_docs_name() {
    let mut server = mockito::Server::new();
    let client = no_retries(&server);
    for (status, retryable) in [
        (429, true),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (400, false),
        (401, false),
        (402, false),
        (403, false),
        (404, false),
        (409, false),
        (422, false),
        (501, false),
    ] {
        let mock = server
            .mock("GET", "/v1/jobs/j")
            .with_status(status)
            .with_body(json!({"error": {"code": "x", "message": format!("status {status}")}}).to_string())
            .expect(1)
            .create();
        let err = client.get_job("j").unwrap_err();
        mock.assert();
        mock.remove();
        assert_eq!(api_error(&err).status(), status as u16);
        assert_eq!(err.is_retryable(), retryable, "{status}");
        assert_eq!(api_error(&err).is_retryable(), retryable, "{status}");
        assert_no_secret(&err);
    }
}

#[test]
fn no_error_ever_shows_the_key_or_the_token() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", Matcher::Any)
        .with_status(401)
        .with_header("x-request-id", "req_1")
        .with_body(r#"{"error":{"code":"unauthorized","message":"bad key"}}"#)
        .create();
    server.mock("POST", Matcher::Any).with_status(500).with_body("<html>oops</html>").create();
    let client = no_retries(&server);
    let admin = AdminClient::builder(TOKEN).base_url(server.url()).max_retries(0).build().unwrap();
    let mut errors = vec![
        client.get_job("j").unwrap_err(),
        client.list_jobs(&ListJobs::new()).unwrap_err(),
        client.create_job(&CreateJob::new("https://x/y.mp4")).unwrap_err(),
        client.start_job("j", &StartJob::new()).unwrap_err(),
        admin.list_keys().unwrap_err(),
        admin.create_key(&CreateKey::new("acme")).unwrap_err(),
        client.get_job("").unwrap_err(),
        client.usage_summary(0).unwrap_err(),
        client.wait_for_completion("j", WaitOptions::default().interval(std::time::Duration::ZERO)).unwrap_err(),
    ];
    // A connection that fails: a port nothing listens on.
    let closed = Client::builder(KEY).base_url("http://127.0.0.1:1").max_retries(0).build().unwrap();
    errors.push(closed.get_job("j").unwrap_err());
    errors.push(Client::builder(KEY).base_url("http://example.com").build().unwrap_err());
    errors.push(Client::builder(KEY).base_url("ftp://example.com").build().unwrap_err());
    errors.push(Client::builder(format!("{KEY}\n")).base_url(server.url()).build().unwrap_err());
    for err in &errors {
        assert_no_secret(err);
    }
}

#[test]
fn a_server_that_quotes_the_credential_back_does_not_get_it_into_the_error() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", Matcher::Any)
        .with_status(401)
        .with_body(format!(r#"{{"error":{{"code":"invalid_api_key","message":"key {KEY} is not valid"}}}}"#))
        .create();
    server.mock("POST", Matcher::Any).with_status(401).with_body(format!("<html>bad token {TOKEN}</html>")).create();
    let err = no_retries(&server).get_job("j").unwrap_err();
    assert_no_secret(&err);
    assert!(api_error(&err).message().contains("[redacted]"), "{err}");
    let admin = AdminClient::builder(TOKEN).base_url(server.url()).max_retries(0).build().unwrap();
    let err = admin.create_key(&CreateKey::new("acme")).unwrap_err();
    assert_no_secret(&err);
    assert!(api_error(&err).body_snippet().contains("[redacted]"), "{err}");
}

#[test]
fn each_cause_is_printed_once_along_the_chain() {
    let server = mockito::Server::new();
    drop(server); // nothing listens there now
    let closed = Client::builder(KEY).base_url("http://127.0.0.1:1").max_retries(0).build().unwrap();
    let mut errors = vec![closed.get_job("j").unwrap_err()];
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_body("{not json").create();
    errors.push(no_retries(&server).get_job("j").unwrap_err());
    let dir = std::env::temp_dir().join("removebgvideo-missing-dir-for-chain-test");
    errors.push(no_retries(&server).upload(dir.join("in.mp4")).send().unwrap_err());
    for err in &errors {
        // What anyhow's `{:#}` prints: each message of the chain, joined.
        let mut messages = vec![err.to_string()];
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            messages.push(inner.to_string());
            source = inner.source();
        }
        assert!(messages.len() >= 2, "{err:?} has no source");
        for (at, message) in messages.iter().enumerate() {
            for later in &messages[at + 1..] {
                assert!(!message.contains(later.as_str()), "{message:?} repeats its source {later:?}");
            }
        }
    }
}

#[test]
fn debug_of_clients_and_builders_never_shows_the_credential() {
    let server = mockito::Server::new();
    let builder = Client::builder(KEY).base_url(server.url());
    let admin_builder = AdminClient::builder(TOKEN).base_url(server.url());
    let client = client(&server);
    let admin = admin(&server);
    let shared = client.admin(TOKEN).unwrap();
    let text =
        format!("{builder:?} {builder:#?} {admin_builder:?} {client:?} {client:#?} {admin:?} {admin:#?} {shared:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("LEAKCHECK"), "{text}");
    assert!(text.contains(&server.url()), "Debug should still show the base URL: {text}");
}

#[test]
fn invalid_input_is_refused_before_any_request() {
    let mut server = mockito::Server::new();
    let none = nothing_sent(&mut server);
    let client = client(&server);
    let admin = admin(&server);
    let field = |result: Result<(), Error>| match result.unwrap_err() {
        Error::InvalidInput { field, .. } => field,
        other => panic!("not InvalidInput: {other:?}"),
    };
    assert_eq!(field(client.create_job(&CreateJob::new("")).map(drop)), "video_url");
    assert_eq!(field(client.create_job(&CreateJob::new("   ")).map(drop)), "video_url");
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let request = CreateJob::new("https://x/y.mp4").bg_color([0.0, bad, 0.0]);
        assert_eq!(field(client.create_job(&request).map(drop)), "bg_color");
        assert_eq!(field(client.start_job("j", &StartJob::new().bg_color([bad, 0.0, 0.0])).map(drop)), "bg_color");
    }
    assert_eq!(field(client.create_job(&CreateJob::new("https://x").text_prompt(" ")).map(drop)), "text_prompt");
    assert_eq!(field(client.create_job(&CreateJob::new("https://x").webhook_url("")).map(drop)), "webhook_url");
    assert_eq!(field(client.list_jobs(&ListJobs::new().limit(0)).map(drop)), "limit");
    assert_eq!(field(client.usage_summary(0).map(drop)), "days");
    assert_eq!(field(client.usage_events(0).map(drop)), "limit");
    assert_eq!(field(admin.create_key(&CreateKey::new("")).map(drop)), "client_id");
    assert_eq!(field(admin.create_key(&CreateKey::new("  ").note("n")).map(drop)), "client_id");
    assert_eq!(field(admin.disable_key("").map(drop)), "key_fingerprint");
    assert_eq!(field(admin.enable_key(" ").map(drop)), "key_fingerprint");
    let interval = WaitOptions::default().interval(std::time::Duration::ZERO);
    assert_eq!(field(client.wait_for_completion("j", interval).map(drop)), "interval");
    let backoff = WaitOptions::default().backoff(0.5, std::time::Duration::from_secs(5));
    assert_eq!(field(client.wait_for_completion("j", backoff).map(drop)), "backoff");
    for mock in &none {
        mock.assert();
    }
}

#[test]
fn empty_credentials_are_refused() {
    let is_invalid = |result: Result<(), Error>, expected: &str| match result.unwrap_err() {
        Error::InvalidInput { field, .. } => assert_eq!(field, expected),
        other => panic!("not InvalidInput: {other:?}"),
    };
    is_invalid(Client::new("").map(drop), "api_key");
    is_invalid(Client::new("  ").map(drop), "api_key");
    is_invalid(Client::builder("").base_url("http://127.0.0.1:9").build().map(drop), "api_key");
    is_invalid(AdminClient::new("").map(drop), "admin_token");
    let client = Client::new(KEY).unwrap();
    is_invalid(client.admin("").map(drop), "admin_token");
    is_invalid(client.admin(" ").map(drop), "admin_token");
}

#[test]
fn base_urls_must_be_https_unless_loopback_or_allowed() {
    let build = |url: &str| Client::builder(KEY).base_url(url).build();
    for refused in [
        "http://example.com",
        "http://10.0.0.1:8080",
        "ftp://example.com",
        "not a url",
        "https://user:pw@example.com",
        "https://example.com/?a=1",
        "https://example.com/#x",
    ] {
        let err = build(refused).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{refused}: {err:?}");
    }
    let err = build("http://example.com").unwrap_err();
    assert!(err.to_string().contains("allow_insecure_http"), "{err}");
    for accepted in [
        "https://api.removebgvideo.com",
        "http://127.0.0.1:1",
        "http://localhost",
        "http://LOCALHOST:8080/",
        "http://[::1]:3000",
    ] {
        assert!(build(accepted).is_ok(), "{accepted}");
    }
    let insecure = Client::builder(KEY).base_url("http://example.com").allow_insecure_http(true).build().unwrap();
    assert_eq!(insecure.base_url(), "http://example.com");
    assert_eq!(Client::new(KEY).unwrap().base_url(), "https://api.removebgvideo.com");
    let admin = AdminClient::builder(TOKEN).base_url("http://example.com").build().unwrap_err();
    assert!(matches!(admin, Error::Config(_)), "{admin:?}");
}

/// Reads the environment only: setting variables while other tests of this binary run (and
/// reqwest reads proxy variables) would be a data race, so this test sets nothing.
#[test]
fn from_env_names_the_missing_variable() {
    if std::env::var_os(API_KEY_ENV).is_none() {
        let err = Client::from_env().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(err.to_string().contains("REMOVEBGVIDEO_API_KEY"), "{err}");
    }
    if std::env::var_os(ADMIN_TOKEN_ENV).is_none() {
        let err = AdminClient::from_env().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(err.to_string().contains("REMOVEBGVIDEO_ADMIN_TOKEN"), "{err}");
    }
}

#[test]
fn the_error_helpers_answer_without_a_match() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/v1/jobs/j")
        .with_status(429)
        .with_header("retry-after", "120")
        .with_header("x-request-id", "req_rl")
        .with_body(r#"{"error":{"code":"rate_limited","message":"Slow down"}}"#)
        .create();
    let err = client(&server).get_job("j").unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.request_id(), Some("req_rl"));
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(120)));
    assert!(err.is_retryable());
    assert!(!err.is_timeout());
    assert!(err.job().is_none());
    let text = err.to_string();
    assert!(text.contains("retry after 120"), "{text}");
}

#[test]
fn other_error_shapes_still_give_a_message() {
    let mut server = mockito::Server::new();
    let client = no_retries(&server);
    for (body, message) in [
        (r#"{"detail":"Not authenticated"}"#, "Not authenticated".to_owned()),
        (
            r#"{"detail":[{"loc":["body","video_url"],"msg":"field required"}]}"#,
            r#"[{"loc":["body","video_url"],"msg":"field required"}]"#.to_owned(),
        ),
        (r#"{"error":"Job not found"}"#, "Job not found".to_owned()),
        (r#"{"error":{"code":"bad_request"}}"#, "Bad Request (JSON body without a message)".to_owned()),
        (r#"[1,2,3]"#, "Bad Request (JSON body without a message)".to_owned()),
        ("   \n", "Bad Request (empty body)".to_owned()),
    ] {
        let mock = server.mock("GET", "/v1/jobs/j").with_status(400).with_body(body).expect(1).create();
        let err = client.get_job("j").unwrap_err();
        mock.assert();
        mock.remove();
        assert_eq!(api_error(&err).message(), message, "{body}");
    }
}

#[test]
fn a_refused_base_url_never_shows_a_password() {
    for url in [
        "http://user:pw_LEAKCHECK@example.com",
        "ftp://user:pw_LEAKCHECK@example.com",
        "https://user:pw_LEAKCHECK@example.com",
    ] {
        let err = Client::builder(KEY).base_url(url).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert_no_secret(&err);
    }
}

#[test]
fn a_decode_error_shows_the_shape_of_the_body_with_queries_and_credentials_redacted() {
    let mut server = mockito::Server::new();
    let body = r#"{"id":7,"status":{"x":1},"output_url":"https://cdn.example/o.mp4?X-Amz-Signature=LEAKCHECK1","api_key":"LEAKCHECK2"}"#;
    server.mock("GET", "/v1/jobs/j").with_status(200).with_body(body).expect(1).create();
    let err = client(&server).get_job("j").unwrap_err();
    let Error::Decode { snippet, .. } = &err else { panic!("not a decode error: {err:?}") };
    assert_eq!(
        snippet,
        r#"{"id":7,"status":{"x":1},"output_url":"https://cdn.example/o.mp4?[redacted]","api_key":"[redacted]"}"#
    );
    assert_no_secret(&err);
}

#[test]
fn a_create_key_answer_that_cannot_be_read_is_not_quoted_at_all() {
    let mut server = mockito::Server::new();
    // The shape changed: the new key sits under a name no redaction could know.
    server.mock("POST", "/v1/admin/keys").with_status(201).with_body(r#"{"k":"LEAKCHECK3","n":"x"}"#).create();
    let err = admin(&server).create_key(&CreateKey::new("client-1")).unwrap_err();
    assert!(matches!(&err, Error::Decode { snippet, .. } if snippet.is_empty()), "{err:?}");
    assert_no_secret(&err);
}

#[test]
fn a_failed_job_prints_its_urls_without_their_query_but_job_gives_it_whole() {
    let mut server = mockito::Server::new();
    let signed = "https://cdn.example/o.mp4?X-Amz-Signature=LEAKCHECK4";
    let job = json!({"id": "j", "status": "failed", "error": format!("could not read {signed}"),
        "output_url": signed, "webhook_url": "https://hooks.example/h?token=LEAKCHECK5",
        "signing_secret": "LEAKCHECK6"});
    server.mock("GET", "/v1/jobs/j").with_status(200).with_body(job.to_string()).create();
    let err = no_retries(&server).wait_for_completion("j", WaitOptions::default()).unwrap_err();
    assert!(matches!(err, Error::JobFailed(_)), "{err:?}");
    assert_no_secret(&err);
    let text = all_text(&err);
    assert!(text.contains("https://cdn.example/o.mp4?[redacted]"), "{text}");
    let whole = err.job().expect("the job");
    assert_eq!(whole.output_url.as_deref(), Some(signed));
    assert_eq!(whole.extra["signing_secret"], "LEAKCHECK6");
}
