//! A client in production: per-call options, one back-off shared by every caller, the attempt
//! observer, the in-flight cap.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use removebgvideo::client::{AttemptInfo, RequestOptions};
use removebgvideo::clock::{Clock, ManualClock, Sleep};
use removebgvideo::{AsyncClient, Client, Error, RetryPolicy};

use crate::support::held_clock::HeldClock;
use crate::support::wire::WireServer;

const KEY: &str = "sk_test_production";
const RUNNING: &str = r#"{"id":"job_1","status":"processing","progress":40}"#;

/// A server on 127.0.0.1 answering the n-th request (0-based) with `answer(n)` (status,
/// headers, body), a thread per connection and one request per connection, recording each
/// request at `clock`'s time.
fn serve(clock: Arc<dyn Clock>, answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> WireServer {
    WireServer::builder().clock(clock).serve(move |request, stream| {
        let (status, extra, body) = answer(request.index);
        let mut reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (name, value) in extra {
            reply.push_str(&format!("{name}: {value}\r\n"));
        }
        reply.push_str("\r\n");
        reply.push_str(&body);
        let _ = stream.write_all(reply.as_bytes()).and_then(|()| stream.flush());
    })
}

type Answer = (u16, Vec<(&'static str, String)>, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_429_pauses_every_task_of_the_client_then_all_complete() {
    let clock = HeldClock::new();
    let server = serve(Arc::new(clock.clone()), |n| match n {
        0 => (429, vec![("retry-after", "2".to_owned())], r#"{"error":"slow down"}"#.to_owned()),
        _ => (200, vec![], RUNNING.to_owned()),
    });
    let (saw_429, limited) = mpsc::channel();
    let saw_429 = Mutex::new(saw_429);
    let client = AsyncClient::builder(KEY)
        .base_url(server.url())
        .clock(clock.clone())
        .on_attempt(move |info| {
            // Told once the client's back-off is set.
            if info.status.map(|s| s.as_u16()) == Some(429) {
                let _ = saw_429.lock().unwrap().send(());
            }
        })
        .build()
        .unwrap();
    let start = clock.now();
    let task = |task: usize| {
        let client = client.with_options(RequestOptions::new().header("X-Task", task.to_string())).unwrap();
        tokio::spawn(async move {
            client.get_job("job_1").await?;
            client.get_job("job_1").await
        })
    };

    // The first task meets the 429; the 63 others start once it has.
    let mut tasks = vec![task(0)];
    limited.recv_timeout(Duration::from_secs(30)).expect("the 429 was seen");
    tasks.extend((1..64).map(task));

    // Every task is held: the first before its retry, the others before their first call.
    assert!(clock.until_sleeping(64), "only {} of 64 tasks were held", clock.sleepers());
    assert_eq!(server.count(), 1, "no request went while the back-off held");
    clock.advance(Duration::from_secs(2));
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    let seen = server.requests();
    assert_eq!(seen.len(), 1 + 64 * 2, "the 429, then two calls per task");
    for request in &seen[1..] {
        assert!(request.at - start >= Duration::from_secs(2), "a request {:?} into the pause", request.at - start);
    }
}

#[test]
fn extra_headers_go_to_api_calls_and_never_replace_the_key() {
    let clock = ManualClock::new();
    let server = serve(Arc::new(clock.clone()), |_| (200, vec![], RUNNING.to_owned()));
    let client = Client::builder(KEY).base_url(server.url()).clock(clock).build().unwrap();
    let traced = client.with_options(RequestOptions::new().header("X-Correlation-Id", "order-7")).unwrap();
    traced.get_job("job_1").unwrap();
    client.get_job("job_1").unwrap();

    let seen = server.requests();
    let header = |n: usize, name: &str| seen[n].header(name).map(str::to_owned);
    assert_eq!(header(0, "x-correlation-id").as_deref(), Some("order-7"));
    assert_eq!(header(0, "x-api-key").as_deref(), Some(KEY));
    assert_eq!(header(1, "x-correlation-id"), None, "the original client is unchanged");

    for name in ["X-Api-Key", "X-Admin-Token", "Content-Type"] {
        let err = client.with_options(RequestOptions::new().header(name, "stolen")).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: "header", .. }), "{name}: {err}");
    }
    let err = client.with_options(RequestOptions::new().header("X-Note", "a\nb")).unwrap_err();
    assert!(err.to_string().contains("control character"), "{err}");
}

