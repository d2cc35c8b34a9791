//! The standalone simulator's settings as command-line flags, defined once: the example includes
//! this file, and so does the `removebgvideo simulator` command (with `#[path]`).

use removebgvideo::client::{ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
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
            .finish_non_exhaustive()
    }
}

impl SimulatorFlags {
    /// A simulator builder with these settings; jobs move with real time.
    pub fn builder(&self) -> SimulatorBuilder {
        let mut b = Simulator::builder()
            .port(self.port)
            .api_key(self.api_key.as_str())
            .admin_token(self.admin_token.as_str())
            .webhook_secret(Some(self.webhook_secret.as_str()))
            .job_seconds(self.job_seconds);
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

/// Prints where `simulator` serves and the `export` line to paste into another shell, serves
/// until standard input ends (Ctrl-D; Ctrl-C ends the process, and the server with it), then
/// stops it and says how many requests it answered.
pub fn serve_until_input_ends(simulator: Simulator) {
    println!("The RemoveBGVideo API simulator is serving at {}.", simulator.base_url());
    println!("Paste this into the shell that runs your code:");
    println!();
    println!(
        "export {API_KEY_ENV}={} {BASE_URL_ENV}={} {ADMIN_TOKEN_ENV}={}",
        simulator.api_key(),
        simulator.base_url(),
        simulator.admin_token()
    );
    println!();
    if let Some(secret) = simulator.webhook_secret() {
        println!("Webhooks (to 127.0.0.1 or localhost only) are signed with the secret {secret}.");
    }
    println!("Stop with Ctrl-C or Ctrl-D.");
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    let served = simulator.requests().len();
    simulator.shutdown();
    println!("Stopped after {served} requests.");
}
