//! The simulator as a running service: time drives jobs whether or not anyone polls, each key
//! is a tenant that sees only its own jobs, webhooks are retried under the same delivery id,
//! outputs are real files, connections are kept alive, and the standalone flags configure all
//! of it.
//!
//! Time is a `ManualClock` everywhere it matters: no test sleeps, and `Simulator::settle`
//! waits for the deliveries a clock jump made due.

// The flags are tested here; serving them is tested through the command (`tests/it/cli.rs`).
#[allow(dead_code)]
#[path = "../../src/bin/removebgvideo/simulator/flags.rs"]
mod flags;

use std::io::{BufReader, Read};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::{output_asset, Fault, FaultRule, ProcessingTime, Simulator};
use serde_json::{json, Value};

use crate::support::sim_http;
use crate::support::webhook_receiver::WebhookReceiver;
use crate::support::wire::exchange;

/// A plain HTTP client, as a user in any language would have.
/// A client of its own, with no connection kept from another test: some tests here stop and
/// restart a simulator on the same port.
fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().no_proxy().build().expect("http client")
}

/// [`sim_http::call`] with a key, which every call here has.
fn call(sim: &Simulator, key: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    sim_http::call(sim, method, path, Some(key), body)
}

fn create(sim: &Simulator, key: &str, body: &Value) -> String {
    let (status, v) = call(sim, key, "POST", "/v1/jobs", Some(body));
    assert_eq!(status, 200, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

fn job(sim: &Simulator, key: &str, id: &str) -> Value {
    let (status, v) = call(sim, key, "GET", &format!("/v1/jobs/{id}"), None);
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn a_client_that_never_polls_receives_started_then_completed_on_time() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(5.0).start().expect("simulator");
    let receiver = WebhookReceiver::scripted(&[]);
    let id = create(&sim, sim.api_key(), &json!({"video_url": "https://x/a.mp4", "webhook_url": receiver.url}));
    sim.settle();
    assert_eq!(receiver.events(), ["job.started"]);

    clock.advance(Duration::from_millis(4_999));
    sim.settle();
    assert_eq!(receiver.events(), ["job.started"], "not before its processing time");

    clock.advance(Duration::from_millis(1));
    sim.settle();
    assert_eq!(receiver.events(), ["job.started", "job.completed"]);
    let seen = receiver.seen();
    assert_ne!(seen[0].0, seen[1].0);
    let done = job(&sim, sim.api_key(), &id);
    assert_eq!((done["status"].as_str(), done["progress"].as_u64()), (Some("completed"), Some(100)));
    assert_eq!(done["webhook_events"], json!({"job.started": "sent", "job.completed": "sent"}));
}

#[test]
fn progress_rises_with_time_and_a_failure_is_on_time_too() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(10.0).start().expect("simulator");
    let key = sim.api_key().to_owned();
    let ok = create(&sim, &key, &json!({"video_url": "https://x/a.mp4"}));
    let bad = create(&sim, &key, &json!({"video_url": "https://x/simulate-failure.mp4"}));
    assert_eq!(job(&sim, &key, &ok)["progress"], 0);
    clock.advance(Duration::from_secs(3));
    assert_eq!(job(&sim, &key, &ok)["progress"], 30);
    assert_eq!(job(&sim, &key, &ok)["status"], "processing", "polling does not hurry a job on time pacing");
    clock.advance(Duration::from_secs(7));
    assert_eq!(job(&sim, &key, &ok)["status"], "completed");
    let failed = job(&sim, &key, &bad);
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("failed"), Some("simulated failure")));
}

#[test]
fn a_manual_clock_moves_a_thousand_jobs_to_completion_without_a_sleep() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(2.0).concurrency(10).start().expect("simulator");
    let client = sim.client().expect("client");
    let ids: Vec<String> = (0..1000)
        .map(|i| client.create_job(&removebgvideo::CreateJob::new(format!("https://x/{i}.mp4"))).expect("create").id)
        .collect();
    let key = sim.api_key().to_owned();
    assert_eq!(job(&sim, &key, &ids[9])["status"], "processing");
    assert_eq!(job(&sim, &key, &ids[10])["status"], "pending", "beyond the concurrency limit");

    // 100 rounds of 10 jobs, 2 s each: 200 s runs the whole queue, in one jump.
    clock.advance(Duration::from_secs(199));
    let (_, listed) = call(&sim, &key, "GET", "/v1/jobs?status=completed&limit=1", None);
    assert_eq!(listed["total"], 990);
    assert_eq!(job(&sim, &key, &ids[999])["status"], "processing");
    clock.advance(Duration::from_secs(1));
    let (_, listed) = call(&sim, &key, "GET", "/v1/jobs?status=completed&limit=1", None);
    assert_eq!(listed["total"], 1000);
}

