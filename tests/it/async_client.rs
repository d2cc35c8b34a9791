//! The async face: `AsyncClient` and `AsyncAdminClient` in tokio tasks, their futures `Send`,
//! uploads from disk, downloads to disk that leave nothing behind when dropped, the wait loop,
//! and paging. Servers: the simulator and the wire-level test server.

use std::io::Write;
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::simulator::{expected_output, Fault, FaultRule, Simulator};
use removebgvideo::{AsyncAdminClient, AsyncClient, CreateJob, Error, JobStatus, StartJob, WaitOptions};

use crate::support::wire::{wait_for_hangup, WireServer};

/// Asserts at compile time that a value (a client, a future) can cross into `tokio::spawn`.
fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}

fn client(sim: &Simulator) -> AsyncClient {
    AsyncClient::builder(sim.api_key()).base_url(sim.base_url()).build().expect("client")
}

/// Never awaited: only compiled, so that a future that stops being `Send` fails the build.
#[allow(dead_code, clippy::let_underscore_future)]
fn every_future_is_send(client: &AsyncClient, admin: &AsyncAdminClient, job: &removebgvideo::Job) {
    assert_send_sync(client);
    assert_send_sync(admin);
    assert_send(&client.create_job(&CreateJob::new("https://x/y.mp4")));
    assert_send(&client.start_job("j", &StartJob::new()));
    assert_send(&client.get_job("j"));
    assert_send(&client.list_jobs(&ListJobs::new()));
    assert_send(&client.usage_summary(7));
    assert_send(&client.usage_events(20));
    assert_send(&client.health());
    assert_send(&client.pricing());
    assert_send(&client.download_link("j"));
    assert_send(&client.upload("in.mp4"));
    assert_send(&std::future::IntoFuture::into_future(client.upload("in.mp4").progress(|_| {})));
    assert_send(&client.upload_reader(std::io::empty(), 0, "in.mp4"));
    assert_send(&client.wait_for_completion("j", WaitOptions::default().on_update(|_| {})));
    assert_send(&client.download("https://cdn/o.webm").progress(|_| {}).to_path("out.webm"));
    assert_send(&client.download("https://cdn/o.webm").to_writer(Vec::new()));
    if let Ok(download) = client.download_output(job) {
        assert_send(&download.to_path("out.webm"));
    }
    let mut pager = client.list_all_jobs(&ListJobs::new());
    assert_send(&pager.next());
    assert_send(&admin.get_config());
    assert_send(&admin.list_keys());
    assert_send(&admin.create_key(&CreateKey::new("c")));
    assert_send(&admin.disable_key("fp"));
    assert_send(&admin.enable_key("fp"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_in_spawned_tasks_sharing_one_client() {
    let sim = Simulator::builder().polls_to_complete(2).start().expect("simulator");
    let client =
        AsyncClient::builder(sim.api_key()).base_url(sim.base_url()).clock(ManualClock::new()).build().expect("client");
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let job = client.create_job(&CreateJob::new(format!("https://cdn.example.com/{n}.mp4"))).await?;
                client.wait_for_completion(&job.id, WaitOptions::default()).await
            })
        })
        .collect();
    for task in tasks {
        let job = task.await.expect("join").expect("job");
        assert_eq!(job.status, JobStatus::Completed);
    }
    assert_eq!(sim.job_count(), 8);
    assert!(client.health().await.is_ok());
    let missing = client.get_job("job_missing").await.unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn the_admin_client_works_alone_and_from_a_client() {
    let sim = Simulator::start().expect("simulator");
    let admin = AsyncAdminClient::builder(sim.admin_token()).base_url(sim.base_url()).build().expect("admin");
    let created = admin.create_key(&CreateKey::new("acme").note("async")).await.expect("create key");
    let derived = client(&sim).admin(sim.admin_token()).expect("derived admin");
    let keys = derived.list_keys().await.expect("list keys");
    assert!(keys.items.iter().any(|key| key.key_fingerprint == created.key_fingerprint));
    derived.disable_key(&created.key_fingerprint).await.expect("disable");
    admin.enable_key(&created.key_fingerprint).await.expect("enable");
    admin.get_config().await.expect("config");
}

#[tokio::test]
async fn the_wait_follows_the_same_rules_as_the_blocking_one() {
    let sim = Simulator::builder().polls_to_complete(3).start().expect("simulator");
    let clock = ManualClock::new();
    let client =
        AsyncClient::builder(sim.api_key()).base_url(sim.base_url()).clock(clock.clone()).build().expect("client");
    let job = client.create_job(&CreateJob::new("https://cdn.example.com/a.mp4")).await.expect("create");
    // A transient 503 in the middle does not end the wait.
    sim.inject(FaultRule::new(Fault::Status(503)).method("GET").path_prefix("/v1/jobs/").times(1));
    let mut updates = Vec::new();
    let done = client
        .wait_for_completion(&job.id, WaitOptions::default().on_update(|job| updates.push(job.status.clone())))
        .await
        .expect("completed");
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(updates.last(), Some(&JobStatus::Completed));
    // The default pauses: 2 s, then growing (never past 10 s).
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.first(), Some(&Duration::from_secs(2)), "{sleeps:?}");
    assert!(sleeps.iter().all(|pause| *pause <= Duration::from_secs(10)), "{sleeps:?}");

    // A 404 ends the wait at once; a short timeout ends it with the last state.
    let err = client.wait_for_completion("job_missing", WaitOptions::default()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let slow = client.create_job(&CreateJob::new("https://cdn.example.com/b.mp4")).await.expect("create");
    let options = WaitOptions::default().interval(Duration::from_secs(1)).timeout(Duration::from_secs(1));
    let err = client.wait_for_completion(&slow.id, options).await.unwrap_err();
    assert!(matches!(&err, Error::WaitTimeout { last_seen: Some(_), .. }), "{err:?}");
}

