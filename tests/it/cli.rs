//! The `removebgvideo` command as a user runs it, through the binary cargo built for the tests
//! (`CARGO_BIN_EXE_removebgvideo`): a batch killed with SIGKILL and run again, Ctrl-C, exit
//! statuses, `--shard` from 1, and the other subcommands against the simulator.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::batch::*;
use crate::support::command::{command, run, text, EXE};
use crate::support::wire::{self, WireServer};
use removebgvideo::simulator::{Fault, FaultRule, Simulator};
use removebgvideo::webhook::Verifier;

fn start(sim: &Simulator, args: &[&OsStr]) -> Child {
    command(sim, args).spawn().expect("start the command")
}

/// Reads the command's standard error until a line contains `needle` (a batch off a terminal
/// prints a line per created job), then drains the rest in the background so the command never
/// blocks on a full pipe. Fails if the command ends first.
fn wait_for_stderr(child: &mut Child, needle: &str) {
    let mut stderr = BufReader::new(child.stderr.take().expect("standard error is piped"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("read standard error");
        assert!(read > 0, "the command ended before printing {needle:?}:\n{seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
}

/// The `status` of each line of the batch's report.
fn report_statuses(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["status"].as_str().unwrap().to_owned())
        .collect()
}

/// `videos` copies of the sample in a folder `in`, for a batch into `out` beside it, on a
/// simulator whose jobs take two polls.
struct FileBatch {
    sim: Simulator,
    inputs: PathBuf,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl FileBatch {
    fn new(videos: usize) -> Self {
        let sim = sim_builder().polls_to_complete(2).start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let inputs = dir.path().join("in");
        file_items(&inputs, videos);
        FileBatch { sim, inputs, out: dir.path().join("out"), _dir: dir }
    }

    /// `batch in --out out --concurrency 2`.
    fn args(&self) -> [&OsStr; 6] {
        [
            "batch".as_ref(),
            self.inputs.as_os_str(),
            "--out".as_ref(),
            self.out.as_os_str(),
            "--concurrency".as_ref(),
            "2".as_ref(),
        ]
    }
}

#[test]
fn a_batch_killed_with_sigkill_resumes_to_one_job_and_one_output_per_video() {
    let batch = FileBatch::new(12);
    let (sim, out, args) = (&batch.sim, &batch.out, batch.args());

    let mut first = start(sim, &args);
    wait_for_stderr(&mut first, ": job ");
    first.kill().expect("SIGKILL");
    assert!(!first.wait().unwrap().success());
    assert!(sim.job_count() < 12 || outputs(out).len() < 12, "the kill came mid-run");

    let second = start(sim, &args).wait_with_output().unwrap();
    let stderr = text(&second.stderr);
    assert!(stderr.starts_with("Using the RemoveBGVideo API at"), "{stderr}");
    // Off a terminal each item that ends says so on a line of its own.
    assert!(stderr.lines().any(|line| line.contains(": done, ") && line.ends_with(".webm")), "{stderr}");
    // A kill between a `create_sent` line and its request reaching the server leaves that item
    // uncertain: the rerun finds no job for it and, as promised, does not create one.
    let uncertain = report_statuses(out).iter().filter(|status| *status == "uncertain").count();
    if uncertain == 0 {
        assert_eq!(second.status.code(), Some(0), "{}\n{stderr}", text(&second.stdout));
    } else {
        assert_eq!(second.status.code(), Some(1), "{}", text(&second.stdout));
        assert_eq!(sim.job_count(), 12 - uncertain, "no job for an uncertain item");
        let mut recreate = args.to_vec();
        recreate.push("--recreate-uncertain".as_ref());
        let third = start(sim, &recreate).wait_with_output().unwrap();
        assert_eq!(third.status.code(), Some(0), "{}", text(&third.stdout));
    }
    assert_eq!(sim.job_count(), 12, "one job per video, none twice");
    let outputs = outputs(out);
    assert_eq!(outputs.len(), 12, "{outputs:?}");
    assert!(outputs.keys().all(|name| name.starts_with('f') && name.ends_with(".webm")));
    let statuses = report_statuses(out);
    assert_eq!(statuses.len(), 12);
    assert!(statuses.iter().all(|status| status == "completed" || status == "already_completed"), "{statuses:?}");
}

#[test]
fn ctrl_c_stops_a_batch_cleanly_and_a_rerun_finishes() {
    let batch = FileBatch::new(8);
    let (sim, out, args) = (&batch.sim, &batch.out, batch.args());

    let mut first = start(sim, &args);
    wait_for_stderr(&mut first, ": job ");
    let sent = Command::new("kill").args(["-INT", &first.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let stopped = first.wait_with_output().unwrap();
    let stdout = text(&stopped.stdout);
    assert_eq!(stopped.status.code(), Some(130), "a clean stop by Ctrl-C: {stdout}");
    assert!(stdout.contains("cancelled; run again"), "{stdout}");
    let report = std::fs::read_to_string(out.join("report.jsonl")).unwrap();
    assert!(report.contains("\"status\":\"unfinished\""), "{report}");

    let second = start(sim, &args).wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stdout));
    assert_eq!(sim.job_count(), 8);
    assert_eq!(outputs(out).len(), 8);
}

#[test]
fn the_exit_status_says_credits_and_bad_usage_and_shards_count_from_one() {
    let sim = simulator();
    sim.inject(FaultRule::new(Fault::Status(402)).method("POST").path_prefix("/v1/jobs").times(u32::MAX));
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    file_items(&inputs, 2);
    let out = dir.path().join("out");
    let inputs = inputs.to_str().unwrap();
    let out = out.to_str().unwrap();

    let credits = run(&sim, &["batch", inputs, "--out", out]);
    assert_eq!(credits.status.code(), Some(3), "{}", text(&credits.stdout));
    assert!(text(&credits.stdout).contains("out of credits"));
    assert_eq!(sim.job_count(), 0);

    for bad in [vec!["--concurrency", "0"], vec!["--shard", "3/2"], vec!["--no-such-flag"], vec!["/no/such/input"]] {
        let mut args = vec!["batch", inputs, "--out", out];
        args.extend(bad.iter().copied());
        assert_eq!(run(&sim, &args).status.code(), Some(2), "{bad:?}");
    }
    let zero = run(&sim, &["batch", inputs, "--out", out, "--shard", "0/2"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(text(&zero.stderr).contains("shards count from 1"), "{}", text(&zero.stderr));

    // 1/2 and 2/2 split the items between them: each item in exactly one part.
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("in");
    file_items(&all, 6);
    for part in ["1/2", "2/2"] {
        let out = dir.path().join(part.replace('/', "-of-"));
        let done = run(&sim, &["batch", all.to_str().unwrap(), "--out", out.to_str().unwrap(), "--shard", part]);
        assert_eq!(done.status.code(), Some(0), "{}", text(&done.stdout));
    }
    let first = outputs(&dir.path().join("1-of-2"));
    let second = outputs(&dir.path().join("2-of-2"));
    assert_eq!(first.len() + second.len(), 6);
    assert!(first.keys().all(|name| !second.contains_key(name)));
    assert_eq!(sim.job_count(), 6);
}

#[test]
fn run_takes_one_video_end_to_end() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.webm");
    let done = run(&sim, &["run", SAMPLE, "-o", out.to_str().unwrap(), "--model", "human", "--json"]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    // JSON lines: the job as soon as it exists, then the outcome.
    let lines: Vec<serde_json::Value> =
        text(&done.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let id = lines[0]["job_id"].as_str().unwrap_or_default();
    assert_eq!((lines[0]["event"].as_str(), id.starts_with("job_")), (Some("created"), true), "{lines:?}");
    let answer = &lines[1];
    assert_eq!(answer["event"], "completed");
    assert_eq!(answer["job"]["status"], "completed");
    assert_eq!(answer["size"], OUTPUT_SIZE);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), OUTPUT_SIZE as u64);
    assert_eq!(sim.job_count(), 1);
    assert_eq!(sim.upload_count(), 1);

    let missing = run(&sim, &["run", "/no/such/video.mp4"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/no/such/video.mp4"));
}

#[test]
fn read_commands_answer_in_json_for_scripts() {
    let sim = simulator();
    let client = sim.client().unwrap();
    let job = client.create_job(&removebgvideo::CreateJob::new("https://videos.example/a.mp4")).unwrap();

    let list = run(&sim, &["jobs", "list", "--json"]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["items"][0]["id"], job.id.as_str());

    let get = run(&sim, &["jobs", "get", &job.id, "--json"]);
    let got: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(got["id"], job.id.as_str());
    let waited = run(&sim, &["jobs", "wait", &job.id, "--json"]);
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
    let waited: serde_json::Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert_eq!(waited["status"], "completed");

    let missing = run(&sim, &["jobs", "get", "job_nope", "--json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("error:"));

    let pricing = run(&sim, &["pricing", "--json"]);
    let pricing: serde_json::Value = serde_json::from_slice(&pricing.stdout).unwrap();
    assert!(pricing["model_pricing_credits_per_minute"]["original"].is_number(), "{pricing}");
    let usage = run(&sim, &["usage", "--days", "7", "--json"]);
    assert_eq!(usage.status.code(), Some(0), "{}", text(&usage.stderr));
    serde_json::from_slice::<serde_json::Value>(&usage.stdout).unwrap();

    let estimate = run(&sim, &["estimate", SAMPLE, "--model", "pro", "--json"]);
    let estimate: serde_json::Value = serde_json::from_slice(&estimate.stdout).unwrap();
    assert_eq!(estimate["items"][0]["model"], "pro");
    assert!(estimate["total_credits"].as_f64().unwrap() > 0.0, "{estimate}");
    assert_eq!(sim.job_count(), 1, "read commands create nothing");
}

#[test]
fn without_a_key_it_runs_offline_and_says_so() {
    let done = Command::new(EXE)
        .args(["pricing", "--json"])
        .env_remove("REMOVEBGVIDEO_API_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(0));
    assert!(
        text(&done.stderr).contains("running offline against the built-in API simulator"),
        "{}",
        text(&done.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&done.stdout).expect("stdout stays JSON");
}

#[test]
fn webhook_send_signs_as_the_api_does_and_verify_checks_a_delivery() {
    let server = WireServer::serve(|_, stream| {
        let _ = stream.write_all(&wire::answer("200 OK", "Content-Length: 2\r\n", "ok"));
    });
    let url = format!("{}/hook", server.url());
    let sent = Command::new(EXE)
        .args(["webhook", "send", "--secret", "whsec_cli", "--event", "job.failed", "--job-id", "job_9", &url])
        .env_remove("REMOVEBGVIDEO_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(sent.status.code(), Some(0), "{}{}", text(&sent.stdout), text(&sent.stderr));
    assert!(text(&sent.stdout).starts_with("200"), "{}", text(&sent.stdout));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one delivery");
    let (headers, body) = (requests[0].headers.clone(), requests[0].body.clone());
    let event = Verifier::new("whsec_cli").unwrap().construct_event(&headers, &body).unwrap();
    assert_eq!(event.job_id.as_deref(), Some("job_9"));

    // The same delivery through `webhook verify`: valid with its secret, invalid with another
    // or with one byte changed.
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body.json");
    std::fs::write(&body_path, &body).unwrap();
    let verify = |secret: &str, body: &Path| {
        let mut args = vec!["webhook".to_owned(), "verify".into(), "--secret".into(), secret.into()];
        for (name, value) in &headers {
            args.push("-H".into());
            args.push(format!("{name}: {value}"));
        }
        args.push("--body".into());
        args.push(body.to_str().unwrap().into());
        Command::new(EXE).args(&args).env_remove("REMOVEBGVIDEO_WEBHOOK_SECRET").stdin(Stdio::null()).output().unwrap()
    };
    let valid = verify("whsec_cli", &body_path);
    assert_eq!((valid.status.code(), text(&valid.stdout).trim()), (Some(0), "valid"));
    let wrong = verify("whsec_other", &body_path);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stdout).starts_with("invalid:"), "{}", text(&wrong.stdout));
    let mut changed = body.clone();
    changed[0] = b' ';
    std::fs::write(&body_path, &changed).unwrap();
    assert_eq!(verify("whsec_cli", &body_path).status.code(), Some(1));
}

#[test]
fn simulator_serves_with_the_examples_flags_until_its_input_ends() {
    let served = serve_simulator(&["--api-key", "sim_cli_key", "--job-seconds", "0.1", "--credits", "50"]);
    let client = removebgvideo::Client::builder("sim_cli_key").base_url(&served.base_url).build().unwrap();
    let pricing = client.pricing().unwrap();
    assert!(!pricing.model_credits_per_minute.is_empty());

    let rest = served.stop();
    assert!(rest.contains("Stopped after"), "{rest}");
}

#[test]
fn compose_draws_a_transparent_output_on_a_colour_locally() {
    let Some(ffmpeg) = crate::support::require("ffmpeg", removebgvideo::compose::Ffmpeg::locate()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let foreground = dir.path().join("fg.webm");
    let made = Command::new(ffmpeg.program())
        .args(["-hide_banner", "-v", "error", "-y", "-filter_complex"])
        .arg("color=c=red@0.5:s=32x32:r=10:d=1,format=yuva420p")
        .args(["-c:v", "libvpx-vp9"])
        .arg(&foreground)
        .status()
        .unwrap();
    assert!(made.success());
    let out = dir.path().join("on-blue.mp4");
    let base = ["compose", foreground.to_str().unwrap(), out.to_str().unwrap(), "--background", "#1E90FF"];

    let mut dry = base.to_vec();
    dry.extend(["--canvas", "64x48", "--anchor", "bottom-center", "--offset", "0,-4", "--dry-run"]);
    let planned = Command::new(EXE).args(&dry).stdin(Stdio::null()).output().unwrap();
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    assert!(text(&planned.stdout).contains("libvpx-vp9"), "{}", text(&planned.stdout));
    assert!(!out.exists(), "a dry run runs nothing");

    let mut real = base.to_vec();
    real.extend(["--canvas", "64x48", "--quality", "draft"]);
    let done = Command::new(EXE).args(&real).stdin(Stdio::null()).output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert!(std::fs::metadata(&out).unwrap().len() > 0);

    let mut bad = base.to_vec();
    bad.extend(["--quality", "best"]);
    assert_eq!(Command::new(EXE).args(&bad).stdin(Stdio::null()).output().unwrap().status.code(), Some(2));
}

/// `removebgvideo simulator` serving with some flags, stopped when its input closes
/// (`--stop-on-eof`; `tests/it/simulator_daemon.rs` stops it with SIGTERM).
struct ServedSimulator {
    child: Child,
    stderr: std::process::ChildStderr,
    base_url: String,
}

/// Starts `removebgvideo simulator` with `flags`; the base URL comes from its `export` line,
/// the only line on its standard output.
fn serve_simulator(flags: &[&str]) -> ServedSimulator {
    use std::io::BufRead as _;

    let mut child = Command::new(EXE)
        .args(["simulator", "--stop-on-eof"])
        .args(flags)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base_url = first
        .split_whitespace()
        .find_map(|word| word.strip_prefix("REMOVEBGVIDEO_BASE_URL="))
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let stderr = child.stderr.take().unwrap();
    ServedSimulator { child, stderr, base_url }
}

impl ServedSimulator {
    /// Closes its input, checks that it stopped cleanly and returns what it wrote on its
    /// standard error.
    fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stderr, &mut rest).unwrap();
        assert!(self.child.wait().unwrap().success(), "{rest}");
        rest
    }
}

#[test]
fn the_simulator_commands_help_lists_every_flag_and_the_fault_syntax() {
    let help = Command::new(EXE).args(["simulator", "--help"]).output().unwrap();
    assert!(help.status.success());
    let help = text(&help.stdout);
    for flag in [
        "--port",
        "--api-key",
        "--admin-token",
        "--webhook-secret",
        "--credits",
        "--job-seconds",
        "--concurrency",
        "--max-upload-size",
        "--fault",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(help.contains("status="), "the fault syntax is documented:\n{help}");
}

#[test]
fn the_simulator_command_takes_its_port_keys_credits_upload_limit_and_faults_from_flags() {
    let port = wire::closed_port();
    let port_text = port.to_string();
    let served = serve_simulator(&[
        "--port",
        &port_text,
        "--api-key",
        "flag_key",
        "--admin-token",
        "flag_admin",
        "--credits",
        "0",
        "--max-upload-size",
        "1000",
        "--fault",
        "status=503,method=GET,path=/api/pricing,times=1",
    ]);
    let base_url = served.base_url.clone();
    assert_eq!(base_url, format!("http://127.0.0.1:{port}"));
    let client = removebgvideo::Client::builder("flag_key").base_url(&base_url).max_retries(0).build().unwrap();

    // --fault: the first pricing call meets the 503, the next one does not.
    assert_eq!(client.pricing().unwrap_err().status().map(|s| s.as_u16()), Some(503));
    assert!(client.pricing().is_ok());
    // --api-key: another key is refused.
    let stranger = removebgvideo::Client::builder("other_key").base_url(&base_url).max_retries(0).build().unwrap();
    assert_eq!(
        stranger.list_jobs(&removebgvideo::models::ListJobs::default()).unwrap_err().status().map(|s| s.as_u16()),
        Some(401)
    );
    // --admin-token.
    let admin = removebgvideo::AdminClient::builder("flag_admin").base_url(&base_url).build().unwrap();
    assert!(admin.list_keys().is_ok());
    let wrong =
        removebgvideo::AdminClient::builder("not_the_token").base_url(&base_url).max_retries(0).build().unwrap();
    assert_eq!(wrong.list_keys().unwrap_err().status().map(|s| s.as_u16()), Some(401));
    // --credits 0: a create is refused with 402.
    let refused = client.create_job(&removebgvideo::CreateJob::new("https://example.com/in.mp4")).unwrap_err();
    assert!(refused.is_insufficient_credits(), "{refused}");
    // --max-upload-size 1000: 2000 bytes are refused, 500 are taken.
    let too_big = client.upload_reader(std::io::Cursor::new(vec![0u8; 2000]), 2000, "big.mp4").unwrap_err();
    assert_eq!(too_big.status().map(|s| s.as_u16()), Some(400), "{too_big}");
    assert!(too_big.to_string().contains("File too large"), "{too_big}");
    assert!(client.upload_reader(std::io::Cursor::new(vec![0u8; 500]), 500, "small.mp4").is_ok());

    let _ = served.stop();
}

#[test]
fn the_simulator_command_signs_with_its_webhook_secret_and_holds_jobs_beyond_its_concurrency() {
    let (delivered, deliveries) = std::sync::mpsc::channel();
    let delivered = std::sync::Mutex::new(delivered);
    let receiver = WireServer::serve(move |request, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let _ = delivered.lock().unwrap().send(request.clone());
    });
    let hook = format!("{}/hook", receiver.url());
    let served = serve_simulator(&["--webhook-secret", "whsec_flag", "--job-seconds", "600", "--concurrency", "1"]);
    let base_url = served.base_url.clone();
    let client = removebgvideo::Client::builder("sim_test_key").base_url(&base_url).max_retries(0).build().unwrap();

    let first = client
        .create_job(&removebgvideo::CreateJob::new("https://example.com/a.mp4").webhook_url(hook.as_str()))
        .unwrap();
    let second = client.create_job(&removebgvideo::CreateJob::new("https://example.com/b.mp4")).unwrap();

    // --webhook-secret: the first delivery (the first job starting) verifies with it only.
    let delivery = deliveries.recv_timeout(Duration::from_secs(10)).expect("the first delivery");
    let (headers, body) = (delivery.headers, delivery.body);
    Verifier::new("whsec_flag").unwrap().verify(&headers, &body).expect("signed with --webhook-secret");
    assert!(Verifier::new("whsec_other").unwrap().verify(&headers, &body).is_err());
    assert!(text(&body).contains(&first.id));

    // --concurrency 1 and --job-seconds 600: the first job processes, the second waits.
    let status = |id: &str| client.get_job(id).unwrap().status.as_str().to_owned();
    assert_eq!(status(&first.id), "processing");
    assert_eq!(status(&second.id), "pending");

    let _ = served.stop();
}
