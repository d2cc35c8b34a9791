//! The simulator against a plain HTTP client: every route, auth, errors, faults, webhooks.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use removebgvideo::simulator::{expected_output, Fault, FaultRule, Simulator};

use crate::support::webhook_receiver::WebhookReceiver;
use reqwest::blocking::{multipart, Client, Response};
use serde_json::{json, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One client for every test: building one is slow in debug builds.
fn http() -> Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder().no_proxy().build().expect("client")).clone()
}

/// Status, `X-Request-Id` header, JSON body.
fn parts(resp: Response) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    let rid = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = resp.json().unwrap_or(Value::Null);
    (status, rid, body)
}

fn get(sim: &Simulator, path: &str) -> (u16, String, Value) {
    parts(http().get(format!("{}{path}", sim.base_url())).header("X-Api-Key", sim.api_key()).send().expect("send"))
}

fn post(sim: &Simulator, path: &str, body: &Value) -> (u16, String, Value) {
    parts(
        http()
            .post(format!("{}{path}", sim.base_url()))
            .header("X-Api-Key", sim.api_key())
            .json(body)
            .send()
            .expect("send"),
    )
}

fn admin_get(sim: &Simulator, path: &str) -> (u16, String, Value) {
    parts(
        http()
            .get(format!("{}{path}", sim.base_url()))
            .header("X-Admin-Token", sim.admin_token())
            .send()
            .expect("send"),
    )
}

fn admin_post(sim: &Simulator, path: &str, body: &Value) -> (u16, String, Value) {
    parts(
        http()
            .post(format!("{}{path}", sim.base_url()))
            .header("X-Admin-Token", sim.admin_token())
            .json(body)
            .send()
            .expect("send"),
    )
}

/// Asserts a structured error and that its request id matches the header.
fn assert_error(got: &(u16, String, Value), status: u16, code: &str) {
    let (s, rid, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(rid.starts_with("req_"), "{rid}");
    assert_eq!(body["error"]["request_id"], rid.as_str());
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["error"]);
}

