//! Webhook deliveries: signing, the loopback-only guard, the delivery log, and the HTTP client
//! that makes them.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use super::state::lock;
use super::Shared;
use crate::timestamp::format_iso8601;
use crate::webhook::{HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The recorded outcome of a delivery the simulator did not attempt because of its host.
pub(crate) const REFUSED: &str = "refused: not a loopback address";

/// One webhook delivery the simulator made (or refused), kept in
/// [`Simulator::webhook_deliveries`](super::Simulator::webhook_deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The job's `webhook_url`.
    pub url: String,
    /// The event: `job.started`, `job.completed` or `job.failed`.
    pub event: String,
    /// The `X-Webhook-Delivery-Id` sent (unique per delivery).
    pub delivery_id: String,
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

/// Makes the deliveries in order, before returning, and records each one.
///
/// They run on async reqwest driven by a current-thread runtime made here, on the simulator's
/// worker thread, and dropped before returning: no runtime object ever reaches the caller's
/// thread, so a simulator started, used and dropped inside `#[tokio::test]` never meets tokio's
/// "cannot drop a runtime in an async context" panic.
pub(crate) fn deliver_all(shared: &Shared, pending: Vec<PendingDelivery>) {
    if pending.is_empty() {
        return;
    }
    let sender = Sender::new();
    for p in pending {
        let (job_id, event) = (p.job_id.clone(), p.event);
        let record = deliver(shared, sender.as_ref(), p);
        let mut st = lock(&shared.state);
        st.record_delivery(&job_id, event, record.outcome.as_ref().is_ok_and(|status| (200..300).contains(status)));
        st.deliveries.push(record);
    }
}

/// The one place a delivery is signed.
fn deliver(shared: &Shared, sender: Option<&Sender>, p: PendingDelivery) -> WebhookDelivery {
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
            Some(sender) => sender.post(&p, &timestamp, signature.as_deref()),
        }
    };
    WebhookDelivery {
        url: p.url,
        event: p.event.to_owned(),
        delivery_id: p.delivery_id,
        timestamp,
        body: p.body,
        signature,
        outcome,
    }
}

/// An async client and the current-thread runtime that drives it, for one batch of deliveries.
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
