//! The documented error codes: typed on `ApiError`, the helpers that read code or status, and
//! what a 402 or an HTML page says.

use mockito::Server;
use removebgvideo::{ApiError, Client, Error, ErrorCode, RetryPolicy};

fn api_error(status: usize, body: &str, content_type: &str) -> ApiError {
    let mut server = Server::new();
    let _mock = server
        .mock("GET", "/v1/jobs/job_1")
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .expect_at_least(1)
        .create();
    let client = Client::builder("sk_test_key")
        .base_url(server.url())
        .retry_policy(RetryPolicy::default().with_initial_backoff(std::time::Duration::from_millis(1)))
        .max_retries(2)
        .build()
        .expect("client");
    match client.get_job("job_1").expect_err("an error answer") {
        Error::Api(api) => *api,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

fn structured(code: &str) -> String {
    format!(r#"{{"error":{{"code":"{code}","message":"m","request_id":"req_1"}}}}"#)
}

#[test]
fn every_documented_code_maps_to_its_variant() {
    let cases = [
        (401, "missing_api_key", ErrorCode::MissingApiKey),
        (401, "invalid_api_key", ErrorCode::InvalidApiKey),
        (402, "insufficient_credits", ErrorCode::InsufficientCredits),
        (400, "invalid_request", ErrorCode::InvalidRequest),
        (404, "not_found", ErrorCode::NotFound),
        (429, "rate_limited", ErrorCode::RateLimited),
        (500, "internal_error", ErrorCode::InternalError),
        (504, "timeout", ErrorCode::Timeout),
    ];
    for (status, code, variant) in cases {
        let api = api_error(status, &structured(code), "application/json");
        assert_eq!(api.code(), Some(&variant), "{code}");
        assert_eq!(api.code_str(), Some(code));
        assert_eq!(variant.as_str(), code);
        assert_eq!(ErrorCode::from(code), variant);
    }
}

#[test]
fn an_unknown_code_is_kept_as_sent() {
    let api = api_error(409, &structured("invalid_state"), "application/json");
    assert_eq!(api.code(), Some(&ErrorCode::Other("invalid_state".into())));
    assert_eq!(api.code_str(), Some("invalid_state"));
    assert!(api.to_string().contains("(invalid_state)"), "{api}");
    assert!(!api.is_insufficient_credits() && !api.is_auth_error() && !api.is_not_found() && !api.is_rate_limited());
}

#[test]
fn a_402_is_never_retried_and_says_to_top_up() {
    let mut server = Server::new();
    let mock = server
        .mock("POST", "/v1/jobs")
        .with_status(402)
        .with_header("content-type", "application/json")
        .with_body(structured("insufficient_credits"))
        .expect(1)
        .create();
    let client = Client::builder("sk_test_key").base_url(server.url()).max_retries(3).build().expect("client");
    let error = client.create_job(&removebgvideo::CreateJob::new("https://x/in.mp4")).expect_err("402");
    mock.assert();
    assert!(!error.is_retryable());
    assert!(error.is_insufficient_credits());
    let api = error.api_error().expect("api error");
    assert!(api.is_insufficient_credits());
    assert!(!api.is_retryable());
    assert!(error.to_string().contains("top up credits"), "{error}");
}

#[test]
fn the_helpers_also_read_the_bare_status() {
    let payment = api_error(402, "", "text/plain");
    assert!(payment.is_insufficient_credits());
    assert!(payment.to_string().contains("top up credits"), "{payment}");
    let limited = api_error(429, "", "text/plain");
    assert!(limited.is_rate_limited());
    let auth = api_error(401, "", "text/plain");
    assert!(auth.is_auth_error());
    let forbidden = api_error(403, "", "text/plain");
    assert!(forbidden.is_auth_error());
    let missing = api_error(404, "", "text/plain");
    assert!(missing.is_not_found());
    assert_eq!(missing.code(), None);
}

#[test]
fn a_code_that_says_out_of_credits_is_never_retryable_whatever_the_status() {
    let api = api_error(503, &structured("insufficient_credits"), "application/json");
    assert!(api.is_insufficient_credits());
    assert!(!api.is_retryable());
}

#[test]
fn an_html_error_page_shows_its_title_not_the_page() {
    let page =
        "<!DOCTYPE html><html><head>\n<title>\n  502 Bad Gateway | cloudflare\n</title><style>body{}</style></head>\
                <body><h1>Bad gateway</h1><p>The web server reported a bad gateway error.</p></body></html>";
    let api = api_error(502, page, "text/html");
    assert!(api.message().contains("502 Bad Gateway | cloudflare"), "{}", api.message());
    assert!(!api.message().contains("<body>"), "{}", api.message());
    assert!(!api.to_string().contains("web server reported"), "{api}");
    assert!(api.body_snippet().starts_with("<!DOCTYPE html>"));
}

#[test]
fn an_html_page_without_a_title_still_shows_a_snippet() {
    let api = api_error(500, "<html><body>oops</body></html>", "text/html");
    assert!(api.message().contains("non-JSON body"), "{}", api.message());
}

#[test]
fn a_402_ends_a_wait_at_once() {
    let mut server = Server::new();
    let mock = server
        .mock("GET", "/v1/jobs/job_1")
        .with_status(402)
        .with_header("content-type", "application/json")
        .with_body(structured("insufficient_credits"))
        .expect(1)
        .create();
    let client = Client::builder("sk_test_key").base_url(server.url()).build().expect("client");
    let options = removebgvideo::WaitOptions::default()
        .interval(std::time::Duration::from_millis(1))
        .timeout(std::time::Duration::from_secs(30));
    let error = client.wait_for_completion("job_1", options).expect_err("402");
    mock.assert();
    assert!(error.api_error().is_some_and(ApiError::is_insufficient_credits), "{error:?}");
}