fn create(sim: &Simulator, body: &Value) -> String {
    let (s, _, v) = post(sim, "/v1/jobs", body);
    assert_eq!(s, 200, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

#[test]
fn health_and_pricing_need_no_key() {
    let sim = Simulator::start().expect("start");
    let (s, rid, v) = parts(http().get(format!("{}/health", sim.base_url())).send().expect("send"));
    assert_eq!(
        (s, v),
        (200, json!({"status": "healthy", "checks": {"api": "ok", "runpod_configured": true, "r2_configured": true}}))
    );
    assert!(rid.starts_with("req_"));
    let (s, _, v) = parts(http().get(format!("{}/api/pricing", sim.base_url())).send().expect("send"));
    assert_eq!(s, 200);
    assert_eq!(
        v["model_pricing_credits_per_minute"],
        json!({"original": 60.0, "light": 45.0, "pro": 180.0, "human": 45.0}),
        "{v}"
    );
    assert!(v["packages"].as_array().is_some_and(|packages| !packages.is_empty()), "{v}");
    assert!(!sim.base_url().ends_with('/'));
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(sim.api_key(), "sim_test_key");
    assert_eq!(sim.admin_token(), "sim_admin_token");
    assert_eq!(sim.webhook_secret(), Some("sim_webhook_secret"));
}

#[test]
fn auth_failures_on_both_kinds() {
    let sim = Simulator::start().expect("start");
    let c = http();
    let url = |p: &str| format!("{}{p}", sim.base_url());
    assert_error(&parts(c.get(url("/v1/jobs")).send().expect("send")), 401, "missing_api_key");
    assert_error(
        &parts(c.get(url("/v1/jobs")).header("X-Api-Key", "nope").send().expect("send")),
        401,
        "invalid_api_key",
    );
    // The admin token is not an API key and vice versa.
    assert_error(
        &parts(c.get(url("/v1/jobs")).header("X-Api-Key", sim.admin_token()).send().expect("send")),
        401,
        "invalid_api_key",
    );
    assert_error(&parts(c.get(url("/v1/admin/config")).send().expect("send")), 401, "missing_api_key");
    assert_error(
        &parts(c.get(url("/v1/admin/keys")).header("X-Api-Key", sim.api_key()).send().expect("send")),
        401,
        "missing_api_key",
    );
    // The legacy routes need no key: an unknown job is simply not found.
    assert_error(&parts(c.get(url("/api/download/job_1")).send().expect("send")), 404, "not_found");
    // An unauthorised create creates nothing.
    let r = c.post(url("/v1/jobs")).json(&json!({"video_url": "https://x/a.mp4"})).send().expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(sim.job_count(), 0);
}

#[test]
fn unknown_route_wrong_method_and_bad_requests() {
    let sim = Simulator::start().expect("start");
    assert_error(&get(&sim, "/v1/nothing"), 404, "not_found");
    assert_error(&get(&sim, "/v1/jobs/job_9"), 404, "not_found");
    let r =
        http().delete(format!("{}/v1/jobs", sim.base_url())).header("X-Api-Key", sim.api_key()).send().expect("send");
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, POST"));
    assert_error(&parts(r), 405, "invalid_request");

    let malformed = parts(
        http()
            .post(format!("{}/v1/jobs", sim.base_url()))
            .header("X-Api-Key", sim.api_key())
            .header("Content-Type", "application/json")
            .body("{\"video_url\": ")
            .send()
            .expect("send"),
    );
    assert_error(&malformed, 400, "invalid_request");
    assert_error(&post(&sim, "/v1/jobs", &json!({})), 400, "invalid_request");
    assert_error(&post(&sim, "/v1/jobs", &json!({"video_url": ""})), 400, "invalid_request");
    for (field, bad) in [
        ("model", json!("ultra")),
        ("bg_type", json!("plaid")),
        ("output_format", json!("avi")),
        ("bg_color", json!([1, 2])),
        ("metadata", json!([1])),
        ("auto_start", json!("yes")),
    ] {
        let mut body = json!({"video_url": "https://x/a.mp4"});
        body[field] = bad;
        let got = post(&sim, "/v1/jobs", &body);
        assert_error(&got, 400, "invalid_request");
        let msg = got.2["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(msg.contains(field), "{msg}");
    }
    assert_error(&get(&sim, "/v1/jobs?limit=0"), 400, "invalid_request");
    // The documented list has no maximum limit.
    assert_eq!(get(&sim, "/v1/jobs?limit=100000").0, 200);
    assert_error(&get(&sim, "/v1/jobs?offset=-1"), 400, "invalid_request");
    assert_error(&get(&sim, "/v1/usage/summary?days=0"), 400, "invalid_request");

    let big = vec![b' '; 1024 * 1024 + 10];
    let too_big = parts(
        http()
            .post(format!("{}/v1/jobs", sim.base_url()))
            .header("X-Api-Key", sim.api_key())
            .header("Content-Type", "application/json")
            .body(big)
            .send()
            .expect("send"),
    );
    assert_error(&too_big, 400, "invalid_request");
    assert_eq!(sim.job_count(), 0);
    assert_eq!(sim.requests().last().map(|r| r.body_len), Some(1024 * 1024 + 10));
}

#[test]
fn upload_counts_the_file_part_exactly() -> TestResult {
    let sim = Simulator::start()?;
    let mut file = tempfile::Builder::new().suffix(".mp4").tempfile()?;
    // Bytes that look like boundary starts, across several buffer sizes.
    let content: Vec<u8> = (0..300_007u32).map(|i| if i % 997 == 0 { b'\r' } else { (i % 251) as u8 }).collect();
    file.write_all(&content)?;
    file.flush()?;
    let name = file.path().file_name().and_then(|n| n.to_str()).ok_or("name")?.to_owned();
    let form = multipart::Form::new().text("note", "hello").file("file", file.path())?;
    let (s, rid, v) = parts(
        http()
            .post(format!("{}/v1/uploads", sim.base_url()))
            .header("X-Api-Key", sim.api_key())
            .multipart(form)
            .send()?,
    );
    assert_eq!(s, 200, "{v}");
    assert!(rid.starts_with("req_"));
    assert_eq!(
        v,
        json!({
            "success": true,
            "video_id": v["video_id"],
            "video_url": v["video_url"],
            "filename": name,
            "size": content.len(),
        })
    );
    let id = v["video_id"].as_str().ok_or("video_id")?;
    assert!(id.starts_with("vid_") && id.len() == 20, "a random id: {id}");
    let url = v["video_url"].as_str().ok_or("video_url")?;
    let token = url
        .strip_prefix(&format!("{}/uploads/{id}/", sim.base_url()))
        .and_then(|rest| rest.strip_suffix(&format!("/{name}")));
    assert!(token.is_some_and(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())), "{url}");
    assert_eq!(sim.upload_count(), 1);
    let rec = sim.requests().pop().ok_or("no record")?;
    assert_eq!((rec.method.as_str(), rec.path.as_str()), ("POST", "/v1/uploads"));
    assert!(rec.body_len > content.len() as u64);
    assert_eq!(rec.body.len(), 64 * 1024);
    assert_eq!(rec.request_id, rid);

    // No `file` part, and not multipart at all.
    let form = multipart::Form::new().text("other", "x");
    let got = parts(
        http()
            .post(format!("{}/v1/uploads", sim.base_url()))
            .header("X-Api-Key", sim.api_key())
            .multipart(form)
            .send()?,
    );
    assert_error(&got, 400, "invalid_request");
    assert_error(&post(&sim, "/v1/uploads", &json!({})), 400, "invalid_request");
    // Unauthorised uploads are not scanned or counted.
    let form = multipart::Form::new().part("file", multipart::Part::bytes(vec![1, 2, 3]).file_name("a.mp4"));
    let got = parts(http().post(format!("{}/v1/uploads", sim.base_url())).multipart(form).send()?);
    assert_error(&got, 401, "missing_api_key");
    assert_eq!(sim.upload_count(), 1);
    Ok(())
}

#[test]
fn job_is_paced_to_completion() {
    let sim = Simulator::start().expect("start");
    let (s, rid, v) =
        post(&sim, "/v1/jobs", &json!({"video_url": "https://cdn.example.com/in.mp4", "metadata": {"k": 1}}));
    assert_eq!(s, 200);
    assert!(rid.starts_with("req_"));
    let id = v["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("job_") && id.len() == 20 && id[4..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(v, json!({"success": true, "id": id, "status": "processing", "message": "job created and started"}));
    let mut progress = Vec::new();
    loop {
        let (s, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
        assert_eq!(s, 200);
        progress.push(job["progress"].as_u64().unwrap_or(999));
        if job["status"] == "completed" {
            let created_at = job["created_at"].as_str().expect("created_at").to_owned();
            assert!(created_at.ends_with('Z') && created_at.len() == 24, "{created_at}");
            assert_eq!(
                job,
                json!({
                    "id": id, "job_id": id, "status": "completed", "progress": 100,
                    "output_url": format!("{}/outputs/{id}.webm", sim.base_url()),
                    "error": null, "model": "original", "bg_type": "transparent",
                    "output_format": "webm", "video_url": "https://cdn.example.com/in.mp4",
                    "created_at": created_at, "duration_seconds": 10.0, "billing_status": "charged",
                    "webhook_url": null, "webhook_events": {}, "metadata": {"k": 1},
                })
            );
            break;
        }
        assert_eq!(job["status"], "processing");
        assert!(progress.len() < 10);
    }
    assert_eq!(progress, [33, 66, 100]);
    // Polling a finished job changes nothing.
    assert_eq!(get(&sim, &format!("/v1/jobs/{id}")).2["status"], "completed");
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn failure_marker_fails_the_job() {
    let sim = Simulator::builder().polls_to_complete(1).start().expect("start");
    let id = create(&sim, &json!({"video_url": "https://x/simulate-failure.mp4"}));
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"], "simulated failure");
    assert_eq!(job["output_url"], Value::Null);
    assert_eq!(job["billing_status"], "refunded");
    assert_error(&get(&sim, &format!("/api/download/{id}")), 400, "invalid_request");
}

#[test]
fn zero_polls_completes_at_once() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("start");
    let (_, _, v) = post(&sim, "/v1/jobs", &json!({"video_url": "https://x/a.mp4", "output_format": "png_sequence"}));
    assert_eq!(v["status"], "completed");
    let id = v["id"].as_str().expect("id");
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    assert_eq!(job["output_url"], format!("{}/outputs/{id}.zip", sim.base_url()));
}

#[test]
fn draft_then_start_with_overrides() {
    let sim = Simulator::builder().polls_to_complete(1).start().expect("start");
    let (_, _, v) = post(
        &sim,
        "/v1/jobs",
        &json!({"video_url": "https://x/a.mp4", "model": "light", "bg_type": "green", "auto_start": false}),
    );
    assert_eq!(v["status"], "created");
    assert_eq!(v["success"], true);
    let id = v["id"].as_str().expect("id").to_owned();
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    assert_eq!((job["status"].clone(), job["progress"].clone()), (json!("created"), json!(0)));
    assert_eq!(job["billing_status"], "not_charged");
    assert_error(&get(&sim, &format!("/api/download/{id}")), 400, "invalid_request");

    assert_error(&post(&sim, &format!("/v1/jobs/{id}/start"), &json!({"model": "mega"})), 400, "invalid_request");
    let (s, _, v) = post(
        &sim,
        &format!("/v1/jobs/{id}/start"),
        &json!({"model": "pro", "output_format": "mov", "bg_type": "custom", "bg_color": [0, 0.5, 1.0], "text_prompt": "red jacket"}),
    );
    assert_eq!(s, 200);
    assert_eq!(v, json!({"success": true, "id": id, "status": "processing", "message": "job started"}));
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    assert_eq!(job["status"], "completed");
    assert_eq!(job["model"], "pro");
    assert_eq!(job["output_format"], "mov");
    assert_eq!(job["bg_type"], "custom");
    assert_eq!(job["bg_color"], json!([0, 0.5, 1.0]));
    assert_eq!(job["text_prompt"], "red jacket");
    assert_eq!(job["output_url"], format!("{}/outputs/{id}.mov", sim.base_url()));

    assert_error(&post(&sim, &format!("/v1/jobs/{id}/start"), &json!({})), 400, "invalid_request");
    assert_error(&post(&sim, "/v1/jobs/job_77/start", &json!({})), 404, "not_found");
    // An empty body counts as `{}`.
    let (_, _, d) = post(&sim, "/v1/jobs", &json!({"video_url": "https://x/b.mp4", "auto_start": false}));
    let r = http()
        .post(format!("{}/v1/jobs/{}/start", sim.base_url(), d["id"].as_str().expect("id")))
        .header("X-Api-Key", sim.api_key())
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
}

#[test]
fn list_filters_and_pages_newest_first() {
    let sim = Simulator::start().expect("start");
    let made: Vec<String> = (0..5)
        .map(|i| create(&sim, &json!({"video_url": format!("https://x/{i}.mp4"), "auto_start": i % 2 == 0})))
        .collect();
    let (s, _, v) = get(&sim, "/v1/jobs?limit=2&offset=1");
    assert_eq!(s, 200);
    assert_eq!((v["total"].clone(), v["limit"].clone(), v["offset"].clone()), (json!(5), json!(2), json!(1)));
    let ids: Vec<&str> = v["items"].as_array().expect("items").iter().filter_map(|j| j["id"].as_str()).collect();
    assert_eq!(ids, [&made[3], &made[2]]);
    let (_, _, v) = get(&sim, "/v1/jobs?limit=100&offset=0&status=created");
    let ids: Vec<&str> = v["items"].as_array().expect("items").iter().filter_map(|j| j["id"].as_str()).collect();
    assert_eq!(ids, [&made[3], &made[1]]);
    assert_eq!(v["total"], 2);
    let (_, _, v) = get(&sim, "/v1/jobs");
    assert_eq!((v["limit"].clone(), v["offset"].clone(), v["total"].clone()), (json!(20), json!(0), json!(5)));
    let (_, _, v) = get(&sim, "/v1/jobs?offset=10");
    assert_eq!(v["items"], json!([]));
    // Listing does not advance jobs.
    assert_eq!(get(&sim, &format!("/v1/jobs/{}", made[0])).2["progress"], 33);
}

#[test]
fn usage_summary_and_events() {
    let sim = Simulator::builder().polls_to_complete(1).start().expect("start");
    let id = create(&sim, &json!({"video_url": "https://x/a.mp4", "model": "light"}));
    get(&sim, &format!("/v1/jobs/{id}"));
    let draft = create(&sim, &json!({"video_url": "https://x/b.mp4", "auto_start": false}));
    let (s, _, mut v) = get(&sim, "/v1/usage/summary?days=7");
    assert_eq!(s, 200);
    // light: 45 credits a minute × 10 simulated seconds.
    let daily = v.as_object_mut().and_then(|v| v.remove("daily")).expect("a daily breakdown");
    assert_eq!(v, json!({"days": 7, "total_jobs": 2, "completed_jobs": 1, "failed_jobs": 0, "credits_used": 7.5}));
    let daily = daily.as_array().expect("rows");
    assert_eq!(daily.len(), 7, "one row per day");
    assert_eq!((daily[6]["total_jobs"].as_u64(), daily[6]["credits_used"].as_f64()), (Some(2), Some(7.5)), "today");
    let dates: Vec<&str> = daily.iter().filter_map(|d| d["date"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]) && dates.iter().all(|d| d.len() == 10), "{dates:?}");
    let (s, _, v) = get(&sim, "/v1/usage/events?limit=3");
    assert_eq!(s, 200);
    let items = v["items"].as_array().expect("items");
    let kinds: Vec<&str> = items.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["job.created", "job.completed", "job.started"]);
    assert_eq!(items[0]["job_id"], draft.as_str());
    assert!(items[0]["id"].as_str().is_some_and(|i| i.starts_with("evt_")));
    assert!(items[0]["created_at"].is_u64());
}

#[test]
fn admin_config_and_keys() {
    let sim = Simulator::start().expect("start");
    let (s, _, cfg) = admin_get(&sim, "/v1/admin/config");
    assert_eq!(s, 200);
    assert_eq!(cfg["environment"], "simulator");
    let (_, _, keys) = admin_get(&sim, "/v1/admin/keys");
    assert_eq!(keys["items"].as_array().map(Vec::len), Some(1));

    assert_error(&admin_post(&sim, "/v1/admin/keys", &json!({"note": "x"})), 400, "invalid_request");
    let (s, _, made) = admin_post(&sim, "/v1/admin/keys", &json!({"client_id": "acme", "note": "ci"}));
    assert_eq!(s, 200);
    let key = made["api_key"].as_str().expect("api_key").to_owned();
    let fp = made["key_fingerprint"].as_str().expect("fp").to_owned();
    assert!(key.starts_with("rbv_live_"));
    assert!(fp.starts_with("fp_"));
    assert_eq!((made["client_id"].clone(), made["note"].clone()), (json!("acme"), json!("ci")));

    let (_, _, keys) = admin_get(&sim, "/v1/admin/keys");
    let row = keys["items"]
        .as_array()
        .and_then(|a| a.iter().find(|k| k["key_fingerprint"] == fp.as_str()))
        .expect("row")
        .clone();
    let created_at = row["created_at"].as_u64().expect("created_at");
    assert_eq!(
        row,
        json!({"client_id": "acme", "key_fingerprint": fp, "note": "ci", "enabled": true, "created_at": created_at})
    );

    let with_key = |k: &str| {
        http().get(format!("{}/v1/jobs", sim.base_url())).header("X-Api-Key", k).send().expect("send").status().as_u16()
    };
    assert_eq!(with_key(&key), 200);
    let (s, _, v) = admin_post(&sim, "/v1/admin/keys/disable", &json!({"key_fingerprint": fp}));
    assert_eq!((s, v), (200, json!({"success": true, "key_fingerprint": fp, "enabled": false})));
    assert_eq!(with_key(&key), 401);
    let (s, _, v) = admin_post(&sim, "/v1/admin/keys/enable", &json!({"key_fingerprint": fp}));
    assert_eq!((s, v), (200, json!({"success": true, "key_fingerprint": fp, "enabled": true})));
    assert_eq!(with_key(&key), 200);
    assert_error(&admin_post(&sim, "/v1/admin/keys/disable", &json!({"key_fingerprint": "fp_nope"})), 404, "not_found");
    assert_error(&admin_post(&sim, "/v1/admin/keys/enable", &json!({})), 400, "invalid_request");
}

#[test]
fn download_route_and_output_bytes_without_auth() -> TestResult {
    let sim = Simulator::builder().polls_to_complete(1).output_size(100_003).start()?;
    let id = create(&sim, &json!({"video_url": "https://x/a.mp4", "output_format": "mp4"}));
    assert_error(&get(&sim, &format!("/api/download/{id}")), 400, "invalid_request");
    assert_error(&get(&sim, "/api/download/job_42"), 404, "not_found");
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    let output_url = job["output_url"].as_str().ok_or("output_url")?.to_owned();
    let (s, _, v) = get(&sim, &format!("/api/download/{id}"));
    assert_eq!((s, v), (200, json!({"success": true, "download_url": output_url, "output_format": "mp4"})));

    sim.clear_requests();
    let resp = http().get(&output_url).send()?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("video/mp4"));
    assert_eq!(resp.content_length(), Some(100_003));
    let bytes = resp.bytes()?;
    assert_eq!(bytes.as_ref(), expected_output(&id, 100_003).as_slice());
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].header("x-api-key"), None);
    assert_eq!(log[0].path, format!("/outputs/{id}.mp4"));
    // Wrong extension or unknown job.
    assert_eq!(http().get(format!("{}/outputs/{id}.webm", sim.base_url())).send()?.status(), 404);
    assert_eq!(http().get(format!("{}/outputs/job_9.mp4", sim.base_url())).send()?.status(), 404);
    Ok(())
}

