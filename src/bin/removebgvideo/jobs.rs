//! `jobs list`, `jobs get`, `jobs wait`, `jobs download`.

use std::path::PathBuf;
use std::time::Duration;

use removebgvideo::models::ListJobs;
use removebgvideo::{Job, JobStatus, WaitOptions};

use crate::connect::connect;
use crate::failure::{print_json, Failure};
use crate::progress::StageBar;
use crate::run;
use crate::ui::{self, Interrupted};

/// `removebgvideo jobs …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// The newest jobs of the account.
    List {
        /// How many (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
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
    /// Download a completed job's output (resuming after breaks); creates nothing.
    Download {
        /// The job id.
        job_id: String,
        /// Where the output goes: a file, or a folder for `<job id>-nobg.<ext>` (default: that
        /// name in the current folder).
        #[arg(short, long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
        /// Overwrite OUT when it exists.
        #[arg(long)]
        force: bool,
        /// Wait for a job still running first, for at most this many seconds.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
        /// Print the job, the output's path and its size as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn main(command: &Command) -> Result<u8, Failure> {
    let connection = connect(3)?;
    let client = &connection.client;
    ui::exit_on_ctrl_c();
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
        Command::Download { job_id, output, force, wait, json } => {
            ui::on_interrupt(Interrupted {
                message: format!("stopped; job {job_id} is unchanged: run this command again to fetch it"),
                json: None,
            });
            let bar = StageBar::new();
            let done = match wait {
                Some(timeout) => run::wait_and_download(client, job_id, output.as_deref(), *force, *timeout, &bar),
                None => client.get_job(job_id).map_err(Failure::from).and_then(|job| {
                    if job.status != JobStatus::Completed {
                        return Err(Failure(
                            format!("job {job_id} is {}, not completed: add --wait to wait for it", job.status),
                            1,
                        ));
                    }
                    let (path, size) = run::download(client, &job, output.as_deref(), *force, &bar)?;
                    Ok((job, path, size))
                }),
            };
            bar.finish();
            let (job, path, size) = done?;
            if *json {
                print_json(&serde_json::json!({ "job": job, "output": path, "size": size }))?;
            } else {
                println!("{} downloaded: {} ({size} bytes)", job.id, path.display());
            }
            Ok(0)
        }
        Command::Wait { job_id, timeout, json } => {
            ui::on_interrupt(Interrupted {
                message: format!(
                    "stopped waiting; job {job_id} carries on: `removebgvideo run --job {job_id}` waits for it and \
                     downloads its output"
                ),
                json: None,
            });
            let quiet = *json || ui::quiet();
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
                Err(error) => {
                    let hint = run::after_failure(&error, job_id, None);
                    let Failure(message, status) = Failure::from(error);
                    Err(Failure(format!("{message}{hint}"), status))
                }
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
