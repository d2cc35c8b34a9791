//! The standalone simulator's settings as the `removebgvideo simulator` command's flags (its
//! tests in `tests/it/simulator_service.rs` parse them too).

use std::path::PathBuf;
use std::time::Duration;

use removebgvideo::simulator::{FaultRule, Simulator, SimulatorBuilder, FAULT_SYNTAX};

/// Settings of a standalone API simulator.
#[derive(Clone, clap::Args)]
#[command(after_long_help = FAULT_SYNTAX)]
pub struct SimulatorFlags {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The API key /v1 accepts (keys made through the admin routes work too, each its own tenant).
    #[arg(long, default_value = "sim_test_key")]
    pub api_key: String,
    /// The token /v1/admin accepts.
    #[arg(long, default_value = "sim_admin_token")]
    pub admin_token: String,
    /// The secret webhook deliveries are signed with; empty sends them unsigned.
    #[arg(long, default_value = "sim_webhook_secret")]
    pub webhook_secret: String,
    /// Each key's credit balance; a job beyond it answers 402. Unlimited when not given.
    #[arg(long)]
    pub credits: Option<f64>,
    /// How long each job processes, in seconds of real time.
    #[arg(long, default_value_t = 5.0)]
    pub job_seconds: f64,
    /// How many jobs process at once; the others stay pending. Unlimited when not given.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The largest upload accepted, in bytes; 0 accepts any size. The documented 500 MB when
    /// not given.
    #[arg(long)]
    pub max_upload_size: Option<u64>,
    /// A fault to show on matching requests (repeatable), such as
    /// `status=503,method=POST,path=/v1/jobs,times=2`; see the syntax below (`--help`).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<FaultRule>,
    /// Seconds a connection may wait for (and take to send) its next request's head before it
    /// is closed.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub idle_timeout: f64,
    /// Seconds a request body may pause between two pieces before it is given up (answered
    /// 408, connection closed).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub body_timeout: f64,
    /// Connections open at once; past it a connection is answered 503 and closed. The soft limit
    /// on open files is raised to twice this where the hard limit allows; below that, the cap
    /// is half the limit.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Requests kept in the request log (the oldest are dropped first).
    #[arg(long, default_value_t = 10_000, value_name = "ENTRIES")]
    pub request_log: usize,
    /// Webhook delivery attempts kept in the delivery log (the oldest are dropped first).
    #[arg(long, default_value_t = 10_000, value_name = "ENTRIES")]
    pub delivery_log: usize,
    /// Bytes of uploaded files kept for their video_url (the oldest are dropped first, then
    /// answer 404).
    #[arg(long, default_value_t = 256 * 1024 * 1024, value_name = "BYTES")]
    pub upload_budget: u64,
    /// How many times a webhook delivery without a 2xx answer is tried again (1 s, 2 s, 4 s, ...
    /// up to 30 s apart).
    #[arg(long, default_value_t = 10)]
    pub webhook_retries: u32,
    /// Seconds after its first attempt a webhook delivery may still be tried again.
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    pub webhook_max_age: f64,
    /// Stop at the end of standard input (Ctrl-D) as well as on SIGINT or SIGTERM.
    #[arg(long)]
    pub stop_on_eof: bool,
    /// Write the port to this file once serving (for scripts that use --port 0).
    #[arg(long, value_name = "PATH")]
    pub port_file: Option<PathBuf>,
}

/// Credentials are left out, as everywhere in the crate.
impl std::fmt::Debug for SimulatorFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorFlags")
            .field("port", &self.port)
            .field("credits", &self.credits)
            .field("job_seconds", &self.job_seconds)
            .field("concurrency", &self.concurrency)
            .field("max_upload_size", &self.max_upload_size)
            .field("faults", &self.faults)
            .field("idle_timeout", &self.idle_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("request_log", &self.request_log)
            .field("delivery_log", &self.delivery_log)
            .field("upload_budget", &self.upload_budget)
            .field("webhook_retries", &self.webhook_retries)
            .field("webhook_max_age", &self.webhook_max_age)
            .field("stop_on_eof", &self.stop_on_eof)
            .field("port_file", &self.port_file)
            .finish_non_exhaustive()
    }
}