#[test]
fn faults_that_do_not_apply_the_request() -> TestResult {
    let sim = Simulator::start()?;
    let body = json!({"video_url": "https://x/a.mp4"});
    let c = http();
    let send = || c.post(format!("{}/v1/jobs", sim.base_url())).header("X-Api-Key", sim.api_key()).json(&body).send();

    sim.inject(FaultRule::new(Fault::Status(503)).method("post").path_prefix("/v1/jobs"));
    assert_error(&parts(send()?), 503, "internal_error");

    sim.inject(FaultRule::new(Fault::RateLimited { retry_after: 7 }));
    let r = send()?;
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    assert_error(&parts(r), 429, "rate_limited");

    sim.inject(FaultRule::new(Fault::HtmlPage(502)));
    let r = send()?;
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/html"));
    assert!(r.headers().get("x-request-id").is_some());
    assert!(r.text()?.contains("502 Bad Gateway"));

    sim.inject(FaultRule::new(Fault::EmptyBody(500)));
    let r = send()?;
    assert_eq!(r.status(), 500);
    assert!(r.bytes()?.is_empty());

    sim.inject(FaultRule::new(Fault::MessageOnly(500)));
    let (s, _, v) = parts(send()?);
    assert_eq!(s, 500);
    assert!(v["message"].is_string() && v.get("error").is_none(), "{v}");

    sim.inject(FaultRule::new(Fault::TruncatedJson));
    let r = send()?;
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_slice::<Value>(&r.bytes()?).is_err());

    assert_eq!(sim.job_count(), 0, "no faulted POST may create a job");
    assert_eq!(sim.requests().len(), 6, "faulted requests are recorded");
    // The queue is empty again: the next request is answered normally.
    assert_eq!(parts(send()?).0, 200);
    assert_eq!(sim.job_count(), 1);
    Ok(())
}

