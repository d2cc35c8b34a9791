//! `examples/async_service.rs` end to end: the axum service, the simulator and the webhook
//! deliveries between them, all on 127.0.0.1.

#[allow(dead_code)] // the example's `main` is not used here; its `app` is
#[path = "../../examples/async_service.rs"]
mod service;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use removebgvideo::simulator::Simulator;
use removebgvideo::webhook::{signed_headers, Verifier};
use serde_json::{json, Value};
use service::{AppState, WEBHOOK_PATH};

/// The service on an OS-chosen port, pointed at `sim`, delivering webhooks to itself.
async fn start_service(sim: &Simulator) -> (SocketAddr, AppState) {
    let client = sim.async_client().expect("client");
    let verifier = Verifier::new(sim.webhook_secret().expect("the simulator signs")).expect("verifier");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let tracker = removebgvideo::client::JobTracker::new_async(&client);
    let state = AppState { client, tracker, verifier, public_url: format!("http://{address}"), events: Arc::default() };
    let app = service::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, state)
}

async fn get_json(http: &reqwest::Client, url: String) -> (u16, Value) {
    let answer = http.get(url).send().await.expect("GET");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_created_followed_to_completion_and_its_webhooks_received() {
    let sim = Simulator::builder().polls_to_complete(2).start().expect("simulator");
    let (address, state) = start_service(&sim).await;
    let http = reqwest::Client::new();

    let created = http
        .post(format!("http://{address}/jobs"))
        .json(&json!({"video_url": "https://videos.example/in.mp4", "model": "human"}))
        .send()
        .await
        .expect("POST /jobs");
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.expect("JSON");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(sim.job_count(), 1);

    // Each GET polls the API once; the simulator finishes the job on its second poll.
    let mut last = Value::Null;
    for _ in 0..5 {
        let (status, body) = get_json(&http, format!("http://{address}/jobs/{id}")).await;
        assert_eq!(status, 200, "{body}");
        last = body;
        if last["status"] == "completed" {
            break;
        }
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert!(last["output_url"].as_str().is_some_and(|url| url.starts_with(sim.base_url())));
    // The simulator delivers in the background; once it has settled, the service has received
    // both, verified, through the extractor.
    sim.settle_async().await;
    let (_, last) = get_json(&http, format!("http://{address}/jobs/{id}")).await;
    assert_eq!(last["webhooks"], json!(["job.started", "job.completed"]), "{last}");

    // The tracker heard `job.completed`: the wait ends at once, with one GET for the job.
    let gets_before = sim.requests().iter().filter(|r| r.method == "GET").count();
    let (status, result) = get_json(&http, format!("http://{address}/jobs/{id}/result")).await;
    assert_eq!((status, &result["status"]), (200, &json!("completed")), "{result}");
    assert_eq!(sim.requests().iter().filter(|r| r.method == "GET").count(), gets_before + 1);

    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 2);
    for delivery in &deliveries {
        assert_eq!(delivery.url, format!("http://{address}{WEBHOOK_PATH}"));
        assert_eq!(delivery.outcome, Ok(200), "{}", delivery.event);
    }

    // A redelivery (same delivery id) is answered 200 and not recorded twice.
    let first = &deliveries[0];
    let mut again = http.post(format!("http://{address}{WEBHOOK_PATH}")).body(first.body.clone());
    again = again
        .header("X-Webhook-Event", &first.event)
        .header("X-Webhook-Delivery-Id", &first.delivery_id)
        .header("X-Webhook-Timestamp", &first.timestamp);
    if let Some(signature) = &first.signature {
        again = again.header("X-Webhook-Signature", signature);
    }
    assert_eq!(again.send().await.expect("redelivery").status().as_u16(), 200);
    assert_eq!(state.events.lock().expect("lock").for_job(&id), vec!["job.started", "job.completed"]);
}

#[tokio::test]
async fn forged_and_malformed_deliveries_are_refused_with_the_reason() {
    let sim = Simulator::start().expect("simulator");
    let (address, state) = start_service(&sim).await;
    let http = reqwest::Client::new();
    let body = br#"{"event":"job.completed","data":{"id":"job_forged","status":"completed"}}"#.to_vec();
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request = http.post(format!("http://{address}{WEBHOOK_PATH}")).body(body.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    let forged = signed_headers("not-the-secret", "job.completed", "dlv_1", SystemTime::now(), &body).expect("sign");
    let answer = post(forged).await.expect("forged");
    assert_eq!(answer.status().as_u16(), 401);
    assert!(answer.text().await.expect("text").contains("signature"));

    let answer = post(vec![("X-Webhook-Event", "job.completed".to_owned())]).await.expect("unsigned");
    assert_eq!(answer.status().as_u16(), 400);

    let secret = sim.webhook_secret().expect("the simulator signs");
    let genuine = signed_headers(secret, "job.completed", "dlv_2", SystemTime::now(), &body).expect("sign");
    assert_eq!(post(genuine).await.expect("genuine").status().as_u16(), 200);
    assert_eq!(state.events.lock().expect("lock").for_job("job_forged"), vec!["job.completed"]);
}

#[tokio::test]
async fn both_clients_share_one_simulator_inside_a_runtime() {
    let sim = Simulator::start().expect("simulator");
    let async_client = sim.async_client().expect("async client");
    let blocking_client = sim.client().expect("blocking client"); // built on a runtime thread: no panic
    let job =
        async_client.create_job(&removebgvideo::CreateJob::new("https://videos.example/in.mp4")).await.expect("create");
    // The blocking client blocks this worker for one call, as documented; it does not panic.
    let seen = blocking_client.get_job(&job.id).expect("get");
    assert_eq!(seen.id, job.id);
    assert_eq!(sim.job_count(), 1);
    drop(blocking_client);
    drop(sim);
}

#[tokio::test]
async fn api_errors_become_the_matching_http_answers() {
    let sim = Simulator::start().expect("simulator");
    let (address, _state) = start_service(&sim).await;
    let http = reqwest::Client::new();

    let (status, body) = get_json(&http, format!("http://{address}/jobs/job_unknown")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().is_some_and(|text| !text.is_empty()));

    let answer =
        http.post(format!("http://{address}/jobs")).json(&json!({"video_url": ""})).send().await.expect("POST");
    assert_eq!(answer.status().as_u16(), 400);
    assert_eq!(sim.job_count(), 0, "an invalid request never reaches the API");
}
