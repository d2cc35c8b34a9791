//! The fallback for tokio services that keep the blocking `Client` (the first choice there is
//! `AsyncClient`, see `async_client.rs`): built, called and dropped on tokio's blocking pool
//! (`spawn_blocking`), so that no async worker thread is blocked.

use std::sync::Arc;
use std::time::Duration;

use removebgvideo::models::ListJobs;
use removebgvideo::simulator::Simulator;
use removebgvideo::{Client, CreateJob, Error, JobStatus, WaitOptions};

/// What one request handler of a service does: create a job and wait for it.
fn run_job(client: &Client, n: usize) -> Result<removebgvideo::Job, Error> {
    let job = client.create_job(&CreateJob::new(format!("https://cdn.example.com/{n}.mp4")))?;
    client.wait_for_completion(&job.id, WaitOptions::default().interval(Duration::from_millis(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_and_call_the_client_on_the_blocking_pool() {
    let sim = Simulator::start().expect("simulator");
    let (base_url, key) = (sim.base_url().to_owned(), sim.api_key().to_owned());

    // Build once, on the blocking pool.
    let client = tokio::task::spawn_blocking(move || Client::builder(key).base_url(base_url).build())
        .await
        .expect("join")
        .expect("client");

    // Several calls at once, each on its own blocking task with a clone of the client.
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let client = client.clone();
            tokio::task::spawn_blocking(move || run_job(&client, n))
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let job = task.await.expect("join").expect("job");
        assert_eq!(job.status, JobStatus::Completed);
        ids.push(job.id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    assert_eq!(sim.job_count(), 6);

    // The last handle is dropped on the blocking pool too.
    let listed =
        tokio::task::spawn_blocking(move || client.list_jobs(&ListJobs::new())).await.expect("join").expect("list");
    assert_eq!(listed.items.len(), 6);
}

#[tokio::test]
async fn the_same_pattern_works_on_a_current_thread_runtime() {
    let sim = Simulator::start().expect("simulator");
    let builder = sim.client_builder();
    let client = tokio::task::spawn_blocking(move || builder.build()).await.expect("join").expect("client");

    let a = {
        let client = client.clone();
        tokio::task::spawn_blocking(move || client.health())
    };
    let b = {
        let client = client.clone();
        tokio::task::spawn_blocking(move || client.usage_summary(7))
    };
    assert!(a.await.expect("join").expect("health").is_healthy());
    assert!(b.await.expect("join").expect("usage").extra.get("days").is_some());

    // An error crosses the task boundary like any value.
    let error = tokio::task::spawn_blocking(move || client.get_job("job_missing"))
        .await
        .expect("join")
        .expect_err("no such job");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(sim.requests().len(), 3);
}

/// Asserts at compile time that what is moved into tasks can be.
fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}

#[test]
fn a_client_built_outside_the_runtime_can_be_moved_into_blocking_tasks() {
    let sim = Simulator::start().expect("simulator");
    // Built in plain sync code (main, before the runtime starts), as many services do.
    let client = sim.client().expect("client");
    assert_send_sync(&client);
    let shared = Arc::new(client.clone());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let ids = runtime.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..4 {
            // Half the tasks get an Arc, half a clone: both work.
            if n % 2 == 0 {
                let shared = Arc::clone(&shared);
                tasks.push(tokio::task::spawn_blocking(move || run_job(&shared, n)));
            } else {
                let client = client.clone();
                tasks.push(tokio::task::spawn_blocking(move || run_job(&client, n)));
            }
        }
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.expect("join").expect("job").id);
        }
        ids
    });
    drop(runtime);

    assert_eq!(ids.len(), 4);
    assert_eq!(sim.job_count(), 4);
    // The client outlives the runtime and still works in sync code.
    assert_eq!(client.list_jobs(&ListJobs::new()).expect("list").items.len(), 4);
    assert_eq!(Arc::strong_count(&shared), 1, "every task dropped its handle");
}