#[test]
fn fault_matching_times_and_scope() -> TestResult {
    let sim = Simulator::builder().polls_to_complete(0).start()?;
    sim.inject(FaultRule::new(Fault::Status(500)).method("GET").path_prefix("/v1/jobs/").times(2));
    let id = create(&sim, &json!({"video_url": "https://x/a.mp4"}));
    assert_error(&get(&sim, &format!("/v1/jobs/{id}")), 500, "internal_error");
    assert_eq!(get(&sim, "/health").0, 200, "other paths are not hit");
    assert_error(&get(&sim, &format!("/v1/jobs/{id}")), 500, "internal_error");
    assert_eq!(get(&sim, &format!("/v1/jobs/{id}")).0, 200, "used up after two");

    // Outputs are never faulted.
    sim.inject(FaultRule::new(Fault::Status(503)));
    let out = http().get(format!("{}/outputs/{id}.webm", sim.base_url())).send()?;
    assert_eq!(out.status(), 200);
    assert_error(&get(&sim, "/health"), 503, "internal_error");
    // Cleared rules do nothing.
    sim.inject(FaultRule::new(Fault::Status(503)));
    sim.clear_faults();
    assert_eq!(get(&sim, "/health").0, 200);
    Ok(())
}

#[test]
fn delay_and_status_after_applying_take_effect() -> TestResult {
    let sim = Simulator::start()?;
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_millis(20))).path_prefix("/v1/jobs"));
    let (s, _, v) = post(&sim, "/v1/jobs", &json!({"video_url": "https://x/a.mp4"}));
    assert_eq!((s, v["status"].clone()), (200, json!("processing")));

    sim.inject(FaultRule::new(Fault::StatusAfterApplying(500)).method("POST"));
    assert_error(&post(&sim, "/v1/jobs", &json!({"video_url": "https://x/b.mp4"})), 500, "internal_error");
    assert_eq!(sim.job_count(), 2, "the POST was executed before the error");
    let (_, _, listed) = get(&sim, "/v1/jobs?limit=1");
    assert_eq!(listed["items"][0]["video_url"], "https://x/b.mp4");
    Ok(())
}