#[test]
fn per_call_retry_policy_and_the_attempt_observer() {
    let clock = ManualClock::new();
    let server = serve(Arc::new(clock.clone()), |n| match n {
        0 | 1 => (503, vec![("x-request-id", format!("req_{n}"))], "{}".to_owned()),
        _ => (200, vec![("x-request-id", format!("req_{n}"))], RUNNING.to_owned()),
    });
    let attempts = Arc::new(Mutex::new(Vec::<AttemptInfo>::new()));
    let log = Arc::clone(&attempts);
    let client = Client::builder(KEY)
        .base_url(server.url())
        .clock(clock.clone())
        .on_attempt(move |info| log.lock().unwrap().push(info.clone()))
        .build()
        .unwrap();

    // No retries for this call: the first 503 is the answer.
    let impatient = client.with_options(RequestOptions::new().retry_policy(RetryPolicy::none())).unwrap();
    assert_eq!(impatient.get_job("job_secret_id").unwrap_err().status().map(|s| s.as_u16()), Some(503));
    // The client's own policy retries the next 503.
    client.get_job("job_secret_id").unwrap();

    let attempts = attempts.lock().unwrap().clone();
    let summary: Vec<(u32, Option<u16>, Option<&str>)> =
        attempts.iter().map(|a| (a.attempt, a.status.map(|s| s.as_u16()), a.request_id.as_deref())).collect();
    assert_eq!(summary, [(1, Some(503), Some("req_0")), (1, Some(503), Some("req_1")), (2, Some(200), Some("req_2"))]);
    for attempt in &attempts {
        assert_eq!(attempt.route, "/v1/jobs/{id}");
        assert_eq!(attempt.method, http::Method::GET);
        assert!(!format!("{attempt:?}").contains("job_secret_id") && !format!("{attempt:?}").contains(KEY));
    }
}

#[test]
fn a_failed_connection_is_reported_by_its_kind() {
    let kinds = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&kinds);
    let client = Client::builder(KEY)
        .base_url("http://127.0.0.1:1")
        .clock(ManualClock::new())
        .max_retries(0)
        .on_attempt(move |info| {
            assert_eq!((info.status, info.error), (None, Some("connect")));
            count.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    assert!(client.get_job("job_1").is_err());
    assert_eq!(kinds.load(Ordering::SeqCst), 1);
}

#[test]
fn max_in_flight_zero_is_refused() {
    let err = Client::builder(KEY).max_in_flight(0).build().unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "max_in_flight", .. }), "{err}");
}

/// A clock that counts its reads.
#[derive(Debug, Clone, Default)]
struct CountingClock {
    reads: Arc<AtomicUsize>,
    inner: ManualClock,
}

impl Clock for CountingClock {
    fn now(&self) -> Instant {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.inner.sleep(duration)
    }
}

#[tokio::test]
async fn a_call_with_no_back_off_cap_or_observer_never_reads_the_clock() {
    let server = serve(Arc::new(ManualClock::new()), |n| match n {
        0..=2 => (200, vec![], RUNNING.to_owned()),
        _ => (503, vec![], r#"{"error":"busy"}"#.to_owned()),
    });
    let clock = CountingClock::default();
    let plain = AsyncClient::builder(KEY).base_url(server.url()).clock(clock.clone()).build().unwrap();
    for _ in 0..3 {
        plain.get_job("job_1").await.unwrap();
    }
    assert_eq!(clock.reads.load(Ordering::SeqCst), 0, "nothing to time, nothing read");

    // An observer wants each attempt's duration: its start and its end.
    let observed_clock = CountingClock::default();
    let observed = AsyncClient::builder(KEY)
        .base_url(server.url())
        .clock(observed_clock.clone())
        .max_retries(0)
        .on_attempt(|_| {})
        .build()
        .unwrap();
    assert!(observed.get_job("job_1").await.is_err(), "the 503");
    assert_eq!(observed_clock.reads.load(Ordering::SeqCst), 2, "one attempt, read at its start and end");
}
