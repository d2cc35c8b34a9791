//! The simulator as a server people run in CI: bounded connections, logs and
//! uploads; upload links that need their token; webhooks concurrent across receivers and in
//! order for each; credentials that cannot be empty; the documented legacy routes, codes and
//! shapes; HTTP framing left to hyper.
//!
//! No test sleeps: a `ManualClock` moves time, channels say when a receiver saw something, and
//! a closed connection is seen as the end of its stream.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::{output_asset, Fault, FaultRule, Simulator};
use reqwest::blocking::multipart;
use serde_json::{json, Value};

use crate::support::sim_http::{call, http};
use crate::support::webhook_receiver::WebhookReceiver;
use crate::support::wire::{exchange, Act, WireServer};

/// A guard against a hung test, never a timing assertion.
const GUARD: Duration = Duration::from_secs(10);

/// One client for the module (building one loads the TLS roots, which takes a while).
fn address(sim: &Simulator) -> String {
    sim.base_url().trim_start_matches("http://").to_owned()
}

fn upload(sim: &Simulator, path: &str, key: Option<&str>, bytes: Vec<u8>, name: &str) -> (u16, Value) {
    let part = multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str("video/mp4").expect("mime");
    let mut request =
        http().post(format!("{}{path}", sim.base_url())).multipart(multipart::Form::new().part("file", part));
    if let Some(key) = key {
        request = request.header("X-Api-Key", key);
    }
    let answer = request.send().expect("send");
    let status = answer.status().as_u16();
    (status, answer.json().unwrap_or(Value::Null))
}

fn fetch(url: &str) -> (u16, Vec<u8>) {
    let answer = http().get(url).send().expect("send");
    (answer.status().as_u16(), answer.bytes().expect("bytes").to_vec())
}

/// Sends raw bytes on a new connection and reads until the server closes it.
fn raw(sim: &Simulator, request: &str) -> String {
    let mut stream = TcpStream::connect(address(sim)).expect("connect");
    stream.set_read_timeout(Some(GUARD)).expect("guard");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// A connection that made one request and is kept alive, idle.
fn kept_alive(sim: &Simulator) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(address(sim)).expect("connect");
    stream.set_read_timeout(Some(GUARD)).expect("guard");
    let mut stream = BufReader::new(stream);
    let get = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", address(sim));
    assert_eq!(exchange(&mut stream, &get).0, "HTTP/1.1 200 OK");
    stream
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let sim = Simulator::builder().idle_timeout(Duration::from_millis(50)).start().expect("simulator");
    let mut stream = kept_alive(&sim);
    // Kept alive, then idle: the server closes it (a hung read would fail on the guard).
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("closed by the server, not timed out here");
}

#[test]
fn dropping_the_simulator_closes_an_idle_keep_alive_connection_at_once() {
    // An idle timeout of an hour: a drop that waited for it would never come back in time.
    let sim = Simulator::builder().idle_timeout(Duration::from_secs(3600)).start().expect("simulator");
    let mut stream = kept_alive(&sim);
    let (dropped_tx, dropped) = mpsc::channel();
    std::thread::spawn(move || {
        drop(sim);
        let _ = dropped_tx.send(());
    });
    dropped.recv_timeout(GUARD).expect("the drop returned without waiting for the idle connection");
    // Closed cleanly by the server: the end of the stream, not a reset or the guard.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("closed by the server");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[test]
fn timeouts_too_long_for_the_clock_are_kept_at_a_year_not_a_panic() {
    // hyper counts the head's deadline from now: `Duration::MAX` (or `--idle-timeout 1e30`)
    // used to overflow the clock and panic the connection's task on its first request.
    let sim = Simulator::builder().idle_timeout(Duration::MAX).body_timeout(Duration::MAX).start().expect("simulator");
    let mut stream = kept_alive(&sim);
    let get = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", address(&sim));
    assert_eq!(exchange(&mut stream, &get).0, "HTTP/1.1 200 OK", "the connection still serves");
    let body = json!({"video_url": "https://x/a.mp4"});
    assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
}

#[test]
fn a_stalled_request_body_is_answered_408_and_its_connection_closed() {
    let sim = Simulator::builder().body_timeout(Duration::from_millis(50)).start().expect("simulator");
    let mut stream = TcpStream::connect(address(&sim)).expect("connect");
    stream.set_read_timeout(Some(GUARD)).expect("guard");
    // Ten of the hundred announced bytes, then nothing: the body stalls.
    let head = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: {}\r\nX-Api-Key: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"video_ur",
        address(&sim),
        sim.api_key()
    );
    stream.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answered and closed by the server, not timed out here");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    assert_eq!(sim.job_count(), 0, "a request whose body stalled takes no effect");
    // The same with a body that keeps coming, within the timeout between pieces, is served.
    let (status, _) =
        call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&json!({"video_url": "https://example.com/a.mp4"})));
    assert_eq!(status, 200);
}