#[test]
fn signed_webhooks_reach_a_loopback_receiver() {
    let receiver = WebhookReceiver::start();
    let sim = Simulator::builder().polls_to_complete(1).start().expect("start");
    let id = create(&sim, &json!({"video_url": "https://x/a.mp4", "webhook_url": receiver.url}));
    // Delivered in the background: settling waits for it.
    sim.settle();
    assert_eq!(receiver.received().len(), 1);
    get(&sim, &format!("/v1/jobs/{id}"));
    sim.settle();
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 2);
    let events: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(events, ["job.started", "job.completed"]);
    assert_ne!(deliveries[0].delivery_id, deliveries[1].delivery_id);
    for (d, received) in deliveries.iter().zip(&got) {
        let body = &received.body;
        assert_eq!(d.outcome, Ok(200));
        assert_eq!(d.url, receiver.url);
        assert_eq!(&d.body, body);
        assert_eq!(received.header(removebgvideo::webhook::HEADER_EVENT), Some(d.event.as_str()));
        assert_eq!(received.header(removebgvideo::webhook::HEADER_DELIVERY_ID), Some(d.delivery_id.as_str()));
        let ts = received.header(removebgvideo::webhook::HEADER_TIMESTAMP).expect("timestamp");
        assert_eq!(ts, d.timestamp);
        assert_iso_utc(ts);
        let expected = hmac_signature("sim_webhook_secret", ts, body);
        assert_eq!(received.header(removebgvideo::webhook::HEADER_SIGNATURE), Some(expected.as_str()));
        assert_eq!(d.signature.as_deref(), Some(expected.as_str()));
        assert_eq!(received.header("content-type"), Some("application/json"));
    }
    let started: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(started["event"], "job.started");
    let data = &started["data"];
    assert_eq!((&data["id"], &data["status"], &data["progress"]), (&json!(id), &json!("processing"), &json!(0)));
    assert_eq!((&data["output_url"], &data["error"]), (&Value::Null, &Value::Null));
    let done: Value = serde_json::from_slice(&got[1].body).expect("json");
    assert_eq!(done["event"], "job.completed");
    assert_eq!(done["data"]["status"], "completed");
    assert_eq!(done["data"]["progress"], 100);
    assert_eq!(done["data"]["output_url"], format!("{}/outputs/{id}.webm", sim.base_url()));
    // The job's own record says how each delivery went.
    let (_, _, job) = get(&sim, &format!("/v1/jobs/{id}"));
    assert_eq!(job["webhook_events"], json!({"job.started": "sent", "job.completed": "sent"}));
}

