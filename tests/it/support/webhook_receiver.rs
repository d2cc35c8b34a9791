//! A webhook endpoint on 127.0.0.1 for the tests: it answers 200 and keeps every request.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

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
    received: Arc<Mutex<Vec<Delivery>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl WebhookReceiver {
    /// Binds a free port and starts answering.
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, received) = (Arc::clone(&server), Arc::clone(&received));
            std::thread::spawn(move || {
                while let Ok(mut request) = server.recv() {
                    let headers = request
                        .headers()
                        .iter()
                        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_owned()))
                        .collect();
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    received.lock().expect("lock").push(Delivery { headers, body });
                    let _ = request.respond(tiny_http::Response::empty(200));
                }
            })
        };
        Self { url: format!("http://127.0.0.1:{port}/webhooks/removebgvideo"), received, server, thread: Some(thread) }
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Delivery> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