impl SimulatorFlags {
    /// A simulator builder with these settings; jobs move with real time.
    pub fn builder(&self) -> SimulatorBuilder {
        let seconds = |s: f64| Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX);
        let mut b = Simulator::builder()
            .port(self.port)
            .api_key(self.api_key.as_str())
            .admin_token(self.admin_token.as_str())
            .webhook_secret(Some(self.webhook_secret.as_str()))
            .job_seconds(self.job_seconds)
            .idle_timeout(seconds(self.idle_timeout))
            .body_timeout(seconds(self.body_timeout))
            .max_connections(self.max_connections)
            .request_log(self.request_log)
            .delivery_log(self.delivery_log)
            .upload_budget(self.upload_budget)
            .webhook_retries(self.webhook_retries)
            .webhook_max_age(seconds(self.webhook_max_age));
        if let Some(credits) = self.credits {
            b = b.credits(credits);
        }
        if let Some(concurrency) = self.concurrency {
            b = b.concurrency(concurrency);
        }
        if let Some(limit) = self.max_upload_size {
            b = b.max_upload_size((limit > 0).then_some(limit));
        }
        for rule in &self.faults {
            b = b.fault(rule.clone());
        }
        b
    }
}

/// Serves `simulator` until SIGINT or SIGTERM (or, with `--stop-on-eof`, the end of standard
/// input), then stops it. The `export` line to paste into another shell is the only output on
/// standard output; everything else goes to standard error. With `--port-file`, the port is
/// written there (whole, through a rename) before the `export` line is printed.
///
/// # Errors
/// When the port file cannot be written, or the signals cannot be listened for.
pub fn serve(simulator: Simulator, flags: &SimulatorFlags) -> Result<(), String> {
    let port = simulator.base_url().rsplit(':').next().unwrap_or_default().to_owned();
    if let Some(path) = &flags.port_file {
        let partial = path.with_extension("partial");
        std::fs::write(&partial, format!("{port}\n"))
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("could not write the port file {}: {e}", path.display()))?;
    }
    eprintln!("The RemoveBGVideo API simulator is serving at {}.", simulator.base_url());
    eprintln!("Paste this into the shell that runs your code:");
    println!("{}", simulator.export_line());
    if let Some(secret) = simulator.webhook_secret() {
        eprintln!("Webhooks (to 127.0.0.1 or localhost only) are signed with the secret {secret}.");
    }
    if simulator.max_connections() < flags.max_connections {
        eprintln!(
            "At most {} connections at once: half the limit on open files (raise it with `ulimit -n`).",
            simulator.max_connections()
        );
    }
    if flags.stop_on_eof {
        eprintln!("Stop with Ctrl-C, SIGTERM or Ctrl-D.");
    } else {
        eprintln!("Stop with Ctrl-C or SIGTERM.");
    }
    wait_for_stop(flags.stop_on_eof)?;
    let served = simulator.requests_received();
    simulator.shutdown();
    eprintln!("Stopped after {served} requests.");
    Ok(())
}

/// Waits for SIGINT, SIGTERM or (when asked) the end of standard input.
fn wait_for_stop(stop_on_eof: bool) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not listen for signals: {e}"))?;
    runtime.block_on(async {
        let (eof_tx, mut eof) = tokio::sync::mpsc::unbounded_channel::<()>();
        // Without --stop-on-eof the sender is kept here, so the channel never closes.
        let _open = if stop_on_eof {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = eof_tx.send(());
            });
            None
        } else {
            Some(eof_tx)
        };
        #[cfg(unix)]
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("could not listen for SIGTERM: {e}"))?;
        #[cfg(unix)]
        let terminated = terminate.recv();
        #[cfg(not(unix))]
        let terminated = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
            _ = eof.recv() => {}
        }
        Ok(())
    })
}
