//! A webhook endpoint on 127.0.0.1 for the tests: it answers 200 (or the statuses it is given)
//! and keeps every request.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use super::wire::{self, WireServer};

/// One webhook request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Every header, as `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Delivery {
    /// The value of the header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on 127.0.0.1:0 that answers 200 and keeps what it got; stopped on drop.
pub struct WebhookReceiver {
    /// The URL to give as a job's `webhook_url`.
    pub url: String,
    server: WireServer,
}

impl WebhookReceiver {
    /// Binds a free port and starts answering.
    pub fn start() -> Self {
        Self::scripted(&[])
    }

    /// Answers the statuses of `script` in turn, then 200 to every later delivery.
    pub fn scripted(script: &[u16]) -> Self {
        let script = Mutex::new(script.iter().rev().copied().collect::<Vec<u16>>());
        let server = WireServer::serve(move |_, stream| {
            let status = script.lock().unwrap().pop().unwrap_or(200);
            let _ = stream.write_all(&wire::answer(&format!("{status} X"), "Content-Length: 0\r\n", ""));
        });
        Self { url: format!("{}/webhooks/removebgvideo", server.url()), server }
    }

    /// Each delivery's `X-Webhook-Event`, in order.
    pub fn events(&self) -> Vec<String> {
        self.seen().into_iter().map(|(_, event)| event).collect()
    }

    /// Each delivery's `X-Webhook-Delivery-Id` and `X-Webhook-Event`, in order.
    pub fn seen(&self) -> Vec<(String, String)> {
        let header = |delivery: &Delivery, name| delivery.header(name).unwrap_or_default().to_owned();
        self.received()
            .iter()
            .map(|delivery| (header(delivery, "x-webhook-delivery-id"), header(delivery, "x-webhook-event")))
            .collect()
    }

    /// Waits until `deliveries` deliveries have arrived, for at most `deadline`; panics past it.
    pub fn wait_for(&self, deliveries: usize, deadline: Duration) {
        self.server.wait_requests(deliveries, deadline);
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Delivery> {
        self.server
            .requests()
            .into_iter()
            .map(|request| Delivery { headers: request.headers, body: request.body })
            .collect()
    }
}