/// `sha256=` + hex HMAC-SHA256(secret, "<timestamp text>." + body), computed here with the
/// `hmac` crate, independently of the crate's signer.
fn hmac_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `2026-04-20T10:00:00.123Z`: what the simulator writes, as the API does.
fn assert_iso_utc(text: &str) {
    let bytes = text.as_bytes();
    assert_eq!(bytes.len(), 24, "{text}");
    assert!(text.ends_with('Z') && bytes[10] == b'T' && bytes[19] == b'.', "{text}");
    assert!(text.chars().filter(char::is_ascii_digit).count() == 17, "{text}");
}

#[test]
fn unsigned_webhooks_on_start_and_failure() {
    let receiver = WebhookReceiver::start();
    let sim = Simulator::builder().webhook_secret(None).polls_to_complete(1).start().expect("start");
    assert_eq!(sim.webhook_secret(), None);
    let id = create(&sim, &json!({"video_url": "https://x/simulate-failure.mp4", "auto_start": false}));
    assert!(sim.webhook_deliveries().is_empty());
    post(&sim, &format!("/v1/jobs/{id}/start"), &json!({"webhook_url": receiver.url}));
    get(&sim, &format!("/v1/jobs/{id}"));
    sim.settle();
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|received| received.header("x-webhook-signature").is_none()));
    let failed: Value = serde_json::from_slice(&got[1].body).expect("json");
    assert_eq!(failed["event"], "job.failed");
    assert_eq!(failed["data"]["error"], "simulated failure");
    assert!(sim.webhook_deliveries().iter().all(|d| d.signature.is_none()));
}

