//! Property tests of the promise that no error text shows a secret: whatever a server answers
//! (2xx, 4xx, 5xx; JSON, truncated JSON, text, HTML) with the client's credential anywhere,
//! signed URLs, passwords in URLs and secrets in credential-like fields (`api_key`, `secret`,
//! `token`, ...) in it, no `Display`, `Debug` or source of any error of any call of the API
//! client and the admin client contains one of them. (A client hides its own credential
//! wherever it appears; another's is hidden where it is recognisable as one.)
//!
//! One stub server on 127.0.0.1 answers every request with the current case; the one property
//! test runs its cases one after another, so a case is never answered to another's call.

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::{AdminClient, Client, CreateJob, Error, StartJob, WaitOptions};
use serde_json::{json, Value};

use crate::support::wire::WireServer;

const KEY: &str = "sk_live_KEYSECRET0123456789";
const TOKEN: &str = "adm_TOKENSECRET9876543210";

#[derive(Debug, Clone)]
struct Case {
    status: u16,
    body: Vec<u8>,
}

/// Starts the stub: it answers each request, once read whole (so that the client sees the
/// answer, not a reset), with the case in `current`.
fn start_stub(current: Arc<Mutex<Case>>) -> WireServer {
    WireServer::serve(move |_, stream| {
        let case = current.lock().expect("case").clone();
        answer(stream, &case);
    })
}

fn answer(stream: &mut TcpStream, case: &Case) {
    let mut reply = format!(
        "HTTP/1.1 {} Case\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        case.status,
        case.body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&case.body);
    let _ = stream.write_all(&reply).and_then(|()| stream.flush());
}

/// The secrets of one case, none of which any error may show.
#[derive(Debug, Clone)]
struct Secrets {
    /// A key inside an answer (`create_key`'s, or a field of another answer).
    new_key: String,
    /// A webhook secret inside an answer.
    webhook_secret: String,
    /// A signed URL's signature.
    signature: String,
    /// A password inside a URL.
    password: String,
}

impl Secrets {
    /// What the errors of a client holding `credential` must never show.
    fn hidden_from<'a>(&'a self, credential: &'a str) -> [&'a str; 6] {
        [credential, &self.new_key, &self.webhook_secret, &self.signature, &self.password, "DOWNLOADSIG"]
    }

    fn signed_url(&self) -> String {
        format!("https://cdn.example.com/out/o.mp4?X-Amz-Expires=600&X-Amz-Signature={}", self.signature)
    }
}

fn secrets() -> impl Strategy<Value = Secrets> {
    ("[A-Za-z0-9]{12,24}", "[A-Za-z0-9_]{12,24}", "[a-f0-9]{16,40}", "[A-Za-z0-9]{10,20}").prop_map(
        |(new_key, webhook_secret, signature, password)| Secrets {
            new_key: format!("sk_new_{new_key}"),
            webhook_secret: format!("whsec_{webhook_secret}"),
            signature,
            password: format!("pw{password}"),
        },
    )
}

/// A text that quotes secrets the way servers do: the credential anywhere, others in URLs or
/// after a credential-like name.
fn text(secrets: &Secrets, pick: &[u8], filler: &str) -> String {
    let fragments = [
        format!("invalid API key {KEY}"),
        format!("admin token {TOKEN} is disabled"),
        format!("the token: {TOKEN} or key={KEY}"),
        format!("could not fetch {}", secrets.signed_url()),
        format!("proxy https://user:{}@proxy.example.com:8080/ refused", secrets.password),
        format!("api_key={}", secrets.new_key),
        format!("webhook_secret: {}", secrets.webhook_secret),
        format!("Authorization=Bearer{KEY}"),
        filler.to_owned(),
    ];
    pick.iter().map(|&index| fragments[usize::from(index) % fragments.len()].as_str()).collect::<Vec<_>>().join(" ")
}

/// The bodies a server may send: a job, an error, a key, text, each maybe cut off.
fn body(secrets: &Secrets, shape: u8, pick: &[u8], filler: &str, cut: Option<prop::sample::Index>) -> Vec<u8> {
    let message = text(secrets, pick, filler);
    let value: Value = match shape % 7 {
        0 => json!({
            "id": "job_1",
            "status": "failed",
            "error": message,
            "output_url": secrets.signed_url(),
            "webhook_url": format!("https://hooks.example.com/h?token={}", secrets.new_key),
            "webhook_secret": secrets.webhook_secret,
            "nested": {"api_key": secrets.new_key, "list": [secrets.signed_url(), {"password": secrets.password}]},
        }),
        1 => json!({
            "id": "job_1",
            "status": "processing",
            "progress": 10,
            "output_url": secrets.signed_url(),
            "signing": {"secret": secrets.webhook_secret},
            "note": message,
        }),
        2 => json!({"error": {"code": "invalid_api_key", "message": message, "request_id": "req_1"}}),
        3 => json!({"detail": [{"msg": message, "input": {"api_key": KEY, "token": TOKEN}}]}),
        4 => json!({"api_key": secrets.new_key, "key_fingerprint": 7, "client_id": ["not", "a", "string"]}),
        5 => {
            json!({"jobs": [{"id": 5, "status": {"x": 1}, "output_url": secrets.signed_url()}], "webhook_secret": secrets.webhook_secret})
        }
        _ => Value::String(message.clone()),
    };
    let mut bytes = match value {
        // A plain-text or HTML page rather than JSON.
        Value::String(text) if pick.len().is_multiple_of(2) => {
            format!("<html><title>{text}</title></html>").into_bytes()
        }
        Value::String(text) => text.into_bytes(),
        other => other.to_string().into_bytes(),
    };
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    bytes
}

