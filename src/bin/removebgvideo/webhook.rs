//! `webhook send` (one delivery signed exactly as the API signs it, to test a receiver) and
//! `webhook verify` (headers and body in, verdict out).

use std::io::Read;
use std::path::PathBuf;
use std::time::SystemTime;

use removebgvideo::webhook::{self, Verifier};

use crate::{error_chain, Failure};

/// `removebgvideo webhook …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// POST one signed delivery to URL, as the API would, and print the receiver's answer.
    Send {
        /// The webhook secret the receiver verifies with.
        #[arg(long, env = "REMOVEBGVIDEO_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// The event.
        #[arg(long, default_value = "job.completed")]
        event: String,
        /// The job id in the body.
        #[arg(long, default_value = "job_test_0001")]
        job_id: String,
        /// The receiver's URL.
        url: String,
    },
    /// Verify a delivery: exit status 0 and "valid", or 1 and why not.
    Verify {
        /// The webhook secret (repeat it while rotating: any one may match).
        #[arg(long, env = "REMOVEBGVIDEO_WEBHOOK_SECRET", hide_env_values = true, required = true)]
        secret: Vec<String>,
        /// A header as `Name: value` (repeat for each).
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// The body: a file, or `-` for standard input.
        #[arg(long, default_value = "-")]
        body: PathBuf,
        /// Accept a delivery of any age (to check an old recorded one).
        #[arg(long)]
        ignore_age: bool,
    },
}

pub(crate) fn main(command: &Command) -> Result<u8, Failure> {
    match command {
        Command::Send { secret, event, job_id, url } => send(secret, event, job_id, url),
        Command::Verify { secret, headers, body, ignore_age } => verify(secret, headers, body, *ignore_age),
    }
}

fn send(secret: &str, event: &str, job_id: &str, url: &str) -> Result<u8, Failure> {
    let status = match event {
        "job.completed" => "completed",
        "job.failed" => "failed",
        "job.started" => "processing",
        _ => "pending",
    };
    let mut data = serde_json::json!({ "id": job_id, "job_id": job_id, "status": status });
    if status == "completed" {
        data["progress"] = 100.into();
        data["output_url"] = format!("https://cdn.example.com/outputs/{job_id}.webm").into();
    }
    if status == "failed" {
        data["error"] = "a test failure sent by removebgvideo webhook send".into();
    }
    let body = serde_json::to_vec(&serde_json::json!({ "event": event, "data": data }))
        .map_err(|e| Failure(format!("could not encode the body: {e}"), 1))?;
    let delivery_id = format!("whd_test_{:016x}", fastrand::u64(..));
    let headers = webhook::signed_headers(secret, event, &delivery_id, SystemTime::now(), &body)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("could not start a runtime: {e}"), 1))?;
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder().build()?;
        let mut request = client.post(url).header("Content-Type", "application/json").body(body);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, text))
    });
    let (status, text) = answer.map_err(|e| Failure(format!("could not deliver to {url}: {}", error_chain(&e)), 1))?;
    println!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    if !text.is_empty() {
        println!("{}", text.chars().take(2000).collect::<String>());
    }
    Ok(if status.is_success() { 0 } else { 1 })
}

fn verify(secrets: &[String], headers: &[String], body: &PathBuf, ignore_age: bool) -> Result<u8, Failure> {
    let mut pairs = Vec::with_capacity(headers.len());
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("the header {header:?} is not `Name: value`")))?;
        pairs.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut bytes = Vec::new();
    let read = if body.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::File::open(body).and_then(|mut file| file.read_to_end(&mut bytes)).map(drop)
    };
    read.map_err(|e| Failure::usage(format!("could not read the body {}: {e}", body.display())))?;
    let verifier = Verifier::with_secrets(secrets.iter().map(String::as_str))?;
    let verdict =
        if ignore_age { verifier.verify_ignoring_age(&pairs, &bytes) } else { verifier.verify(&pairs, &bytes) };
    match verdict {
        Ok(()) => {
            println!("valid");
            Ok(0)
        }
        Err(error) => {
            println!("invalid: {}", error_chain(&error));
            Ok(1)
        }
    }
}
