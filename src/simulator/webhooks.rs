//! Webhook deliveries: signing, the loopback-only guard, the delivery log, retries with backoff,
//! and the background thread that moves jobs with the clock and makes the deliveries.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::state::lock;
use super::Shared;
use crate::timestamp::format_iso8601;
use crate::webhook::{HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The wait before the first retry; each later one doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// How long the background thread waits with nothing due on a real clock: a bound, so that a
/// clock whose pace the simulator cannot see (a paused tokio clock) is still looked at.
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// The recorded outcome of a delivery the simulator did not attempt because of its host.
pub(crate) const REFUSED: &str = "refused: not a loopback address";

/// One webhook delivery attempt the simulator made (or refused), kept in
/// [`Simulator::webhook_deliveries`](super::Simulator::webhook_deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The job's `webhook_url`.
    pub url: String,
    /// The event: `job.started`, `job.completed` or `job.failed`.
    pub event: String,
    /// The `X-Webhook-Delivery-Id` sent: one per event, the same on every retry of it.
    pub delivery_id: String,
    /// Which attempt this was: 1 for the first, 2 for the first retry, ...
    pub attempt: u32,
    /// The `X-Webhook-Timestamp` sent: an ISO 8601 UTC time such as
    /// `2026-04-20T10:00:00.123Z`, as the API writes it. The signature covers this text.
    pub timestamp: String,
    /// The raw JSON body sent: `{"event": ..., "data": {the job}}`.
    pub body: Vec<u8>,
    /// The `X-Webhook-Signature` sent, `None` when the simulator has no webhook secret.
    pub signature: Option<String>,
    /// The receiver's HTTP status, or why the delivery failed or was refused
    /// (`"refused: not a loopback address"` for any host outside 127.0.0.0/8, `localhost`, `[::1]`).
    pub outcome: Result<u16, String>,
}

/// A delivery decided under the state lock, made after it is released.
#[derive(Debug, Clone)]
pub(crate) struct PendingDelivery {
    pub(crate) url: String,
    pub(crate) event: &'static str,
    pub(crate) job_id: String,
    pub(crate) delivery_id: String,
    pub(crate) body: Vec<u8>,
}

/// A delivery in the outbox: due at once (`None`) or at an instant of the simulator's clock.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) delivery: PendingDelivery,
    pub(crate) due: Option<Instant>,
    pub(crate) attempt: u32,
}

impl Outgoing {
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        self.due.is_none_or(|due| due <= now)
    }
}

/// The background thread: moves jobs as the clock passes (a real clock; a manual one moves them
/// itself, through [`Shared::tick`]) and makes every due delivery, in order, retrying a failed
/// one later under the same delivery id.
///
/// Deliveries run on async reqwest driven by a current-thread runtime owned by this thread: no
/// runtime object ever reaches a caller's thread, so a simulator started, used and dropped
/// inside `#[tokio::test]` never meets tokio's "cannot drop a runtime in an async context".
pub(crate) fn run(shared: &Arc<Shared>) {
    let sender = Sender::new();
    let mut st = lock(&shared.state);
    loop {
        if shared.stopping() {
            return;
        }
        let now = shared.clock.now();
        st.advance(now, &shared.config.pacing, &shared.base_url);
        let mut due = Vec::new();
        let mut kept = std::collections::VecDeque::with_capacity(st.outbox.len());
        while let Some(o) = st.outbox.pop_front() {
            if o.is_due(now) {
                due.push(o);
            } else {
                kept.push_back(o);
            }
        }
        st.outbox = kept;
        if !due.is_empty() {
            st.in_flight += due.len();
            drop(st);
            for o in due {
                let record = deliver(shared, sender.as_ref(), &o);
                let delivered = record.outcome.as_ref().is_ok_and(|status| (200..300).contains(status));
                let refused = matches!(&record.outcome, Err(why) if why == REFUSED);
                let retry = !delivered && !refused && o.attempt <= shared.config.webhook_retries;
                let mut st = lock(&shared.state);
                st.record_delivery(&o.delivery.job_id, o.delivery.event, delivered);
                st.deliveries.push(record);
                if retry {
                    let backoff = FIRST_RETRY.saturating_mul(1 << (o.attempt - 1).min(16));
                    let at = crate::clock::deadline(shared.clock.now(), backoff);
                    st.outbox.push_back(Outgoing { delivery: o.delivery, due: Some(at), attempt: o.attempt + 1 });
                }
                st.in_flight -= 1;
                shared.done.notify_all();
            }
            st = lock(&shared.state);
            continue;
        }
        shared.done.notify_all();
        st = if shared.manual_clock {
            // The clock wakes this thread when it moves (`Shared::tick`); nothing else is due.
            shared.changed.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner)
        } else {
            let next = [st.next_finish(), st.outbox.iter().filter_map(|o| o.due).min()].into_iter().flatten().min();
            let wait = next
                .map_or(IDLE_WAIT, |at| at.saturating_duration_since(now))
                .clamp(Duration::from_millis(1), IDLE_WAIT);
            shared.changed.wait_timeout(st, wait).unwrap_or_else(std::sync::PoisonError::into_inner).0
        };
    }
}