#[test]
fn non_loopback_webhooks_are_refused_not_sent() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("start");
    let (s, _, v) =
        post(&sim, "/v1/jobs", &json!({"video_url": "https://x/a.mp4", "webhook_url": "http://203.0.113.1/hook"}));
    assert_eq!((s, v["status"].clone()), (200, json!("completed")));
    sim.settle();
    let d = sim.webhook_deliveries();
    assert_eq!(d.len(), 2);
    for d in &d {
        assert_eq!(d.url, "http://203.0.113.1/hook");
        assert_eq!(d.outcome, Err("refused: not a loopback address".to_owned()));
    }
}

#[test]
fn request_log_and_clear() {
    let sim = Simulator::start().expect("start");
    post(&sim, "/v1/jobs?x=1", &json!({"video_url": "https://x/a.mp4"}));
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_deref()), ("POST", "/v1/jobs", Some("x=1")));
    assert_eq!(r.query_param("x").as_deref(), Some("1"));
    assert_eq!(r.header("X-API-KEY"), Some("sim_test_key"));
    assert_eq!(r.json(), Some(json!({"video_url": "https://x/a.mp4"})));
    assert_eq!(r.body_len, r.body.len() as u64);
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[test]
fn custom_credentials_and_concurrency() {
    let sim = Simulator::builder().api_key("k1").admin_token("t1").worker_threads(8).start().expect("start");
    assert_eq!((sim.api_key(), sim.admin_token()), ("k1", "t1"));
    let handles: Vec<_> = (0..32)
        .map(|i| {
            let base = sim.base_url().to_owned();
            std::thread::spawn(move || {
                http()
                    .post(format!("{base}/v1/jobs"))
                    .header("X-Api-Key", "k1")
                    .json(&json!({"video_url": format!("https://x/{i}.mp4")}))
                    .send()
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("join").expect("send"), 200);
    }
    assert_eq!(sim.job_count(), 32);
    assert_eq!(admin_get(&sim, "/v1/admin/config").0, 200);
}

#[test]
fn shutdown_is_clean_even_with_a_pending_delay() {
    let sim = Simulator::start().expect("start");
    let base = sim.base_url().to_owned();
    assert_eq!(http().get(format!("{base}/health")).send().expect("send").status(), 200);
    // A long delay is cut short by shutdown.
    sim.inject(FaultRule::new(Fault::Delay(Duration::from_secs(3600))));
    let client = http();
    let b2 = base.clone();
    let pending = std::thread::spawn(move || client.get(format!("{b2}/health")).send().map(|r| r.status().as_u16()));
    // Wait until the delayed request has been read (no sleeps).
    while sim.requests().len() < 2 {
        std::thread::yield_now();
    }
    sim.shutdown();
    let _ = pending.join().expect("join");
    assert!(http().get(format!("{base}/health")).timeout(Duration::from_secs(5)).send().is_err());
}

#[test]
fn the_export_line_names_the_url_the_key_and_the_token() {
    let sim = Simulator::builder().api_key("k1").admin_token("t1").start().unwrap();
    assert_eq!(
        sim.export_line(),
        format!(
            "export REMOVEBGVIDEO_API_KEY=k1 REMOVEBGVIDEO_BASE_URL={} REMOVEBGVIDEO_ADMIN_TOKEN=t1",
            sim.base_url()
        )
    );
}
