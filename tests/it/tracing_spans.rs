//! The `tracing` feature: one span per HTTP attempt with method, route, attempt, status,
//! duration and request id, and never a credential.
#![cfg(feature = "tracing")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use removebgvideo::simulator::{Fault, FaultRule, Simulator};
use removebgvideo::{clock::ManualClock, AdminClient};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Everything the subscriber writes, for assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `calls` with a DEBUG subscriber on this thread and returns what it logged.
fn logged(calls: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = subscriber.set_default();
    calls();
    drop(guard);
    captured.text()
}

#[test]
fn each_attempt_is_a_span_with_route_status_attempt_and_request_id() {
    let sim = Simulator::start().unwrap();
    let client = sim.client_builder().clock(ManualClock::new()).build().unwrap();
    sim.inject(FaultRule::new(Fault::Status(503)).path_prefix("/v1/jobs/").times(1));

    let log = logged(|| {
        let error = client.get_job("job_missing").unwrap_err();
        assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    });

    let spans: Vec<&str> = log.lines().filter(|line| line.contains("removebgvideo.request")).collect();
    // The first attempt met the injected 503; the retry found no such job.
    assert!(spans.iter().any(|line| line.contains("attempt=1") && line.contains("status=503")), "{log}");
    assert!(spans.iter().any(|line| line.contains("attempt=2") && line.contains("status=404")), "{log}");
    assert!(spans.iter().all(|line| line.contains("method=GET") && line.contains(r#"route="/v1/jobs/{id}""#)), "{log}");
    assert!(spans.iter().any(|line| line.contains("request_id=")), "{log}");
    assert!(log.contains("duration_ms="), "{log}");
    // The route is a template: the id stays out of the span.
    assert!(!log.contains("job_missing"), "{log}");
}

#[test]
fn no_credential_is_ever_logged() {
    let sim =
        Simulator::builder().api_key("sk_live_key_that_must_not_leak").admin_token("adm_token_secret").start().unwrap();
    let client = sim.client().unwrap();
    let admin = AdminClient::builder(sim.admin_token()).base_url(sim.base_url()).build().unwrap();

    let log = logged(|| {
        client.health().unwrap();
        client.list_jobs(&removebgvideo::models::ListJobs::default()).unwrap();
        let created = admin.create_key(&removebgvideo::models::CreateKey::new("tracing-test")).unwrap();
        assert!(!created.api_key.expose().is_empty());
        admin.list_keys().unwrap();
    });

    assert!(log.matches("removebgvideo.request").count() >= 4, "{log}");
    assert!(!log.contains("sk_live_key_that_must_not_leak"), "{log}");
    assert!(!log.contains("adm_token_secret"), "{log}");
}