#[tokio::test]
async fn an_upload_from_disk_and_a_download_to_disk_round_trip() {
    let sim = Simulator::builder().polls_to_complete(0).output_size(3 << 20).start().expect("simulator");
    let client = client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    std::fs::write(&input, vec![9u8; 2 << 20]).unwrap();
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel();
    let upload = client
        .upload(&input)
        .progress(move |p| {
            let _ = progress_tx.send(p.done);
        })
        .await
        .expect("upload");
    let mut last = 0;
    while let Ok(done) = progress_rx.try_recv() {
        last = done;
    }
    assert_eq!(last, 2 << 20);
    let job = client.create_job(&CreateJob::new(&upload.video_url)).await.expect("create");
    let done = client.wait_for_completion(&job.id, WaitOptions::default()).await.expect("done");
    let output = dir.path().join("out.webm");
    let mut reported = 0;
    let bytes = client
        .download_output(&done)
        .unwrap()
        .progress(|p| reported = p.done)
        .to_path(&output)
        .await
        .expect("download");
    assert_eq!(bytes, 3 << 20);
    assert_eq!(reported, bytes);
    assert_eq!(std::fs::read(&output).unwrap(), expected_output(&done.id, 3 << 20));
    assert!(!dir.path().join("out.webm.part").exists());
}

#[tokio::test]
async fn a_download_dropped_half_way_leaves_no_file_behind() {
    // Half of the announced body, then nothing until the client hangs up.
    let server = WireServer::serve(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n");
        let _ = stream.write_all(&vec![1u8; 1_000_000]);
        wait_for_hangup(stream);
    });
    let url = format!("{}/o.webm", server.url());
    let client = AsyncClient::new("key").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.webm");
    let partial = dir.path().join("out.webm.part");
    let (first_bytes_tx, mut first_bytes_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut download = Box::pin(
        client
            .download(&url)
            .progress(move |p| {
                let _ = first_bytes_tx.send(p.done);
            })
            .to_path(&path),
    );
    tokio::select! {
        outcome = &mut download => panic!("the download cannot finish: {outcome:?}"),
        Some(done) = first_bytes_rx.recv() => assert!(done > 0),
    }
    assert!(partial.exists(), "the bytes go to the .part file");
    assert!(!path.exists(), "nothing under the final name yet");

    drop(download);

    assert!(!partial.exists(), "the .part file is removed with the future");
    assert!(!path.exists());
}

#[tokio::test]
async fn all_jobs_are_read_page_by_page_until_a_short_page() {
    let sim = Simulator::start().expect("simulator");
    let client = client(&sim);
    for n in 0..5 {
        client.create_job(&CreateJob::new(format!("https://cdn.example.com/{n}.mp4"))).await.expect("create");
    }
    sim.clear_requests();
    let mut pager = client.list_all_jobs(&ListJobs::new().limit(2));
    let mut ids = Vec::new();
    while let Some(job) = pager.next().await {
        ids.push(job.expect("job").id);
    }
    assert_eq!(ids.len(), 5);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no job twice");
    // Pages of 2, 2 and 1: the short page ends it, with no fourth request.
    assert_eq!(sim.requests().len(), 3);
    assert!(pager.next().await.is_none());
}

#[tokio::test]
async fn a_page_that_fails_is_yielded_once_and_ends_the_paging() {
    let sim = Simulator::start().expect("simulator");
    let client = client(&sim);
    sim.inject(FaultRule::new(Fault::Status(401)).path_prefix("/v1/jobs"));
    let mut pager = client.list_all_jobs(&ListJobs::new());
    let first = pager.next().await.expect("an item");
    assert_eq!(first.unwrap_err().status().map(|s| s.as_u16()), Some(401));
    assert!(pager.next().await.is_none());
}

#[tokio::test]
async fn usage_ranges_are_checked_before_sending() {
    let sim = Simulator::start().expect("simulator");
    let client = client(&sim);
    for days in [0, 91, u32::MAX] {
        assert!(matches!(client.usage_summary(days).await, Err(Error::InvalidInput { field: "days", .. })));
    }
    for limit in [0, 101, u32::MAX] {
        assert!(matches!(client.usage_events(limit).await, Err(Error::InvalidInput { field: "limit", .. })));
    }
    assert!(sim.requests().is_empty());
    client.usage_summary(90).await.expect("90 days");
    client.usage_events(100).await.expect("100 events");
}
