//! The blocking clients on the one async stack: built, called, cloned and dropped on a tokio
//! runtime's own threads without a panic; the call timeout bounding the whole answer; uploads
//! with a transfer timeout. Servers on 127.0.0.1.

use std::io::Read;
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::simulator::Simulator;
use removebgvideo::{AdminClient, Client, CreateJob, Error, JobStatus, WaitOptions};

use crate::support::wire::{Act, WireServer};

/// Everything a blocking client does, called straight from an async test's thread.
fn use_everything(sim: &Simulator) {
    let client = sim.client_builder().clock(ManualClock::new()).build().expect("client");
    let clone = client.clone();
    let job = clone.create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).expect("create");
    let done = client.wait_for_completion(&job.id, WaitOptions::default()).expect("wait");
    assert_eq!(done.status, JobStatus::Completed);
    let mut output = Vec::new();
    client.download_output(&done).unwrap().to_writer(&mut output).expect("download");
    assert!(!output.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    std::fs::write(&input, b"video").unwrap();
    client.upload(&input).send().expect("upload");
    let admin = client.admin(sim.admin_token()).expect("admin");
    admin.create_key(&CreateKey::new("acme")).expect("key");
    assert_eq!(client.list_all_jobs(&ListJobs::new()).count(), 1);
    drop(client);
    drop(admin);
    // The last handle, dropped here, on the runtime's thread.
    drop(clone);
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_client_lives_and_dies_on_a_current_thread_runtime() {
    let sim = Simulator::start().expect("simulator");
    use_everything(&sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_client_lives_and_dies_on_a_multi_thread_runtime() {
    let sim = Simulator::start().expect("simulator");
    use_everything(&sim);
    // And inside a spawned task on a worker thread.
    let base_url = sim.base_url().to_owned();
    let key = sim.api_key().to_owned();
    tokio::spawn(async move {
        let client = Client::builder(key).base_url(base_url).build().expect("client");
        client.health().expect("health");
    })
    .await
    .expect("no panic in the task");
}

#[test]
fn a_client_built_and_never_called_is_dropped_inside_a_runtime_without_a_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = Client::new("key").expect("client");
        let admin = AdminClient::new("token").expect("admin");
        drop((client.clone(), client, admin));
    });
}

/// A server that answers each request with headers and then a byte every `every` (until the
/// client goes away or 100 000 bytes are sent).
fn dribbling_server(every: Duration) -> WireServer {
    let act = Act::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{".to_vec(),
        body: vec![b' '; 99_999],
        piece: 1,
        pause: every,
    };
    WireServer::script(vec![act])
}

#[test]
fn the_call_timeout_bounds_a_body_that_keeps_dribbling() {
    let server = dribbling_server(Duration::from_millis(20));
    let client = Client::builder("key")
        .base_url(server.url())
        .timeout(Duration::from_millis(400))
        .max_retries(0)
        .build()
        .unwrap();
    let error = client.get_job("job_1").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(&error, Error::Transport(inner) if inner.is_timeout()), "{error:?}");
    assert!(error.to_string().contains("timed out after 400 ms"), "{error}");
}

#[tokio::test]
async fn the_async_call_timeout_bounds_a_body_that_keeps_dribbling() {
    let server = dribbling_server(Duration::from_millis(20));
    let client = removebgvideo::AsyncClient::builder("key")
        .base_url(server.url())
        .timeout(Duration::from_millis(400))
        .max_retries(0)
        .build()
        .unwrap();
    let error = client.get_job("job_1").await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
}

#[test]
fn an_upload_with_a_transfer_timeout_works() {
    let sim = Simulator::start().expect("simulator");
    let client = sim.client_builder().transfer_timeout(Duration::from_secs(60)).build().expect("client");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    std::fs::write(&input, vec![3u8; 1 << 20]).unwrap();
    let upload = client.upload(&input).send().expect("upload");
    assert!(!upload.video_url.is_empty());
}

#[test]
fn an_upload_past_its_transfer_timeout_is_a_timeout() {
    // A server that reads the head and then nothing: the body cannot all be sent.
    let server = WireServer::script(vec![Act::Stall]);
    let client = Client::builder("key")
        .base_url(server.url())
        .transfer_timeout(Duration::from_millis(300))
        .stall_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let error = client.upload_reader(std::io::repeat(1).take(64 << 20), 64 << 20, "big.mp4").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
}

// A worker beside the test's thread polls the async face's connections, so that the simulator,
// dropped at the end on the test's thread, sees them close at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_blocking_client_lends_its_async_face_to_async_code() {
    let sim = Simulator::start().expect("simulator");
    let client = sim.client().expect("client");
    let job = client.as_async().create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).await.expect("create");
    assert_eq!(client.as_async().get_job(&job.id).await.expect("get").id, job.id);
    // The same pool and key: the blocking face sees the job too (here, on the runtime's thread).
    assert_eq!(client.get_job(&job.id).expect("get").id, job.id);
}

#[test]
fn no_debug_of_any_client_shows_the_credential() {
    let key = "sk_DEBUGCHECK_1";
    let token = "adm_DEBUGCHECK_2";
    let client = removebgvideo::AsyncClient::new(key).unwrap();
    let texts = [
        format!("{client:?}"),
        format!("{:?}", client.admin(token).unwrap()),
        format!("{:?}", removebgvideo::AsyncAdminClient::builder(token)),
        format!("{:?}", client.list_all_jobs(&ListJobs::new())),
        format!("{:?}", Client::new(key).unwrap().list_all_jobs(&ListJobs::new())),
    ];
    for text in texts {
        assert!(!text.contains("DEBUGCHECK"), "{text}");
    }
}