#[test]
fn a_connection_past_the_cap_is_answered_503_and_closed() {
    let sim = Simulator::builder().max_connections(2).start().expect("simulator");
    let get = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", address(&sim));
    // Two idle keep-alive connections hold both places.
    let held: Vec<BufReader<TcpStream>> = (0..2)
        .map(|_| {
            let mut stream = BufReader::new(TcpStream::connect(address(&sim)).expect("connect"));
            assert_eq!(exchange(&mut stream, &get).0, "HTTP/1.1 200 OK");
            stream
        })
        .collect();
    let refused = raw(&sim, &get);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("\"internal_error\""), "{refused}");
    drop(held);
}

#[test]
fn the_request_and_delivery_logs_keep_only_the_newest_entries() {
    let sim = Simulator::builder().request_log(3).delivery_log(2).polls_to_complete(0).start().expect("simulator");
    for n in 0..5 {
        assert_eq!(call(&sim, "GET", &format!("/health?n={n}"), None, None).0, 200);
    }
    let kept: Vec<Option<String>> = sim.requests().iter().map(|r| r.query_param("n")).collect();
    assert_eq!(kept, [Some("2".into()), Some("3".into()), Some("4".into())]);
    assert_eq!(sim.requests_received(), 5, "the count includes the requests the log dropped");
    sim.clear_requests();
    assert_eq!(sim.requests_received(), 5);

    // Deliveries to a host that is not loopback are refused (and logged) without any network.
    for name in ["a", "b"] {
        let body = json!({"video_url": format!("https://x/{name}.mp4"), "webhook_url": "http://203.0.113.1/hook"});
        assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
    }
    sim.settle();
    let deliveries = sim.webhook_deliveries();
    let video = |body: &[u8]| serde_json::from_slice::<Value>(body).expect("json")["data"]["video_url"].clone();
    let kept: Vec<(&str, Value)> = deliveries.iter().map(|d| (d.event.as_str(), video(&d.body))).collect();
    let b = json!("https://x/b.mp4");
    assert_eq!(kept, [("job.started", b.clone()), ("job.completed", b)], "four made, the newest two kept");
}

#[test]
fn the_request_log_keeps_at_most_64_mib_of_bodies_and_clearing_it_frees_them_all() {
    let sim = Simulator::builder().start().expect("simulator");
    let client = http();
    let body = vec![b'x'; 64 * 1024];
    for n in 0..1025 {
        let url = format!("{}/v1/jobs?n={n}", sim.base_url());
        assert_eq!(client.post(url).body(body.clone()).send().expect("send").status(), 401);
    }
    let kept = sim.requests();
    assert_eq!(kept.len(), 1024, "1,024 bodies of 64 KiB fill the 64 MiB");
    assert_eq!(kept[0].query_param("n").as_deref(), Some("1"), "the oldest went first");

    sim.clear_requests();
    for n in 0..3 {
        assert_eq!(call(&sim, "POST", &format!("/v1/jobs?n={n}"), None, Some(&json!({}))).0, 401);
    }
    assert_eq!(sim.requests().len(), 3, "a cleared log has its whole budget again");
}

