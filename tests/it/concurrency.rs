//! One `Client` shared by many threads: every call succeeds on its first attempt, and the server
//! sees exactly the calls made, no more (no hidden retries) and no fewer.

use std::collections::HashMap;

use removebgvideo::models::ListJobs;
use removebgvideo::simulator::Simulator;
use removebgvideo::{Client, CreateJob, JobStatus};

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 250;
const JOBS: usize = 4;

/// What one thread did, by call kind.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    get_job: usize,
    list_jobs: usize,
    health: usize,
}

fn hammer(client: &Client, thread: usize, job_ids: &[String]) -> Tally {
    let mut tally = Tally::default();
    for call in 0..CALLS_PER_THREAD {
        match (thread + call) % 3 {
            0 => {
                let id = &job_ids[(thread + call) % job_ids.len()];
                let job = client.get_job(id).unwrap_or_else(|e| panic!("thread {thread} call {call}: {e}"));
                assert_eq!(&job.id, id);
                tally.get_job += 1;
            }
            1 => {
                let page = client
                    .list_jobs(&ListJobs::new().limit(10))
                    .unwrap_or_else(|e| panic!("thread {thread} call {call}: {e}"));
                assert_eq!(page.items.len(), JOBS);
                tally.list_jobs += 1;
            }
            _ => {
                let health = client.health().unwrap_or_else(|e| panic!("thread {thread} call {call}: {e}"));
                assert!(health.is_healthy(), "{health:?}");
                tally.health += 1;
            }
        }
    }
    tally
}

#[test]
fn one_client_shared_by_eight_threads() {
    let sim = Simulator::builder().worker_threads(8).start().expect("simulator");
    // No retries: a single failed attempt anywhere shows up as an error.
    let client = sim.client_builder().max_retries(0).build().expect("client");
    let job_ids: Vec<String> = (0..JOBS)
        .map(|i| client.create_job(&CreateJob::new(format!("https://cdn.example.com/{i}.mp4"))).expect("create").id)
        .collect();
    let setup = sim.requests().len();
    assert_eq!(setup, JOBS);

    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (client, job_ids) = (&client, &job_ids);
                scope.spawn(move || hammer(client, thread, job_ids))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a thread panicked")).collect()
    });

    let total = Tally {
        get_job: tallies.iter().map(|t| t.get_job).sum(),
        list_jobs: tallies.iter().map(|t| t.list_jobs).sum(),
        health: tallies.iter().map(|t| t.health).sum(),
    };
    assert_eq!(total.get_job + total.list_jobs + total.health, THREADS * CALLS_PER_THREAD);

    let requests = sim.requests();
    assert_eq!(requests.len(), setup + THREADS * CALLS_PER_THREAD);
    let mut by_route: HashMap<&str, usize> = HashMap::new();
    for r in &requests[setup..] {
        let route = match r.path.as_str() {
            "/v1/jobs" => "list_jobs",
            "/health" => "health",
            p if p.starts_with("/v1/jobs/") => "get_job",
            other => panic!("unexpected request to {other}"),
        };
        assert_eq!(r.method, "GET");
        *by_route.entry(route).or_default() += 1;
    }
    assert_eq!(by_route["get_job"], total.get_job);
    assert_eq!(by_route["list_jobs"], total.list_jobs);
    assert_eq!(by_route["health"], total.health);

    // The key went with every API call and never with health.
    for r in &requests[setup..] {
        let expected = if r.path == "/health" { None } else { Some(sim.api_key()) };
        assert_eq!(r.header("x-api-key"), expected, "{} {}", r.method, r.path);
    }

    // Each job was polled far more than three times, so all completed; nothing was duplicated.
    assert_eq!(sim.job_count(), JOBS);
    for id in &job_ids {
        assert_eq!(client.get_job(id).expect("get").status, JobStatus::Completed);
    }
}

#[test]
fn clones_and_a_derived_admin_client_share_one_pool_across_threads() {
    let sim = Simulator::builder().worker_threads(4).start().expect("simulator");
    let client = sim.client_builder().max_retries(0).build().expect("client");
    let admin = client.admin(sim.admin_token()).expect("admin");

    std::thread::scope(|scope| {
        for i in 0..4 {
            let client = client.clone();
            let admin = admin.clone();
            scope.spawn(move || {
                for _ in 0..25 {
                    client.create_job(&CreateJob::new(format!("https://cdn.example.com/{i}.mp4"))).expect("create");
                    admin.get_config().expect("admin config");
                }
            });
        }
    });

    assert_eq!(sim.job_count(), 100, "one job per call, none repeated");
    let requests = sim.requests();
    assert_eq!(requests.len(), 200);
    for r in &requests {
        match r.path.as_str() {
            "/v1/jobs" => assert_eq!((r.header("x-api-key"), r.header("x-admin-token")), (Some(sim.api_key()), None)),
            "/v1/admin/config" => {
                assert_eq!((r.header("x-api-key"), r.header("x-admin-token")), (None, Some(sim.admin_token())));
            }
            other => panic!("unexpected request to {other}"),
        }
    }
}