#[test]
fn two_keys_cannot_see_each_others_jobs() {
    let sim = Simulator::builder().credits(600.0).start().expect("simulator");
    let admin = sim.admin_client().expect("admin");
    let other = admin.create_key(&removebgvideo::models::CreateKey::new("other-team")).expect("key");
    let other_key = other.api_key.expose().to_owned();
    let (mine, theirs) = (sim.api_key().to_owned(), other_key.clone());

    let my_job = create(&sim, &mine, &json!({"video_url": "https://x/mine.mp4"}));
    let their_job = create(&sim, &theirs, &json!({"video_url": "https://x/theirs.mp4", "model": "pro"}));

    for (key, foreign) in [(&mine, &their_job), (&theirs, &my_job)] {
        let (status, v) = call(&sim, key, "GET", &format!("/v1/jobs/{foreign}"), None);
        assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
        let (status, _) = call(&sim, key, "POST", &format!("/v1/jobs/{foreign}/start"), Some(&json!({})));
        assert_eq!(status, 404);
    }
    let (_, listed) = call(&sim, &mine, "GET", "/v1/jobs", None);
    assert_eq!((listed["total"].as_u64(), listed["items"][0]["id"].as_str()), (Some(1), Some(my_job.as_str())));
    let (_, usage) = call(&sim, &theirs, "GET", "/v1/usage/summary?days=7", None);
    assert_eq!((usage["total_jobs"].as_u64(), usage["credits_used"].as_f64()), (Some(1), Some(30.0)), "{usage}");
    let (_, events) = call(&sim, &theirs, "GET", "/v1/usage/events", None);
    assert!(events["items"].as_array().expect("items").iter().all(|e| e["job_id"] == their_job.as_str()));
    // Credits are per tenant: the configured key's 600 lost 10 (a 10 s `original` job).
    assert_eq!(sim.credits_remaining(), 590.0);

    // The legacy download route needs no key at all.
    let answer = http().get(format!("{}/api/download/{their_job}", sim.base_url())).send().expect("send");
    assert_eq!(answer.status(), 400, "found (not completed yet) without a key");

    // A disabled key is refused.
    admin.disable_key(&other.key_fingerprint).expect("disable");
    let (status, v) = call(&sim, &theirs, "GET", "/v1/jobs", None);
    assert_eq!((status, v["error"]["code"].as_str()), (401, Some("invalid_api_key")));
}

#[test]
fn a_failed_delivery_arrives_again_with_the_same_delivery_id() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(60.0).start().expect("simulator");
    let receiver = WebhookReceiver::scripted(&[500, 503]);
    let id = create(&sim, sim.api_key(), &json!({"video_url": "https://x/a.mp4", "webhook_url": receiver.url}));
    sim.settle();
    assert_eq!(receiver.seen().len(), 1);
    assert_eq!(job(&sim, sim.api_key(), &id)["webhook_events"], json!({"job.started": "failed"}));

    // The first retry waits 1 s, the second 2 s more, on the simulator's clock.
    clock.advance(Duration::from_millis(999));
    sim.settle();
    assert_eq!(receiver.seen().len(), 1, "not before its backoff");
    clock.advance(Duration::from_millis(1));
    sim.settle();
    clock.advance(Duration::from_secs(2));
    sim.settle();
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s == &seen[0]), "one event, one delivery id: {seen:?}");
    let attempts: Vec<_> = sim.webhook_deliveries().iter().map(|d| (d.attempt, d.outcome.clone())).collect();
    assert_eq!(attempts, [(1, Ok(500)), (2, Ok(503)), (3, Ok(200))]);
    assert_eq!(job(&sim, sim.api_key(), &id)["webhook_events"], json!({"job.started": "sent"}));
}

