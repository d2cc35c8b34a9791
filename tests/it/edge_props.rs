//! No panic at the edges: any duration, count or size a caller can give the builder, the retry
//! policy or the wait options is accepted or refused with a typed error, and a client built
//! from any accepted settings makes a call. Proptest picks the values, extremes included.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use removebgvideo::clock::ManualClock;
use removebgvideo::{Client, Error, RetryPolicy, WaitOptions};

use crate::support::wire::WireServer;

/// A keep-alive server that answers every request with a completed job, or a 503 for paths
/// with `busy` in them.
fn server() -> &'static str {
    static SERVER: OnceLock<WireServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            WireServer::builder().keep_alive().serve(|request, stream| {
                let (status, body) = if request.target().contains("busy") {
                    ("503 Service Unavailable", r#"{"error":{"message":"busy"}}"#)
                } else {
                    ("200 OK", r#"{"id":"job_1","status":"completed","progress":100}"#)
                };
                let answer = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                let _ = stream.write_all(answer.as_bytes());
            })
        })
        .url()
}

/// One client for every wait case (building one per case would cost more than the waits): its
/// pauses go to a ManualClock, so none is slept.
fn waiting_client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder("key").base_url(server()).clock(ManualClock::new()).build().unwrap())
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        Just(Duration::from_nanos(1)),
        (0u64..100_000).prop_map(Duration::from_millis),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(secs, nanos)| Duration::new(secs, nanos)),
    ]
}

fn any_count() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(u32::MAX), 0u32..5, any::<u32>()]
}

fn any_size() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), Just(Some(0)), Just(Some(u64::MAX)), any::<u64>().prop_map(Some)]
}

proptest! {
    #![proptest_config(crate::support::props(48, "proptest-regressions/it/edge_props.txt"))]

    #[test]
    fn any_builder_settings_build_or_are_refused_and_a_built_client_calls(
        timeout in any_duration(),
        connect_timeout in any_duration(),
        stall_timeout in any_duration(),
        transfer_timeout in any_duration(),
        max_retries in any_count(),
        max_upload_size in any_size(),
        initial_backoff in any_duration(),
        max_backoff in any_duration(),
        max_retry_after in any_duration(),
    ) {
        let policy = RetryPolicy::default()
            .with_initial_backoff(initial_backoff)
            .with_max_backoff(max_backoff)
            .with_max_retry_after(max_retry_after);
        let built = Client::builder("key")
            .base_url(server())
            .max_retries(max_retries)
            .retry_policy(policy)
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .stall_timeout(stall_timeout)
            .transfer_timeout(transfer_timeout)
            .max_upload_size(max_upload_size)
            .clock(ManualClock::new())
            .build();
        let zero = [timeout, connect_timeout, stall_timeout, transfer_timeout].contains(&Duration::ZERO);
        match built {
            Ok(client) => {
                prop_assert!(!zero);
                // Only a limit too short for a local answer may fail the call, as a timeout.
                let too_short = timeout.min(connect_timeout) < Duration::from_secs(1);
                match client.get_job("job_1") {
                    Ok(job) => prop_assert_eq!(job.id, "job_1"),
                    Err(error) => prop_assert!(too_short && error.is_timeout(), "{:?}", error),
                }
                // A call that keeps failing ends after the retries, whatever the backoff.
                if max_retries < 4 {
                    let error = client.get_job("busy").unwrap_err();
                    let busy = error.status().map(|s| s.as_u16()) == Some(503);
                    prop_assert!(busy || (too_short && error.is_timeout()), "{:?}", error);
                }
            }
            Err(Error::InvalidInput { .. }) => prop_assert!(zero),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn any_retry_policy_gives_a_bounded_backoff(
        initial in any_duration(), max in any_duration(), retry in any::<u32>(),
    ) {
        let range = RetryPolicy::default().with_initial_backoff(initial).with_max_backoff(max).backoff_range(retry);
        prop_assert!(range.start() <= range.end());
        prop_assert!(*range.end() <= max);
        prop_assert!(*range.end() <= initial.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1))));
    }

    #[test]
    fn any_wait_options_poll_or_are_refused(
        interval in any_duration(),
        timeout in any_duration(),
        factor in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-2.0), Just(0.0), Just(1.0), Just(f64::MAX), any::<f64>()],
        max_interval in any_duration(),
        with_backoff in any::<bool>(),
    ) {
        let client = waiting_client();
        let mut options = WaitOptions::default().interval(interval).timeout(timeout);
        if with_backoff {
            options = options.backoff(factor, max_interval);
        }
        let refused = interval.is_zero() || (with_backoff && !(factor.is_finite() && factor >= 1.0));
        match client.wait_for_completion("job_1", options) {
            Ok(job) => prop_assert!(!refused && job.id == "job_1"),
            Err(Error::InvalidInput { .. }) => prop_assert!(refused),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

/// The soak run (`cargo test -- --ignored`): the properties above again, each round with
/// fresh random cases.
#[test]
#[ignore = "soak run: cargo test -- --ignored"]
fn soak() {
    for _ in 0..crate::support::SOAK_ROUNDS {
        any_builder_settings_build_or_are_refused_and_a_built_client_calls();
        any_retry_policy_gives_a_bounded_backoff();
        any_wait_options_poll_or_are_refused();
    }
}
