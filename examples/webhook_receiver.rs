//! A small blocking webhook receiver: verifies each delivery, prints the event, and answers.
//!
//! ```text
//! REMOVEBGVIDEO_WEBHOOK_SECRET=whsec_... cargo run --example webhook_receiver -- 127.0.0.1:8000
//! ```
//!
//! Answers 200 to a verified delivery (and 200 "duplicate" to a delivery id seen before, so the
//! server stops retrying it), 400 to a malformed one, 401 to one that fails the signature or
//! the age check (signed more than 300 s before or after now, by the time its ISO 8601
//! `X-Webhook-Timestamp` names), 405 to anything but POST and 413 to a body over 1 MiB. The reason
//! is the body of every refusal.
//!
//! For an axum service, the `axum` feature's `removebgvideo::webhook::axum::VerifiedWebhook`
//! extractor does the verification and the 400/401 answers for you.

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::process::ExitCode;

use removebgvideo::webhook::Verifier;
use tiny_http::{Method, Request, Response, Server};

const SECRET_VARIABLE: &str = "REMOVEBGVIDEO_WEBHOOK_SECRET";
const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";
/// Job events are small JSON documents; anything bigger is not from the API.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How many delivery ids to remember. Retries come within minutes, so a few thousand suffice.
const REMEMBERED_DELIVERIES: usize = 4096;

fn main() -> ExitCode {
    let address = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_ADDRESS.to_owned());
    let Ok(secret) = std::env::var(SECRET_VARIABLE) else {
        eprintln!("error: set {SECRET_VARIABLE} to the webhook signing secret");
        return ExitCode::from(2);
    };
    let verifier = match Verifier::new(&secret) {
        Ok(verifier) => verifier,
        Err(error) => {
            eprintln!("error: {SECRET_VARIABLE}: {error}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::http(address.as_str()) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("listening on http://{address}");

    let mut seen = RecentDeliveries::with_capacity(REMEMBERED_DELIVERIES);
    for mut request in server.incoming_requests() {
        let (status, message) = handle(&mut request, &verifier, &mut seen);
        if status >= 400 {
            eprintln!("refused ({status}): {message}");
        }
        let response = Response::from_string(message).with_status_code(status);
        if let Err(error) = request.respond(response) {
            eprintln!("could not answer: {error}");
        }
    }
    ExitCode::SUCCESS
}

/// Decides the answer to one request: a status code and the text of the body.
fn handle(request: &mut Request, verifier: &Verifier, seen: &mut RecentDeliveries) -> (u16, String) {
    if *request.method() != Method::Post {
        return (405, "only POST is accepted".to_owned());
    }
    let body = match read_body(request) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|header| (header.field.as_str().as_str().to_owned(), header.value.as_str().to_owned()))
        .collect();

    // The raw bytes go to the verifier, exactly as received.
    let event = match verifier.construct_event(&headers, &body) {
        Ok(event) => event,
        Err(error) => return (error.http_status(), error.to_string()),
    };
    if let Some(delivery_id) = &event.delivery_id
        && seen.contains(delivery_id)
    {
        // Already handled: a retry. Answer 2xx so the server stops retrying it.
        return (200, "duplicate".to_owned());
    }

    println!(
        "{kind} job={job} status={status} delivery={delivery} signed={signed}",
        kind = event.kind,
        signed = event.timestamp_header,
        job = event.job_id.as_deref().unwrap_or("-"),
        status = event.status.as_ref().map_or("-", |status| status.as_str()),
        delivery = event.delivery_id.as_deref().unwrap_or("-"),
    );
    // Remembered only once handled, so a delivery whose handling failed can be retried.
    if let Some(delivery_id) = event.delivery_id {
        seen.insert(delivery_id);
    }
    (200, "ok".to_owned())
}

/// Reads the whole body, refusing with 413 anything over [`MAX_BODY_BYTES`] without reading
/// more than one byte past the limit.
fn read_body(request: &mut Request) -> Result<Vec<u8>, (u16, String)> {
    let too_large = || (413, format!("body larger than {MAX_BODY_BYTES} bytes"));
    if request.body_length().is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    request
        .as_reader()
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|error| (400, format!("could not read the body: {error}")))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

/// The ids of the most recent deliveries, forgetting the oldest beyond a fixed count so memory
/// stays bounded however long the server runs.
struct RecentDeliveries {
    ids: HashSet<String>,
    oldest_first: VecDeque<String>,
    capacity: usize,
}

impl RecentDeliveries {
    fn with_capacity(capacity: usize) -> Self {
        Self { ids: HashSet::new(), oldest_first: VecDeque::new(), capacity: capacity.max(1) }
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    fn insert(&mut self, id: String) {
        if !self.ids.insert(id.clone()) {
            return;
        }
        self.oldest_first.push_back(id);
        if self.oldest_first.len() > self.capacity
            && let Some(oldest) = self.oldest_first.pop_front()
        {
            self.ids.remove(&oldest);
        }
    }
}
