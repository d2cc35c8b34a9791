//! The contract's job shapes as the simulator answers them: drafts and starting them, every job
//! field, background and composition, credits charged and running out, upload limits and
//! types, the documented answers and error codes, and a simulator living inside a tokio runtime.

use std::time::{Duration, SystemTime};

use removebgvideo::models::{Anchor, BillingStatus, ListJobs};
use removebgvideo::simulator::Simulator;
use removebgvideo::{Background, Composition, CreateJob, Error, ErrorCode, JobStatus, Model, StartJob, WaitOptions};
use reqwest::blocking::multipart;
use serde_json::{json, Value};

const VIDEO: &str = "https://cdn.example.com/in.mp4";

fn fast_wait() -> WaitOptions<'static> {
    WaitOptions::default().interval(Duration::from_millis(1))
}

/// `POST path` with the simulator's key and a JSON body: status and body.
fn post(sim: &Simulator, path: &str, body: &Value) -> (u16, Value) {
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .header("X-Api-Key", sim.api_key())
        .json(body)
        .send()
        .expect("send");
    (answer.status().as_u16(), answer.json().expect("json"))
}

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> removebgvideo::ApiError {
    match result {
        Err(Error::Api(api)) => *api,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn a_draft_is_created_until_started_and_lists_as_created() {
    let sim = Simulator::builder().polls_to_complete(1).start().expect("simulator");
    let client = sim.client().expect("client");
    let draft = client.create_job(&CreateJob::new(VIDEO).auto_start(false)).expect("created");
    assert_eq!(draft.status, Some(JobStatus::Created));
    let job = client.get_job(&draft.id).expect("job");
    assert_eq!(job.status, JobStatus::Created);
    assert!(!job.is_terminal());
    let drafts = client.list_jobs(&ListJobs::new().status(JobStatus::Created)).expect("list");
    assert_eq!(drafts.items.iter().map(|job| job.id.as_str()).collect::<Vec<_>>(), [draft.id.as_str()]);

    let started = client.start_job(&draft.id, &StartJob::new()).expect("started");
    assert_eq!(started.status, Some(JobStatus::Processing));
    assert!(client.list_jobs(&ListJobs::new().status(JobStatus::Created)).expect("list").items.is_empty());
    assert!(client.wait_for_completion(&draft.id, fast_wait()).expect("done").is_completed());
}

#[test]
fn jobs_carry_the_version_2_fields() {
    let sim = Simulator::builder().polls_to_complete(1).job_duration(Duration::from_secs(42)).start().expect("sim");
    let client = sim.client().expect("client");
    let before = SystemTime::now() - Duration::from_secs(1);
    let submitted = client
        .create_job(&CreateJob::new(VIDEO).webhook_url("http://203.0.113.9/hook").model(Model::Light))
        .expect("created");
    let job = client.get_job(&submitted.id).expect("job");
    let created_at = job.created_at_time().expect("an ISO created_at");
    assert!(created_at >= before && created_at <= SystemTime::now() + Duration::from_secs(1), "{job:?}");
    assert!(job.created_at.as_deref().is_some_and(|text| text.ends_with('Z')), "{job:?}");
    assert_eq!(job.duration_seconds, Some(42.0));
    assert_eq!(job.billing_status, Some(BillingStatus::from("charged")));
    assert_eq!(job.webhook_url.as_deref(), Some("http://203.0.113.9/hook"));
    assert_eq!(job.extra.get("video_url"), Some(&json!(VIDEO)));
    // A refused delivery (not a loopback host) is recorded as failed; deliveries are made in
    // the background, so settle before reading the job again.
    sim.settle();
    let job = client.get_job(&submitted.id).expect("job");
    assert_eq!(job.webhook_events, Some(json!({"job.started": "failed", "job.completed": "failed"})));
}

#[test]
fn background_composition_and_preview_are_accepted_on_start_and_echoed() {
    let sim = Simulator::builder().polls_to_complete(1).start().expect("simulator");
    let client = sim.client().expect("client");
    let draft = client.create_job(&CreateJob::new(VIDEO).auto_start(false)).expect("draft");
    let options = StartJob::new()
        .background(Background::hex("#00FF00"))
        .composition(Composition::new(1920, 1080).anchor(Anchor::BottomCenter).scale(0.5).offset(4, -8))
        .preview_duration(Duration::from_secs(3));
    client.start_job(&draft.id, &options).expect("started");
    let job = client.get_job(&draft.id).expect("job");
    assert_eq!(job.extra.get("background"), Some(&json!({"type": "color", "color": "#00FF00"})));
    assert_eq!(
        job.extra.get("composition"),
        Some(&json!({"canvas": {"width": 1920, "height": 1080},
                     "foreground": {"anchor": "bottom-center", "scale": 0.5, "offset": {"x": 4, "y": -8}}}))
    );
    assert_eq!(job.extra.get("preview_duration"), Some(&json!(3.0)));
    let on_create = client
        .create_job(&CreateJob::new(VIDEO).background(Background::image("https://cdn.example.com/bg.jpg")))
        .expect("created with an image background");
    let job = client.get_job(&on_create.id).expect("job");
    assert_eq!(
        job.extra.get("background"),
        Some(&json!({"type": "image", "image_url": "https://cdn.example.com/bg.jpg"}))
    );
}

#[test]
fn bad_version_2_values_are_refused_with_a_message() {
    let sim = Simulator::start().expect("simulator");
    let bad_bodies = [
        json!({"video_url": VIDEO, "background": {"type": "color", "color": "#00FF0"}}),
        json!({"video_url": VIDEO, "background": {"type": "color", "color": [0, 2, 0]}}),
        json!({"video_url": VIDEO, "background": {"type": "plaid"}}),
        json!({"video_url": VIDEO, "background": {"type": "transparent"}, "bg_type": "green"}),
        json!({"video_url": VIDEO, "composition": {"canvas": {"width": 0, "height": 10},
               "foreground": {"anchor": "center", "scale": 1, "offset": {"x": 0, "y": 0}}}}),
        json!({"video_url": VIDEO, "composition": {"canvas": {"width": 10, "height": 10},
               "foreground": {"anchor": "center", "scale": -1, "offset": {"x": 0, "y": 0}}}}),
        json!({"video_url": VIDEO, "preview_duration": 0}),
        json!({"video_url": VIDEO, "preview_duration": "soon"}),
        json!({"video_url": VIDEO, "bg_color": [0, 128, 255]}),
        json!({"video_url": VIDEO, "bg_type": "image", "bg_image_url": 7}),
    ];
    for body in bad_bodies {
        let (status, answer) = post(&sim, "/v1/jobs", &body);
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "invalid_request", "{answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| m.len() > 10), "{answer}");
    }
    assert_eq!(sim.job_count(), 0);
    let (status, answer) = post(&sim, "/v1/jobs", &json!({"video_url": VIDEO, "auto_start": false}));
    assert_eq!(status, 200, "{answer}");
    let start = format!("/v1/jobs/{}/start", answer["id"].as_str().expect("id"));
    let (status, answer) = post(&sim, &start, &json!({"background": {"type": "transparent"}, "bg_color": [0, 0, 0]}));
    assert_eq!((status, &answer["error"]["code"]), (400, &json!("invalid_request")), "{answer}");
}

#[test]
fn jobs_are_charged_until_the_credits_run_out_then_402() {
    // original: 60 credits a minute; 10 s cost 10 credits.
    let sim = Simulator::builder().credits(25.0).job_duration(Duration::from_secs(10)).start().expect("simulator");
    let client = sim.client().expect("client");
    client.create_job(&CreateJob::new(VIDEO)).expect("first");
    client.create_job(&CreateJob::new(VIDEO)).expect("second");
    assert_eq!(sim.credits_remaining(), 5.0);
    let api = api_error(client.create_job(&CreateJob::new(VIDEO)));
    assert_eq!(api.status(), 402);
    assert_eq!(api.code(), Some(&ErrorCode::InsufficientCredits));
    assert!(api.is_insufficient_credits() && !api.is_retryable());
    assert!(api.message().contains("10.00") && api.message().contains("5.00"), "{}", api.message());
    assert_eq!(sim.job_count(), 2, "a refused job is not created");
    assert_eq!(sim.credits_remaining(), 5.0);
    // A cheaper model still fits: light is 45 a minute, 7.5 for 10 s... which 5 does not cover.
    assert!(api_error(client.create_job(&CreateJob::new(VIDEO).model(Model::Light))).is_insufficient_credits());
}

#[test]
fn a_draft_is_charged_when_started_and_a_preview_costs_less() {
    let sim = Simulator::builder().credits(12.0).job_duration(Duration::from_secs(10)).start().expect("simulator");
    let client = sim.client().expect("client");
    let first = client.create_job(&CreateJob::new(VIDEO).auto_start(false)).expect("draft");
    let second = client.create_job(&CreateJob::new(VIDEO).auto_start(false)).expect("draft");
    assert_eq!(sim.credits_remaining(), 12.0, "drafts cost nothing");
    assert_eq!(client.get_job(&first.id).expect("job").billing_status, Some(BillingStatus::from("not_charged")));
    client.start_job(&first.id, &StartJob::new()).expect("started");
    assert_eq!(sim.credits_remaining(), 2.0);
    let api = api_error(client.start_job(&second.id, &StartJob::new()));
    assert!(api.is_insufficient_credits(), "{api}");
    assert_eq!(client.get_job(&second.id).expect("job").status, JobStatus::Created, "still a draft");
    // A 2-second preview costs 2 credits, which fit.
    client.start_job(&second.id, &StartJob::new().preview_duration(Duration::from_secs(2))).expect("preview");
    assert!(sim.credits_remaining().abs() < 1e-9, "{}", sim.credits_remaining());
}

#[test]
fn a_failed_job_gives_its_credits_back() {
    let sim = Simulator::builder().credits(100.0).polls_to_complete(1).start().expect("simulator");
    let client = sim.client().expect("client");
    let job = client.create_job(&CreateJob::new("https://cdn.example.com/simulate-failure.mp4")).expect("created");
    assert_eq!(sim.credits_remaining(), 90.0);
    assert!(matches!(client.wait_for_completion(&job.id, fast_wait()), Err(Error::JobFailed(_))));
    assert_eq!(sim.credits_remaining(), 100.0);
    assert_eq!(client.get_job(&job.id).expect("job").billing_status, Some(BillingStatus::from("refunded")));
    let usage = client.usage_summary(7).expect("usage");
    assert_eq!((usage.total_jobs, usage.completed_jobs, usage.credits_used), (Some(1), Some(0), Some(0.0)));
}

#[test]
fn credits_are_unlimited_by_default_and_odd_balances_mean_zero() {
    let sim = Simulator::start().expect("simulator");
    assert_eq!(sim.credits_remaining(), f64::INFINITY);
    for odd in [f64::NAN, -5.0, f64::NEG_INFINITY] {
        let sim = Simulator::builder().credits(odd).start().expect("simulator");
        assert_eq!(sim.credits_remaining(), 0.0);
        let client = sim.client().expect("client");
        assert!(api_error(client.create_job(&CreateJob::new(VIDEO))).is_insufficient_credits());
    }
}

fn upload(sim: &Simulator, part: multipart::Part) -> (u16, Value) {
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/v1/uploads", sim.base_url()))
        .header("X-Api-Key", sim.api_key())
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .expect("send");
    (answer.status().as_u16(), answer.json().expect("json"))
}

fn part(bytes: usize, name: &str, content_type: Option<&str>) -> multipart::Part {
    let part = multipart::Part::bytes(vec![7u8; bytes]).file_name(name.to_owned());
    match content_type {
        Some(media_type) => part.mime_str(media_type).expect("mime"),
        None => part,
    }
}

#[test]
fn uploads_over_the_limit_are_refused_as_too_large() {
    let sim = Simulator::builder().max_upload_size(Some(100)).start().expect("simulator");
    let (status, answer) = upload(&sim, part(100, "a.mp4", Some("video/mp4")));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["size"], json!(100));
    let (status, answer) = upload(&sim, part(101, "a.mp4", Some("video/mp4")));
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_request");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.starts_with("File too large")), "{answer}");
    assert_eq!(sim.upload_count(), 1);
    let unlimited = Simulator::builder().max_upload_size(None).start().expect("simulator");
    assert_eq!(upload(&unlimited, part(100_000, "big.webm", Some("video/webm"))).0, 200);
}

#[test]
fn only_the_four_video_types_are_accepted() {
    let sim = Simulator::start().expect("simulator");
    let accepted = [
        ("a.mp4", Some("video/mp4")),
        ("a.mov", Some("video/quicktime")),
        ("a.webm", Some("video/webm")),
        ("a.avi", Some("video/x-msvideo")),
        ("named-anyhow.bin", Some("video/webm")),
        ("clip.MOV", Some("application/octet-stream")),
        ("clip.avi", None),
    ];
    for (name, media_type) in accepted {
        let (status, answer) = upload(&sim, part(8, name, media_type));
        assert_eq!(status, 200, "{name} {media_type:?}: {answer}");
    }
    let refused = [
        ("notes.txt", Some("text/plain")),
        ("a.mp4", Some("image/png")),
        ("a.mkv", Some("video/x-matroska")),
        ("clip.bin", Some("application/octet-stream")),
        ("noextension", None),
    ];
    for (name, media_type) in refused {
        let (status, answer) = upload(&sim, part(8, name, media_type));
        assert_eq!(status, 400, "{name} {media_type:?}: {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| m.starts_with("Invalid file type")), "{answer}");
    }
    assert_eq!(sim.upload_count(), 7);
}

#[test]
fn the_client_reads_every_answer_in_the_docs_shape() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    let client = sim.client().expect("client");
    let health = client.health().expect("health");
    assert!(health.is_healthy());
    assert_eq!(health.checks.get("r2_configured"), Some(&json!(true)));
    let pricing = client.pricing().expect("pricing");
    assert_eq!(pricing.credits_per_minute(&Model::Pro), Some(180.0));
    assert_eq!(pricing.estimate_credits(&Model::Original, Duration::from_secs(30)), Some(30.0));
    assert!(!pricing.packages.is_empty());
    let job = client.create_job(&CreateJob::new(VIDEO)).expect("created");
    let link = client.download_link(&job.id).expect("link");
    assert_eq!(link.download_url, Some(format!("{}/outputs/{}.webm", sim.base_url(), job.id)));
    assert_eq!(link.output_format, Some(removebgvideo::OutputFormat::Webm));
    let usage = client.usage_summary(7).expect("usage");
    assert_eq!((usage.total_jobs, usage.completed_jobs, usage.credits_used), (Some(1), Some(1), Some(10.0)));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, b"not really a video").expect("write");
    let upload = client.upload(&path).send().expect("upload");
    assert_eq!((upload.filename.as_deref(), upload.size), (Some("clip.mp4"), Some(18)));
    assert!(upload.video_id.is_some());
}

