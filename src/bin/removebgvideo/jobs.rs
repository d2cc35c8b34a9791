//! `jobs list`, `jobs get`, `jobs wait`.

use std::time::Duration;

use removebgvideo::models::ListJobs;
use removebgvideo::{Job, JobStatus, WaitOptions};

use crate::connect::connect;
use crate::{print_json, Failure};

/// `removebgvideo jobs …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// The newest jobs of the account.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Skip this many first.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Only jobs with this status (pending, processing, completed, failed, …).
        #[arg(long)]
        status: Option<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One job.
    Get {
        /// The job id.
        job_id: String,
        /// Print the job as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Wait until a job completes or fails (polling as the API advises), then print it.
    Wait {
        /// The job id.
        job_id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Print the job as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn main(command: &Command) -> Result<u8, Failure> {
    let connection = connect(3)?;
    let client = &connection.client;
    match command {
        Command::List { limit, offset, status, json } => {
            let mut query = ListJobs::new().limit(*limit).offset(*offset);
            if let Some(status) = status {
                query = query.status(JobStatus::from(status.as_str()));
            }
            let list = client.list_jobs(&query)?;
            if *json {
                print_json(&list)?;
            } else {
                println!("{:<28} {:<11} {:>8}  created", "job", "status", "progress");
                for job in &list.items {
                    println!(
                        "{:<28} {:<11} {:>8}  {}",
                        job.id,
                        job.status.as_str(),
                        job.progress.map(|p| format!("{p:.0}%")).unwrap_or_default(),
                        job.created_at.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(0)
        }
        Command::Get { job_id, json } => {
            let job = client.get_job(job_id)?;
            show(&job, *json)?;
            Ok(0)
        }
        Command::Wait { job_id, timeout, json } => {
            let quiet = *json;
            let options = WaitOptions::default().timeout(Duration::from_secs(*timeout)).on_update(move |job: &Job| {
                if !quiet {
                    let percent = job.progress.map(|p| format!(" {p:.0}%")).unwrap_or_default();
                    eprintln!("{} {}{percent}", job.id, job.status);
                }
            });
            match client.wait_for_completion(job_id, options) {
                Ok(job) => {
                    show(&job, *json)?;
                    Ok(0)
                }
                Err(removebgvideo::Error::JobFailed(job)) => {
                    show(&job, *json)?;
                    Ok(1)
                }
                Err(error) => Err(error.into()),
            }
        }
    }
}

fn show(job: &Job, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(job);
    }
    println!("job       {}", job.id);
    println!("status    {}", job.status);
    if let Some(progress) = job.progress {
        println!("progress  {progress:.0}%");
    }
    if let Some(model) = &job.model {
        println!("model     {model}");
    }
    if let Some(created) = &job.created_at {
        println!("created   {created}");
    }
    if let Some(url) = &job.output_url {
        // A signed output URL's query is a credential: show where, not the key.
        println!("output    {}", url.split('?').next().unwrap_or_default());
    }
    if let Some(error) = &job.error {
        println!("error     {error}");
    }
    Ok(())
}
