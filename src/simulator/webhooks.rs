//! Webhook deliveries: signing, the loopback-only guard, and the delivery log.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use super::state::{lock, now_secs};
use super::Shared;
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
    /// The `X-Webhook-Timestamp` sent (unix seconds).
    pub timestamp: u64,
    /// The raw JSON body sent.
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
    pub(crate) delivery_id: String,
    pub(crate) body: Vec<u8>,
}

/// Makes the deliveries in order, synchronously, and records each one.
pub(crate) fn deliver_all(shared: &Shared, pending: Vec<PendingDelivery>) {
    for p in pending {
        let record = deliver(shared, p);
        lock(&shared.state).deliveries.push(record);
    }
}

fn deliver(shared: &Shared, p: PendingDelivery) -> WebhookDelivery {
    let timestamp = now_secs();
    let signature = shared
        .config
        .webhook_secret
        .as_deref()
        .and_then(|s| crate::webhook::sign(s, &timestamp.to_string(), &p.body).ok());
    let outcome = if !is_loopback_url(&p.url) {
        Err(REFUSED.to_owned())
    } else {
        match shared.webhook_client() {
            None => Err("webhook client could not be built".to_owned()),
            Some(client) => {
                let mut req = client
                    .post(&p.url)
                    .header("Content-Type", "application/json")
                    .header(HEADER_EVENT, p.event)
                    .header(HEADER_DELIVERY_ID, &p.delivery_id)
                    .header(HEADER_TIMESTAMP, timestamp.to_string());
                if let Some(sig) = &signature {
                    req = req.header(HEADER_SIGNATURE, sig);
                }
                req.body(p.body.clone())
                    .send()
                    .map(|r| r.status().as_u16())
                    .map_err(|e| format!("delivery failed: {e}"))
            }
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

/// Builds the client deliveries use: short timeout, no proxy, no redirects.
pub(crate) fn build_client() -> Option<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .connect_timeout(DELIVERY_TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
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
