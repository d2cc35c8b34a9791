//! A webhook endpoint on 127.0.0.1 for the tests: it answers 200 and keeps every request.

use std::io::Write;

use super::wire::WireServer;

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
        let server = WireServer::serve(|_, stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        });
        Self { url: format!("{}/webhooks/removebgvideo", server.url()), server }
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