#[test]
fn uploads_beyond_the_budget_are_dropped_oldest_first() {
    let sim = Simulator::builder().upload_budget(250).start().expect("simulator");
    let urls: Vec<String> = (0..3u8)
        .map(|n| {
            let (status, answer) = upload(&sim, "/v1/uploads", Some(sim.api_key()), vec![n; 100], "a.mp4");
            assert_eq!(status, 200, "{answer}");
            answer["video_url"].as_str().expect("video_url").to_owned()
        })
        .collect();
    assert_eq!(sim.upload_count(), 3);
    assert_eq!(sim.upload_bytes_kept(), 200);
    assert_eq!(fetch(&urls[0]).0, 404, "the oldest was dropped");
    assert_eq!(fetch(&urls[1]), (200, vec![1; 100]));
    assert_eq!(fetch(&urls[2]), (200, vec![2; 100]));

    // A file larger than the whole budget is accepted and counted, never kept.
    let (status, answer) = upload(&sim, "/v1/uploads", Some(sim.api_key()), vec![9; 300], "big.mp4");
    assert_eq!((status, answer["size"].as_u64()), (200, Some(300)));
    assert_eq!(fetch(answer["video_url"].as_str().expect("url")).0, 404);
    assert_eq!(sim.upload_bytes_kept(), 200);
}

#[test]
fn an_upload_is_served_only_with_its_token_and_ids_reveal_nothing() {
    let sim = Simulator::start().expect("simulator");
    let admin = sim.admin_client().expect("admin");
    let other = admin.create_key(&removebgvideo::models::CreateKey::new("other")).expect("key");
    let (_, mine) = upload(&sim, "/v1/uploads", Some(sim.api_key()), b"mine".to_vec(), "a.mp4");
    let (_, theirs) = upload(&sim, "/v1/uploads", Some(other.api_key.expose()), b"theirs".to_vec(), "a.mp4");
    let url = mine["video_url"].as_str().expect("url");
    assert_eq!(fetch(url), (200, b"mine".to_vec()), "the link itself needs no key");

    let (my_id, their_id) = (mine["video_id"].as_str().expect("id"), theirs["video_id"].as_str().expect("id"));
    assert_ne!(my_id, their_id);
    assert!(![my_id, their_id].contains(&"vid_1") && ![my_id, their_id].contains(&"vid_2"), "not sequential");
    let token = url.rsplit('/').nth(1).expect("token");
    let mut forged = token.to_owned();
    forged.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
    let base = sim.base_url();
    for wrong in [
        url.replace(token, &forged),
        format!("{base}/uploads/{their_id}/{token}/a.mp4"),
        format!("{base}/uploads/1/a.mp4"),
        format!("{base}/uploads/{my_id}/a.mp4"),
    ] {
        assert_eq!(fetch(&wrong).0, 404, "{wrong}");
    }
}

#[test]
fn job_ids_are_random_and_tell_a_tenant_nothing_of_another() {
    let sim = Simulator::start().expect("simulator");
    let admin = sim.admin_client().expect("admin");
    let other = admin.create_key(&removebgvideo::models::CreateKey::new("other")).expect("key");
    let other_key = other.api_key.expose().to_owned();
    let body = json!({"video_url": "https://x/a.mp4"});
    let mut ids = Vec::new();
    for key in [sim.api_key(), other_key.as_str(), sim.api_key()] {
        let (status, made) = call(&sim, "POST", "/v1/jobs", Some(key), Some(&body));
        assert_eq!(status, 200, "{made}");
        ids.push(made["id"].as_str().expect("id").to_owned());
    }
    for id in &ids {
        let digits = id.strip_prefix("job_").expect("job_ prefix");
        assert!(digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    // Neither the tenant's own next id nor the numbering of jobs shows through.
    assert!(!ids.iter().any(|id| id.starts_with("job_000000000000000")), "{ids:?}");
    let (status, answer) = call(&sim, "GET", &format!("/v1/jobs/{}", ids[1]), Some(sim.api_key()), None);
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, _) = call(&sim, "GET", &format!("/v1/jobs/{}", ids[1]), Some(&other_key), None);
    assert_eq!(status, 200);
}

#[test]
fn a_receiver_that_never_answers_does_not_hold_up_another_receivers_events() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    // The dead receiver reads each delivery's head and never answers.
    let dead = WireServer::script(vec![Act::Stall; 8]);
    let dead_url = format!("{}/hook", dead.url());
    let live = WebhookReceiver::start();
    let live_url = live.url.clone();

    let body = json!({"video_url": "https://x/a.mp4", "webhook_url": dead_url});
    assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
    dead.wait_requests(1, GUARD);

    let body = json!({"video_url": "https://x/b.mp4", "webhook_url": live_url});
    assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
    live.wait_for(2, GUARD);
    assert_eq!(live.events(), ["job.started", "job.completed"]);
    // Meanwhile the dead receiver's first delivery is still waiting for its answer.
    assert!(sim.webhook_deliveries().iter().all(|d| d.url == live_url), "{:?}", sim.webhook_deliveries());
}