/// The one place a delivery is signed.
fn deliver(shared: &Shared, sender: Option<&Sender>, o: &Outgoing) -> WebhookDelivery {
    let p = &o.delivery;
    let timestamp = format_iso8601(SystemTime::now());
    let signature = shared
        .config
        .webhook_secret
        .as_deref()
        .and_then(|secret| crate::webhook::sign(secret, &timestamp, &p.body).ok());
    let outcome = if !is_loopback_url(&p.url) {
        Err(REFUSED.to_owned())
    } else {
        match sender {
            None => Err("webhook client could not be built".to_owned()),
            Some(sender) => sender.post(p, &timestamp, signature.as_deref()),
        }
    };
    WebhookDelivery {
        url: p.url.clone(),
        event: p.event.to_owned(),
        delivery_id: p.delivery_id.clone(),
        attempt: o.attempt,
        timestamp,
        body: p.body.clone(),
        signature,
        outcome,
    }
}

/// An async client and the current-thread runtime that drives it.
struct Sender {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Sender {
    /// Short timeouts, no proxy, no redirects.
    fn new() -> Option<Sender> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let client = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        Some(Sender { runtime, client })
    }

    fn post(&self, p: &PendingDelivery, timestamp: &str, signature: Option<&str>) -> Result<u16, String> {
        let mut request = self
            .client
            .post(&p.url)
            .header("Content-Type", "application/json")
            .header(HEADER_EVENT, p.event)
            .header(HEADER_DELIVERY_ID, &p.delivery_id)
            .header(HEADER_TIMESTAMP, timestamp);
        if let Some(signature) = signature {
            request = request.header(HEADER_SIGNATURE, signature);
        }
        let request = request.body(p.body.clone());
        self.runtime.block_on(async move {
            let answer = request.send().await.map_err(|e| format!("delivery failed: {e}"))?;
            let status = answer.status().as_u16();
            // Read the body so the connection finishes cleanly; its content does not matter.
            let _ = answer.bytes().await;
            Ok(status)
        })
    }
}

/// Whether `url` is an `http(s)` URL whose host is 127.0.0.0/8, `localhost` or `[::1]`.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        // Userinfo makes the host ambiguous to humans; refuse it.
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, rest)) if rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port) => {
                return h.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
            }
            _ => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return false,
            None => authority,
        }
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // Only dotted-quad IPv4 literals count (no `127.1`-style shorthand).
    host.split('.').count() == 4 && host.parse::<IpAddr>().is_ok_and(|a| a.is_ipv4() && a.is_loopback())
}

fn is_port(digits: &str) -> bool {
    !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn loopback_guard() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://127.1.2.3/hook",
            "http://localhost:9/x",
            "http://LOCALHOST/x",
            "http://[::1]:8080/x",
            "https://127.0.0.1",
        ] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "http://203.0.113.1/hook",
            "http://example.com/hook",
            "http://127.0.0.1.example.com/x",
            "http://user@127.0.0.1/x",
            "ftp://127.0.0.1/x",
            "http://[::2]/x",
            "http://127.0.0.1:abc/x",
            "127.0.0.1/x",
            "http://10.0.0.1/x",
            "http://127.1/x",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }
}
