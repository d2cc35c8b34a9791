//! Production glue: per-call options, one back-off for every caller, the attempt observer.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use removebgvideo::client::{AttemptInfo, RequestOptions};
use removebgvideo::clock::{Clock, ManualClock, Sleep};
use removebgvideo::{AsyncClient, Client, Error, RetryPolicy};

use crate::support::wire::WireServer;

const KEY: &str = "sk_test_production";
const RUNNING: &str = r#"{"id":"job_1","status":"processing","progress":40}"#;

/// A clock whose pauses last until the test moves it: with it a test can see which tasks are
/// held, and that no request goes before the clock is moved.
#[derive(Debug, Clone)]
pub(crate) struct HeldClock(Arc<HeldState>);

#[derive(Debug)]
struct HeldState {
    start: Instant,
    inner: Mutex<Held>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Held {
    elapsed: Duration,
    /// Every pause asked for, in order.
    asked: Vec<Duration>,
    sleepers: usize,
    wakers: Vec<Waker>,
}

impl HeldClock {
    pub(crate) fn new() -> Self {
        Self(Arc::new(HeldState { start: Instant::now(), inner: Mutex::default(), changed: Condvar::new() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn advance(&self, by: Duration) {
        let wakers = {
            let mut held = self.lock();
            held.elapsed += by;
            std::mem::take(&mut held.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        self.0.changed.notify_all();
    }

    /// Waits (30 s at most, a bound against a hang, not a synchronisation) until `count` pauses
    /// are pending; false when they never are.
    fn until_sleeping(&self, count: usize) -> bool {
        let held = self.lock();
        let (held, _) = self
            .0
            .changed
            .wait_timeout_while(held, Duration::from_secs(10), |held| held.sleepers < count)
            .unwrap_or_else(PoisonError::into_inner);
        held.sleepers >= count
    }

    fn sleepers(&self) -> usize {
        self.lock().sleepers
    }

    /// Waits (30 s at most) until `count` pauses were asked for in all, and returns them.
    pub(crate) fn until_asked(&self, count: usize) -> Vec<Duration> {
        let held = self.lock();
        let (held, _) = self
            .0
            .changed
            .wait_timeout_while(held, Duration::from_secs(30), |held| held.asked.len() < count)
            .unwrap_or_else(PoisonError::into_inner);
        held.asked.clone()
    }
}

struct HeldSleep {
    clock: HeldClock,
    until: Instant,
    counted: bool,
}

impl Future for HeldSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut held = this.clock.lock();
        if this.clock.0.start + held.elapsed >= this.until {
            if this.counted {
                held.sleepers -= 1;
                this.counted = false;
            }
            return Poll::Ready(());
        }
        held.wakers.push(context.waker().clone());
        if !this.counted {
            held.sleepers += 1;
            this.counted = true;
            drop(held);
            this.clock.0.changed.notify_all();
        }
        Poll::Pending
    }
}

impl Drop for HeldSleep {
    fn drop(&mut self) {
        if self.counted {
            self.clock.lock().sleepers -= 1;
        }
    }
}

impl Clock for HeldClock {
    fn now(&self) -> Instant {
        self.0.start + self.lock().elapsed
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        // The end is fixed with the pause recorded, under one lock: a test that moves the clock
        // as soon as it sees the pause moves it past this end.
        let until = {
            let mut held = self.lock();
            held.asked.push(duration);
            let now = self.0.start + held.elapsed;
            now.checked_add(duration).unwrap_or_else(|| now + Duration::from_secs(1 << 40))
        };
        self.0.changed.notify_all();
        Box::pin(HeldSleep { clock: self.clone(), until, counted: false })
    }
}

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
