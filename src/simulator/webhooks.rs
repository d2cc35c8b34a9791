//! Webhook deliveries: signing, the loopback-only guard, the delivery log, retries with backoff,
//! and the background thread that moves jobs with the clock and hands due deliveries to the
//! simulator's runtime: one at a time per receiver (so each sees its events in order), many
//! receivers at once.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::delivery::{Outgoing, PendingDelivery, WebhookDelivery};
use super::lock::lock;
use super::shared::Shared;
use crate::timestamp::format_iso8601;
use crate::webhook::{HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// How long one delivery may take, connection included.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to a receiver may take: a receiver on loopback that is down refuses at
/// once; one that does not accept is given up quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The most bytes read of a receiver's answer.
const MAX_ANSWER: usize = 64 * 1024;

/// Deliveries made at once, to different receivers.
const POOL: usize = 16;

/// The wait before the first retry; each later one doubles it, up to [`MAX_BACKOFF`].
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest wait between two tries of a delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long the background thread waits with nothing due on a real clock: a bound, so that a
/// clock whose pace the simulator cannot see (a paused tokio clock) is still looked at.
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// The recorded outcome of a delivery the simulator did not attempt because of its host.
pub(crate) const REFUSED: &str = "refused: not a loopback address";

/// The webhook client: short timeouts, no proxy, no redirects.
pub(crate) fn client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
}

/// The background thread: moves jobs as the clock passes (a real clock; a manual one moves them
/// itself, through [`Shared::tick`]) and hands every delivery that can go to the runtime,
/// where each is made, recorded and (on failure) queued again under the same delivery id.
pub(crate) fn run(shared: &Arc<Shared>) {
    let pool = Arc::new(tokio::sync::Semaphore::new(POOL));
    let mut st = lock(&shared.state);
    loop {
        if shared.stopping() {
            return;
        }
        let now = shared.clock.now();
        st.advance(now, &shared.config.pacing, &shared.base_url);
        let ready = st.take_ready(now);
        st.in_flight += ready.len();
        for o in ready {
            let (shared, pool) = (Arc::clone(shared), Arc::clone(&pool));
            shared.runtime.clone().spawn(async move {
                let _permit = pool.acquire().await;
                let record = deliver(&shared, &o).await;
                finish(&shared, o, record);
            });
        }
        shared.done.notify_all();
        st = if shared.manual_clock {
            // The clock wakes this thread when it moves (`Shared::tick`), and so does every
            // delivery made and every event queued.
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

/// Records an attempt, and queues the next one when it failed and the schedule allows.
fn finish(shared: &Shared, mut o: Outgoing, record: WebhookDelivery) {
    let delivered = record.outcome.as_ref().is_ok_and(|status| (200..300).contains(status));
    let refused = matches!(&record.outcome, Err(why) if why == REFUSED);
    let now = shared.clock.now();
    let first = *o.first_at.get_or_insert(now);
    let backoff = FIRST_RETRY.saturating_mul(1 << (o.attempt - 1).min(16)).min(MAX_BACKOFF);
    let at = crate::clock::deadline(now, backoff);
    let young = at.saturating_duration_since(first) <= shared.config.webhook_max_age;
    let retry = !delivered && !refused && o.attempt <= shared.config.webhook_retries && young;
    let mut st = lock(&shared.state);
    st.record_delivery(&o.delivery.job_id, o.delivery.event, delivered);
    st.log_delivery(record, shared.config.bounds.delivery_log);
    st.busy.remove(&o.delivery.url);
    if retry {
        o.due = Some(at);
        o.attempt += 1;
        st.requeue(o);
    }
    st.in_flight -= 1;
    drop(st);
    shared.changed.notify_all();
    shared.done.notify_all();
}

/// The one place a delivery is signed and made.
async fn deliver(shared: &Shared, o: &Outgoing) -> WebhookDelivery {
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
        match shared.webhook_client.get_or_init(client) {
            None => Err("webhook client could not be built".to_owned()),
            Some(client) => post(client, p, &timestamp, signature.as_deref()).await,
        }
    };
    WebhookDelivery {
        url: p.url.clone(),
        event: p.event.to_owned(),
        delivery_id: p.delivery_id.clone(),
        attempt: o.attempt,
        timestamp,
        body: p.body.to_vec(),
        signature,
        outcome,
    }
}

/// Posts one delivery and reads at most [`MAX_ANSWER`] bytes of the answer.
async fn post(
    client: &reqwest::Client,
    p: &PendingDelivery,
    timestamp: &str,
    signature: Option<&str>,
) -> Result<u16, String> {
    let mut request = client
        .post(&p.url)
        .header("Content-Type", "application/json")
        .header(HEADER_EVENT, p.event)
        .header(HEADER_DELIVERY_ID, &p.delivery_id)
        .header(HEADER_TIMESTAMP, timestamp);
    if let Some(signature) = signature {
        request = request.header(HEADER_SIGNATURE, signature);
    }
    let mut answer = request.body(p.body.to_vec()).send().await.map_err(|e| format!("delivery failed: {e}"))?;
    let status = answer.status().as_u16();
    // Read (a bounded part of) the answer so a short one finishes the exchange cleanly; its
    // content does not matter.
    let mut read = 0;
    while read < MAX_ANSWER {
        match answer.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(status)
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