#[test]
fn a_receivers_endless_answer_is_read_no_further_than_64_kib() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    // The receiver announces a gigabyte and writes until the simulator hangs up.
    const ANNOUNCED: u64 = 1 << 30;
    let endless = Act::Endless {
        head: format!("HTTP/1.1 200 OK\r\nContent-Length: {ANNOUNCED}\r\n\r\n").into_bytes(),
        chunked: false,
        limit: ANNOUNCED,
    };
    let receiver = WireServer::script(vec![endless.clone(), endless]);
    let body = json!({"video_url": "https://x/a.mp4", "webhook_url": format!("{}/hook", receiver.url())});
    assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
    sim.settle();
    let outcomes: Vec<(String, Result<u16, String>)> =
        sim.webhook_deliveries().into_iter().map(|d| (d.event, d.outcome)).collect();
    assert_eq!(outcomes, [("job.started".into(), Ok(200)), ("job.completed".into(), Ok(200))]);
    // Both writers stop once the simulator hangs up.
    receiver.wait_finished(2, GUARD);
    // What the sockets' buffers absorb, and nowhere near the gigabyte.
    let written = receiver.written();
    assert!(written < 64 << 20, "{written} bytes written before the simulator hung up");
}

#[test]
fn a_receiver_down_for_a_minute_gets_every_event_in_order_with_the_defaults() {
    let clock = ManualClock::new();
    let sim = Simulator::builder().clock(clock.clone()).job_seconds(0.0).start().expect("simulator");
    // Down: six refusals (at 0, 1, 3, 7, 15 and 31 s), up again by the try at 61 s.
    let receiver = WebhookReceiver::scripted(&[503; 6]);
    let body = json!({"video_url": "https://x/a.mp4", "webhook_url": receiver.url});
    let (_, created) = call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body));
    sim.settle();
    for _ in 0..70 {
        clock.advance(Duration::from_secs(1));
        sim.settle();
    }
    let events = receiver.events();
    let mut expected = vec!["job.started"; 7];
    expected.push("job.completed");
    assert_eq!(events, expected, "job.completed only after job.started got through");
    let id = created["id"].as_str().expect("id");
    let (_, job) = call(&sim, "GET", &format!("/v1/jobs/{id}"), Some(sim.api_key()), None);
    assert_eq!(job["webhook_events"], json!({"job.started": "sent", "job.completed": "sent"}));
}

#[test]
fn empty_credentials_are_refused_at_start() {
    for builder in [Simulator::builder().api_key(""), Simulator::builder().admin_token("  ")] {
        let error = builder.start().expect_err("an empty credential lets anyone in");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("is empty"), "{error}");
    }
}

#[test]
fn the_legacy_upload_and_process_routes_work_without_a_key() {
    let sim = Simulator::builder().credits(100.0).start().expect("simulator");
    let (status, uploaded) = upload(&sim, "/api/upload", None, b"legacy".to_vec(), "old.mp4");
    assert_eq!(status, 200, "{uploaded}");
    assert_eq!((uploaded["success"].as_bool(), uploaded["size"].as_u64()), (Some(true), Some(6)));
    let video_url = uploaded["video_url"].as_str().expect("video_url");
    assert_eq!(fetch(video_url), (200, b"legacy".to_vec()));

    let (status, processed) = call(&sim, "POST", "/api/process", None, Some(&json!({"video_url": video_url})));
    assert_eq!(status, 200, "{processed}");
    let id = processed["job_id"].as_str().expect("job_id");
    assert_eq!((processed["id"].as_str(), processed["status"].as_str()), (Some(id), Some("processing")));
    // The job is the configured account's: it sees it, and paid for it (10 s of `original`).
    let (status, job) = call(&sim, "GET", &format!("/v1/jobs/{id}"), Some(sim.api_key()), None);
    assert_eq!((status, job["video_url"].as_str()), (200, Some(video_url)));
    assert_eq!(sim.credits_remaining(), 90.0);
    assert_eq!(call(&sim, "POST", "/api/process", None, Some(&json!({}))).0, 400);
}