#[test]
fn auth_failures_carry_the_documented_codes() {
    let sim = Simulator::start().expect("simulator");
    let wrong = removebgvideo::Client::builder("not-the-key").base_url(sim.base_url()).build().expect("client");
    let api = api_error(wrong.get_job("job_1"));
    assert_eq!(api.code(), Some(&ErrorCode::InvalidApiKey));
    assert!(api.is_auth_error());
    let api = api_error(sim.client().expect("client").get_job("job_404"));
    assert_eq!(api.code(), Some(&ErrorCode::NotFound));
    assert!(api.is_not_found());
}

/// Starting, calling and dropping a simulator on an async runtime's own thread never panics,
/// even when a webhook delivery runs an HTTP client on the simulator's side.
#[tokio::test]
async fn a_simulator_lives_and_dies_inside_a_tokio_test() {
    // No retries: the second event follows the first once it is given up.
    let sim = Simulator::builder().polls_to_complete(0).webhook_retries(0).start().expect("simulator");
    let http = reqwest::Client::new();
    let health = http.get(format!("{}/health", sim.base_url())).send().await.expect("health");
    assert_eq!(health.status(), 200);
    // A closed loopback port: the delivery is attempted on the simulator's thread and fails.
    let closed = crate::support::wire::closed_port();
    let created = http
        .post(format!("{}/v1/jobs", sim.base_url()))
        .header("X-Api-Key", sim.api_key())
        .json(&json!({"video_url": VIDEO, "webhook_url": format!("http://127.0.0.1:{closed}/hook")}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    sim.settle_async().await;
    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries.iter().all(|delivery| delivery.outcome.is_err()), "{deliveries:?}");
    drop(sim);
}