/// Every text an error shows: `Display`, alternate `Display`, `Debug`, and each source's.
fn shown(error: &Error) -> String {
    let mut out = format!("{error} | {error:#} | {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push_str(&format!(" | {cause} | {cause:?}"));
        source = cause.source();
    }
    out
}

/// Runs every call of both clients against the current case: the name of each that failed,
/// with what its error shows.
fn every_call(
    client: &Client,
    admin: &AdminClient,
    base: &str,
    upload: &std::path::Path,
) -> Vec<(&'static str, &'static str, String)> {
    let mut texts = Vec::new();
    let mut record = |name: &'static str, error: Option<Error>| {
        if let Some(error) = error {
            let credential = if admin_call(name) { TOKEN } else { KEY };
            texts.push((name, credential, shown(&error)));
        }
    };
    record("create_job", client.create_job(&CreateJob::new("https://videos.example.com/a.mp4")).err());
    record("start_job", client.start_job("job_1", &StartJob::default()).err());
    record("get_job", client.get_job("job_1").err());
    record("list_jobs", client.list_jobs(&ListJobs::new()).err());
    record("usage_summary", client.usage_summary(7).err());
    record("usage_events", client.usage_events(10).err());
    record("health", client.health().err());
    record("pricing", client.pricing().err());
    record("download_link", client.download_link("job_1").err());
    record("upload", client.upload(upload).send().err());
    record(
        "wait_for_completion",
        client
            .wait_for_completion(
                "job_1",
                WaitOptions::default().interval(Duration::from_millis(1)).timeout(Duration::from_millis(1)),
            )
            .err(),
    );
    let signed = format!("{base}/out/o.mp4?X-Amz-Signature=DOWNLOADSIG");
    record("download", client.download(&signed).to_writer(Vec::new()).err());
    record("get_config", admin.get_config().err());
    record("list_keys", admin.list_keys().err());
    record("create_key", admin.create_key(&CreateKey::new("client-1")).err());
    record("disable_key", admin.disable_key("fp_1").err());
    record("enable_key", admin.enable_key("fp_1").err());
    texts
}

fn admin_call(name: &str) -> bool {
    matches!(name, "get_config" | "list_keys" | "create_key" | "disable_key" | "enable_key")
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![2 => Just(200u16), 1 => 201u16..300, 2 => 400u16..500, 2 => 500u16..600]
}

proptest! {
    #![proptest_config(crate::support::props(64, "proptest-regressions/it/secret_props.txt"))]

    #[test]
    fn no_error_of_any_call_shows_a_secret(
        secrets in secrets(),
        status in status(),
        shape in any::<u8>(),
        pick in prop::collection::vec(any::<u8>(), 1..6),
        filler in "[ -~]{0,30}",
        cut in prop::option::weighted(0.25, any::<prop::sample::Index>()),
    ) {
        let case = Case { status, body: body(&secrets, shape, &pick, &filler, cut) };
        let fixture = fixture();
        *fixture.current.lock().expect("case") = case;
        for (call, credential, text) in every_call(&fixture.client, &fixture.admin, &fixture.base, fixture.upload.path()) {
            for secret in secrets.hidden_from(credential) {
                prop_assert!(!text.contains(secret), "{call} ({status}) shows {secret}: {text}");
            }
        }
    }
}

/// The soak run (`cargo test -- --ignored`): the properties above again, each round with
/// fresh random cases.
#[test]
#[ignore = "soak run: cargo test -- --ignored"]
fn soak() {
    for _ in 0..crate::support::SOAK_ROUNDS {
        no_error_of_any_call_shows_a_secret();
    }
}

/// The clients, the stub and a file to upload, built once for the whole property.
struct Fixture {
    client: Client,
    admin: AdminClient,
    base: String,
    _stub: WireServer,
    /// The case the stub answers with.
    current: Arc<Mutex<Case>>,
    upload: tempfile::NamedTempFile,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let current = Arc::new(Mutex::new(Case { status: 500, body: Vec::new() }));
        let stub = start_stub(current.clone());
        let base = stub.url().to_owned();
        // The client's shared back-off (after a 429 or a run of 5xx) pauses on this clock,
        // not for real.
        let clock = removebgvideo::clock::ManualClock::new();
        let client = Client::builder(KEY)
            .base_url(&base)
            .clock(clock.clone())
            .max_retries(0)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let admin = AdminClient::builder(TOKEN).base_url(&base).clock(clock).max_retries(0).build().expect("admin");
        let mut upload = tempfile::NamedTempFile::with_suffix(".mp4").expect("file");
        upload.write_all(b"not really a video").expect("write");
        Fixture { client, admin, base, _stub: stub, current, upload }
    })
}