#[test]
fn a_delivery_that_keeps_failing_is_given_up_and_recorded_failed() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(0.0).webhook_retries(1).start().expect("simulator");
    let receiver = WebhookReceiver::scripted(&[500, 500, 500, 500]);
    let id = create(&sim, sim.api_key(), &json!({"video_url": "https://x/a.mp4", "webhook_url": receiver.url}));
    // The first attempt now; its retry is due a second after it failed, and the receiver's
    // next event waits behind it, so that it arrives in order.
    sim.settle();
    assert_eq!(receiver.events(), ["job.started"]);
    clock.advance(Duration::from_secs(1));
    sim.settle();
    assert_eq!(receiver.events(), ["job.started", "job.started", "job.completed"], "given up, then the next");
    clock.advance(Duration::from_secs(1));
    sim.settle();
    assert_eq!(receiver.seen().len(), 4, "two events, tried twice each");
    let events = &job(&sim, sim.api_key(), &id)["webhook_events"];
    assert_eq!(events, &json!({"job.started": "failed", "job.completed": "failed"}));
}

/// The first bytes that identify each output format.
fn has_signature(format: &str, bytes: &[u8]) -> bool {
    match format {
        "webm" => bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]),
        "mov" | "mp4" => bytes.get(4..8) == Some(b"ftyp"),
        "gif" => bytes.starts_with(b"GIF89a"),
        "webp" => bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        "png_sequence" => bytes.starts_with(b"PK\x03\x04") && bytes.windows(4).any(|w| w == b"\x89PNG"),
        _ => false,
    }
}

#[test]
fn each_output_format_is_a_real_file_of_that_format() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    let client = sim.client().expect("client");
    for format in ["webm", "mov", "mp4", "gif", "webp", "png_sequence"] {
        let asset = output_asset(format).expect("an asset");
        assert!(has_signature(format, asset), "{format}");
        assert!(asset.len() < 8 * 1024, "{format}: {} bytes", asset.len());
        let id = create(&sim, sim.api_key(), &json!({"video_url": "https://x/a.mp4", "output_format": format}));
        let done = client.get_job(&id).expect("job");
        let url = done.output_url.clone().expect("output url");
        let bytes = http().get(url).send().expect("download").bytes().expect("bytes");
        assert!(has_signature(format, &bytes), "{format}");
        assert_eq!(&bytes[..], asset);
    }
    assert!(has_signature("webm", output_asset("webm").unwrap_or_default()));
    assert_eq!(output_asset("avi"), None);
}

#[test]
fn an_uploads_video_url_serves_the_uploaded_bytes() {
    let sim = Simulator::start().expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clip.mp4");
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &content).expect("write");
    let upload = sim.client().expect("client").upload(&path).send().expect("upload");
    let answer = http().get(&upload.video_url).send().expect("get");
    assert_eq!(answer.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("video/mp4"));
    assert_eq!(&answer.bytes().expect("bytes")[..], &content[..]);
}

#[test]
fn a_connection_is_kept_alive_until_the_client_closes_it() {
    let sim = Simulator::start().expect("simulator");
    let address = sim.base_url().trim_start_matches("http://").to_owned();
    let mut stream = BufReader::new(TcpStream::connect(&address).expect("connect"));
    let get = format!("GET /v1/jobs HTTP/1.1\r\nHost: {address}\r\nX-Api-Key: {}\r\n\r\n", sim.api_key());
    for _ in 0..3 {
        let (status, headers) = exchange(&mut stream, &get);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(!headers.contains(&"connection: close".to_owned()), "{headers:?}");
    }
    // A chunked body on the same connection.
    let post = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: {address}\r\nX-Api-Key: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{{\"video_url\": \"h\r\n9\r\nttps://x\"\r\n1\r\n}}\r\n0\r\n\r\n",
        sim.api_key()
    );
    let (status, _) = exchange(&mut stream, &post);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let close = format!("GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let (status, headers) = exchange(&mut stream, &close);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains(&"connection: close".to_owned()), "{headers:?}");
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).expect("closed"), 0, "the server closed it");
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn stricter_checks_say_they_are_the_simulators_own() {
    let sim = Simulator::start().expect("simulator");
    let (status, v) = call(
        &sim,
        sim.api_key(),
        "POST",
        "/v1/jobs",
        Some(&json!({"video_url": "https://x/a.mp4", "background": {"type": "transparent"}, "bg_type": "green"})),
    );
    assert_eq!(status, 400);
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.contains("the simulator's own check"), "{message}");
}

