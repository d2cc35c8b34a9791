//! `webhook send` (one delivery signed exactly as the API signs it, to test a receiver) and
//! `webhook verify` (headers and body in, verdict out).

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use removebgvideo::webhook::{self, Verifier};

use crate::failure::{error_chain, Failure};
use crate::values::{shown_url, HttpUrl};

/// The largest delivery body `verify` reads.
const BODY_LIMIT: u64 = 1 << 20;

/// The most of a receiver's answer read and printed.
const ANSWER_LIMIT: usize = 4096;

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
        /// Give up when the receiver has not answered within this many seconds.
        #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = seconds)]
        timeout: f64,
        /// The receiver's URL (http or https).
        #[arg(value_parser = HttpUrl)]
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
        Command::Send { secret, event, job_id, timeout, url } => {
            send(secret, event, job_id, Duration::from_secs_f64(*timeout), url)
        }
        Command::Verify { secret, headers, body, ignore_age } => verify(secret, headers, body, *ignore_age),
    }
}

/// A timeout in seconds: more than 0, at most a day.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value <= 86_400.0 => Ok(value),
        _ => Err("a number of seconds above 0, at most 86400, is needed".to_owned()),
    }
}

fn send(secret: &str, event: &str, job_id: &str, timeout: Duration, url: &str) -> Result<u8, Failure> {
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
        // A redirect is the receiver's answer, shown as it is: a delivery is not forwarded.
        let client = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).build()?;
        let mut request = client.post(url).header("Content-Type", "application/json").body(body);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let mut response = request.send().await?;
        let status = response.status();
        // At most ANSWER_LIMIT bytes of the answer are read: the rest is never fetched.
        let mut answer = Vec::new();
        while answer.len() < ANSWER_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk[..chunk.len().min(ANSWER_LIMIT - answer.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        Ok::<_, reqwest::Error>((status, answer))
    });
    let (status, answer) = answer.map_err(|error| {
        // reqwest's messages quote the whole URL (a password, a signed query): say where
        // without them, and why from reqwest's own sources.
        let why = if error.is_timeout() {
            format!("no answer within {} s (--timeout)", timeout.as_secs_f64())
        } else {
            std::error::Error::source(&error).map_or_else(|| "the request failed".to_owned(), error_chain)
        };
        Failure(format!("could not deliver to {}: {why}", shown_url(url)), 1)
    })?;
    println!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    if !answer.is_empty() {
        println!("{}", String::from_utf8_lossy(&answer));
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
        std::io::stdin().take(BODY_LIMIT + 1).read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::File::open(body).and_then(|file| file.take(BODY_LIMIT + 1).read_to_end(&mut bytes)).map(drop)
    };
    read.map_err(|e| Failure::usage(format!("could not read the body {}: {e}", body.display())))?;
    if bytes.len() as u64 > BODY_LIMIT {
        return Err(Failure::usage(format!(
            "the body {} is over {} MiB, larger than any delivery",
            body.display(),
            BODY_LIMIT >> 20
        )));
    }
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