#[test]
fn a_job_on_an_uploaded_video_lasts_and_costs_what_the_video_lasts() {
    let sim = Simulator::builder().credits(100.0).start().expect("simulator");
    let clip = output_asset("mp4").expect("a real mp4").to_vec();
    let (_, uploaded) = upload(&sim, "/v1/uploads", Some(sim.api_key()), clip, "clip.mp4");
    let video_url = uploaded["video_url"].as_str().expect("video_url");
    let (_, created) = call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&json!({"video_url": video_url})));
    let id = created["id"].as_str().expect("id");
    let (_, job) = call(&sim, "GET", &format!("/v1/jobs/{id}"), Some(sim.api_key()), None);
    assert_eq!(job["duration_seconds"].as_f64(), Some(0.5), "the clip's own half second");
    assert_eq!(sim.credits_remaining(), 99.5, "60 credits a minute for half a second");

    // Any other URL: the configured length.
    let (_, created) =
        call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&json!({"video_url": "https://x/a.mp4"})));
    let (_, job) =
        call(&sim, "GET", &format!("/v1/jobs/{}", created["id"].as_str().expect("id")), Some(sim.api_key()), None);
    assert_eq!(job["duration_seconds"].as_f64(), Some(10.0));
}

#[test]
fn pricing_names_the_documented_packages_and_errors_use_documented_codes() {
    let sim = Simulator::start().expect("simulator");
    let (_, pricing) = call(&sim, "GET", "/api/pricing", None, None);
    let names: Vec<&str> =
        pricing["packages"].as_array().expect("packages").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["Starter", "Pro", "Business"]);

    sim.inject(FaultRule::new(Fault::Timeout).path_prefix("/v1/jobs"));
    sim.inject("status=503,path=/v1/jobs".parse().expect("rule"));
    sim.inject("timeout,path=/v1/jobs".parse().expect("rule"));
    let mut codes = Vec::new();
    for _ in 0..3 {
        let (status, answer) = call(&sim, "GET", "/v1/jobs", Some(sim.api_key()), None);
        codes.push((status, answer["error"]["code"].as_str().unwrap_or_default().to_owned()));
    }
    assert_eq!(codes, [(504, "timeout".into()), (503, "internal_error".into()), (504, "timeout".into())]);

    let documented = ["invalid_request", "missing_api_key", "invalid_api_key", "not_found"];
    let answers = [
        call(&sim, "DELETE", "/v1/jobs", Some(sim.api_key()), None),
        call(&sim, "GET", "/v1/admin/keys", None, None),
        call(&sim, "GET", "/v1/jobs", Some("wrong"), None),
        call(&sim, "GET", "/v1/nothing", None, None),
    ];
    for (answer, code) in answers.iter().zip(documented) {
        assert_eq!(answer.1["error"]["code"], code, "{answer:?}");
    }
}

#[test]
fn the_list_has_no_maximum_limit() {
    let sim = Simulator::builder().polls_to_complete(0).start().expect("simulator");
    for n in 0..120 {
        let body = json!({"video_url": format!("https://x/{n}.mp4")});
        assert_eq!(call(&sim, "POST", "/v1/jobs", Some(sim.api_key()), Some(&body)).0, 200);
    }
    let (status, listed) = call(&sim, "GET", "/v1/jobs?limit=1000000", Some(sim.api_key()), None);
    assert_eq!(status, 200);
    assert_eq!((listed["items"].as_array().map(Vec::len), listed["total"].as_u64()), (Some(120), Some(120)));
}

#[test]
fn only_a_final_chunked_encoding_is_chunked_and_a_bad_chunk_size_answers_400() {
    let sim = Simulator::start().expect("simulator");
    let head = |encoding: &str| {
        format!(
            "POST /v1/jobs HTTP/1.1\r\nHost: {}\r\nX-Api-Key: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: {encoding}\r\n\r\n",
            address(&sim),
            sim.api_key()
        )
    };
    let bad_size = raw(&sim, &format!("{}zz\r\n{{}}\r\n0\r\n\r\n", head("chunked")));
    assert!(bad_size.starts_with("HTTP/1.1 400"), "{bad_size}");
    let not_final = raw(&sim, &format!("{}2\r\n{{}}\r\n0\r\n\r\n", head("chunked, identity")));
    assert!(not_final.starts_with("HTTP/1.1 400"), "{not_final}");
    assert_eq!(sim.job_count(), 0);
}