/// The standalone simulator's command line: the command's own flags, parsed as its `main` does.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    flags: flags::SimulatorFlags,
}

fn standalone(args: &[&str]) -> Simulator {
    let parsed = Args::try_parse_from(std::iter::once("simulator").chain(args.iter().copied())).expect("flags");
    parsed.flags.builder().start().expect("simulator")
}

#[test]
fn every_standalone_flag_takes_effect() {
    let free = crate::support::wire::closed_port();
    let port = free.to_string();
    let sim = standalone(&[
        "--port",
        &port,
        "--api-key",
        "k1",
        "--admin-token",
        "t1",
        "--webhook-secret",
        "s1",
        "--credits",
        "15",
        "--job-seconds",
        "3600",
        "--concurrency",
        "1",
        "--max-upload-size",
        "10",
        "--fault",
        "status=503,method=GET,path=/health,times=1",
        "--fault",
        "rate-limit=7,path=/api/pricing,after=1",
    ]);
    assert_eq!(sim.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!((sim.api_key(), sim.admin_token(), sim.webhook_secret()), ("k1", "t1", Some("s1")));
    // --credits 15: a 10 s `original` job costs 10, so the second one answers 402.
    let first = create(&sim, "k1", &json!({"video_url": "https://x/a.mp4"}));
    let (status, v) = call(&sim, "k1", "POST", "/v1/jobs", Some(&json!({"video_url": "https://x/b.mp4"})));
    assert_eq!((status, v["error"]["code"].as_str()), (402, Some("insufficient_credits")));
    // --job-seconds 3600: still processing, however often it is polled.
    for _ in 0..5 {
        assert_eq!(job(&sim, "k1", &first)["status"], "processing");
    }
    // --concurrency 1: a second tenant's job waits behind the first.
    let admin = sim.admin_client().expect("admin client (token t1)");
    let other = admin.create_key(&removebgvideo::models::CreateKey::new("b")).expect("key");
    let other_key = other.api_key.expose().to_owned();
    let waiting = create(&sim, &other_key, &json!({"video_url": "https://x/c.mp4"}));
    assert_eq!(job(&sim, &other_key, &waiting)["status"], "pending");
    // --max-upload-size 10.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, [0u8; 11]).expect("write");
    let refused = sim.client().expect("client").upload(&path).send().expect_err("too large");
    assert!(refused.to_string().contains("File too large"), "{refused}");
    // --fault (twice).
    let health = http().get(format!("{}/health", sim.base_url())).send().expect("send");
    assert_eq!(health.status(), 503);
    assert_eq!(http().get(format!("{}/health", sim.base_url())).send().expect("send").status(), 200);
    let pricing = || http().get(format!("{}/api/pricing", sim.base_url())).send().expect("send");
    assert_eq!(pricing().status(), 200, "after=1 lets the first through");
    let limited = pricing();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
}

#[test]
fn standalone_defaults_and_odd_flags() {
    let sim = standalone(&["--webhook-secret", "", "--max-upload-size", "0", "--job-seconds", "0"]);
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!((sim.api_key(), sim.admin_token(), sim.webhook_secret()), ("sim_test_key", "sim_admin_token", None));
    assert_eq!(sim.credits_remaining(), f64::INFINITY);
    let id = create(&sim, "sim_test_key", &json!({"video_url": "https://x/a.mp4"}));
    assert_eq!(job(&sim, "sim_test_key", &id)["status"], "completed", "--job-seconds 0 finishes at once");
    for bad in [
        &["--fault", "status=99"][..],
        &["--fault", "teapot"],
        &["--fault", "path=/v1"],
        &["--fault", "drop,status=500"],
        &["--fault", "delay=soon"],
        &["--port", "70000"],
        &["--credits", "lots"],
    ] {
        let args = std::iter::once("simulator").chain(bad.iter().copied());
        assert!(Args::try_parse_from(args).is_err(), "{bad:?}");
    }
}

#[test]
fn fault_specs_read_every_fault_and_narrowing() {
    let parse = |s: &str| s.parse::<FaultRule>().expect(s);
    assert_eq!(parse("drop"), FaultRule::new(Fault::DropConnection));
    assert_eq!(
        parse("delay=0.25,method=post"),
        FaultRule::new(Fault::Delay(Duration::from_millis(250))).method("POST")
    );
    assert_eq!(parse("html=502,times=always"), FaultRule::new(Fault::HtmlPage(502)).times(u32::MAX));
    assert_eq!(parse("empty=504,after=2"), FaultRule::new(Fault::EmptyBody(504)).after(2));
    assert_eq!(parse("message-only=500"), FaultRule::new(Fault::MessageOnly(500)));
    assert_eq!(parse("truncated-json"), FaultRule::new(Fault::TruncatedJson));
    assert_eq!(
        parse(" after-applying=500 , path=/v1/jobs , times=3 "),
        FaultRule::new(Fault::StatusAfterApplying(500)).path_prefix("/v1/jobs").times(3)
    );
    let error = "status=503,colour=blue".parse::<FaultRule>().expect_err("unknown item");
    assert!(error.to_string().contains("colour"), "{error}");
    assert!("".parse::<FaultRule>().is_err());
    assert!("times=2".parse::<FaultRule>().is_err(), "no fault");
}

#[test]
fn a_dropped_connection_is_closed_without_an_answer() {
    let sim = Simulator::builder().fault("drop,path=/health".parse().expect("rule")).start().expect("simulator");
    assert!(http().get(format!("{}/health", sim.base_url())).send().is_err());
    assert_eq!(http().get(format!("{}/health", sim.base_url())).send().expect("send").status(), 200);
}

#[test]
fn a_client_waiting_on_the_same_manual_clock_moves_the_job_it_waits_for() {
    let clock = ManualClock::new();
    // Two seconds of processing per second of video: a 15 s video takes 30 s.
    let sim = Simulator::builder()
        .clock(clock.clone())
        .processing_time(ProcessingTime::PerVideoSecond(2.0))
        .job_duration(Duration::from_secs(15))
        .start()
        .expect("simulator");
    let client = sim.client_builder().clock(clock.clone()).build().expect("client");
    let start = removebgvideo::clock::Clock::now(&clock);
    let job = client.create_job(&removebgvideo::CreateJob::new("https://x/a.mp4")).expect("create");
    let done = client.wait_for_completion(&job.id, removebgvideo::WaitOptions::default()).expect("completed");
    assert_eq!(done.status, removebgvideo::JobStatus::Completed);
    let waited = removebgvideo::clock::Clock::now(&clock) - start;
    assert!(waited >= Duration::from_secs(30), "finished only once its 30 s had passed: {waited:?}");
    assert!(waited < Duration::from_secs(60), "{waited:?}");
}

#[tokio::test]
async fn settling_from_async_code_lets_a_receiver_on_the_same_runtime_answer() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(1.0).start().expect("simulator");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    let received = Arc::new(Mutex::new(0));
    let count = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let count = Arc::clone(&count);
            async move {
                *count.lock().expect("lock") += 1;
                "ok"
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let created = reqwest::Client::new()
        .post(format!("{}/v1/jobs", sim.base_url()))
        .header("X-Api-Key", sim.api_key())
        .json(&json!({"video_url": "https://x/a.mp4", "webhook_url": url}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    clock.advance(Duration::from_secs(1));
    sim.settle_async().await;
    assert_eq!(*received.lock().expect("lock"), 2);
    assert!(sim.webhook_deliveries().iter().all(|d| d.outcome == Ok(200)));
    server.abort();
}

#[test]
fn settings_print_no_credentials() {
    let parsed = Args::try_parse_from([
        "simulator",
        "--api-key",
        "key-123",
        "--admin-token",
        "tok-456",
        "--webhook-secret",
        "sec-789",
    ])
    .expect("flags");
    let printed = format!("{:?} {:?}", parsed.flags, parsed.flags.builder());
    for secret in ["key-123", "tok-456", "sec-789"] {
        assert!(!printed.contains(secret), "{printed}");
    }
}
