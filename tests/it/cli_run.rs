//! `removebgvideo run` and `jobs download` as a person trusting them with their credits: every
//! local check before the upload, the job id said as soon as the job exists, Ctrl-C that says
//! how to carry on, `run --job` that creates nothing, a download that resumes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use removebgvideo::clock::ManualClock;
use removebgvideo::simulator::{ProcessingTime, Simulator};

use crate::support::batch::*;
use crate::support::command::{command, run, text, EXE};
use crate::support::wire::{self, wait_for_hangup, Act, WireServer};

/// The body of the simulator's one `POST /v1/jobs`, as JSON.
fn create_body(sim: &Simulator) -> serde_json::Value {
    let creates: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "POST" && r.path == "/v1/jobs").collect();
    assert_eq!(creates.len(), 1, "one create");
    serde_json::from_slice(&creates[0].body).unwrap()
}

#[test]
fn every_local_check_fails_before_anything_is_sent() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let words = dir.path().join("words.mp4");
    std::fs::write(&words, b"this is not a video, only text in a file named .mp4\n").unwrap();
    let taken = dir.path().join("taken.webm");
    std::fs::write(&taken, b"an earlier output").unwrap();
    let missing = dir.path().join("no-such-folder").join("x.webm");
    let (empty, words, taken, missing) =
        (empty.to_str().unwrap(), words.to_str().unwrap(), taken.to_str().unwrap(), missing.to_str().unwrap());

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", SAMPLE, "--model", "bogus"], "bogus"),
        (vec!["run", SAMPLE, "--output-format", "avi"], "avi"),
        (vec!["run", SAMPLE, "--bg-type", "pink"], "pink"),
        (vec!["run", SAMPLE, "--output-format", "mp4"], "webm, mov, gif, webp or png_sequence"),
        (vec!["run", SAMPLE, "--output-format", "mp4", "--bg-type", "transparent"], "no alpha"),
        (vec!["run", empty], "is empty"),
        (vec!["run", words], "not a video"),
        (vec!["run", "/no/such/video.mp4"], "could not read /no/such/video.mp4"),
        (vec!["run", SAMPLE, "-o", missing], "does not exist"),
        (vec!["run", SAMPLE, "-o", taken], "already exists (--force overwrites it)"),
        (vec!["run", "http://exa mple.com/in.mp4"], "invalid input URL"),
        (vec!["run", SAMPLE, "--webhook-url", "hooks.example/in"], "--webhook-url"),
        (vec!["run", "--job", "job_1", SAMPLE], "cannot be used with"),
        (vec!["jobs", "list", "--limit", "1000"], "1..=100"),
        (vec!["jobs", "list", "--limit", "0"], "1..=100"),
        (vec!["usage", "--days", "0"], "1..=90"),
        (vec!["batch", "--out", dir.path().to_str().unwrap()], "INPUTS"),
        (vec!["estimate", SAMPLE, "--model", "bogus"], "bogus"),
        (vec!["batch", SAMPLE, "--bg-type", "transparent", "--output-format", "mp4"], "no alpha"),
    ];
    for (args, says) in &cases {
        let done = run(&sim, args);
        let stderr = text(&done.stderr);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} should say {says:?}: {stderr}");
        assert!(sim.requests().is_empty(), "{args:?} sent {:?}", sim.requests());
    }
    assert_eq!(std::fs::read(taken).unwrap(), b"an earlier output", "not overwritten");

    // A folder as the output takes the default name; without flags the job is a transparent
    // WebM; --force overwrites.
    let folder = dir.path().join("outputs");
    std::fs::create_dir(&folder).unwrap();
    let done = run(&sim, &["run", SAMPLE, "-o", folder.to_str().unwrap()]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert_eq!(std::fs::metadata(folder.join("sample-nobg.webm")).unwrap().len(), OUTPUT_SIZE as u64);
    let body = create_body(&sim);
    assert_eq!((body["bg_type"].as_str(), body["output_format"].as_str()), (Some("transparent"), Some("webm")));
    let forced = run(&sim, &["run", SAMPLE, "-o", taken, "--force", "--bg-type", "green", "--output-format", "mp4"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert_eq!(std::fs::metadata(taken).unwrap().len(), OUTPUT_SIZE as u64);
}

#[test]
fn an_output_folder_that_takes_no_files_is_refused_before_the_upload() {
    use std::os::unix::fs::PermissionsExt as _;

    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), b"").is_ok() {
        // Root writes anywhere: there is no folder this user cannot write to.
        return crate::support::skipped("this user can write to a read-only folder (root)");
    }
    let done = run(&sim, &["run", SAMPLE, "-o", locked.join("x.webm").to_str().unwrap()]);
    assert_eq!(done.status.code(), Some(2), "{}", text(&done.stderr));
    assert!(text(&done.stderr).contains("does not take new files"), "{}", text(&done.stderr));
    assert!(sim.requests().is_empty());
}

/// Reads `reader`'s lines until one contains `needle`; returns everything read.
fn read_until(reader: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        assert!(read > 0, "ended before {needle:?}: {seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}

#[test]
fn ctrl_c_during_run_names_the_job_and_run_job_carries_it_on_without_a_second_create() {
    let clock = ManualClock::new();
    let sim = sim_builder()
        .clock(clock.clone())
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(600)))
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.webm");
    let mut child = command(&sim, &["run", SAMPLE, "-o", out.to_str().unwrap(), "--json"]).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let said = read_until(&mut stderr, "created");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["event"].as_str(), Some("created"));
    // The simulator's ids are random: the one the command was given.
    let id = first["job_id"].as_str().unwrap().to_owned();
    assert!(said.contains(&format!("job {id} created")), "{said}");

    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut last = String::new();
    stdout.read_to_string(&mut last).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    let carry_on = format!("removebgvideo run --job {id} -o {}", out.display());
    assert!(rest.contains(&format!("job {id} is still running")) && rest.contains(&carry_on), "{rest}");
    let last: serde_json::Value = serde_json::from_str(last.trim()).unwrap();
    assert_eq!((last["event"].as_str(), last["carry_on"].as_str()), (Some("interrupted"), Some(carry_on.as_str())));
    assert!(!out.exists());

    // The job finishes meanwhile; `run --job` fetches it and creates nothing.
    clock.advance(Duration::from_secs(600));
    let resumed = run(&sim, &["run", "--job", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(std::fs::metadata(&out).unwrap().len(), OUTPUT_SIZE as u64);
    assert_eq!((sim.job_count(), creates_sent(&sim), sim.upload_count()), (1, 1, 1));
}

#[test]
fn a_run_that_times_out_names_the_command_that_carries_on() {
    let sim = sim_builder().job_seconds(600.0).start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slow.webm");
    let done = run(&sim, &["run", SAMPLE, "-o", out.to_str().unwrap(), "--timeout", "0", "--json"]);
    let stderr = text(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    let events: Vec<serde_json::Value> =
        text(&done.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!((events[0]["event"].as_str(), events[1]["event"].as_str()), (Some("created"), Some("failed")));
    let id = events[0]["job_id"].as_str().unwrap();
    assert!(events[1]["error"].as_str().unwrap().contains(&format!("run --job {id}")), "{events:?}");
    assert!(
        stderr.contains(&format!("get its output with: removebgvideo run --job {id} -o {}", out.display())),
        "{stderr}"
    );

    let waited = run(&sim, &["jobs", "wait", id, "--timeout", "0"]);
    assert_eq!(waited.status.code(), Some(1));
    assert!(
        text(&waited.stderr).contains(&format!("get its output with: removebgvideo run --job {id}")),
        "{}",
        text(&waited.stderr)
    );

    // `jobs download` of a job still running says how to wait for it, and fetches nothing.
    let early = run(&sim, &["jobs", "download", id, "-o", out.to_str().unwrap()]);
    assert_eq!(early.status.code(), Some(1));
    assert!(text(&early.stderr).contains("not completed: add --wait"), "{}", text(&early.stderr));
    assert!(!out.exists());
}

/// A stand-in API for one completed job whose output breaks off halfway the first time it
/// is fetched, and is served from the asked offset (206) after that. Logs each output
/// request's `Range` start.
/// With `stall`, the first answer stops halfway without closing (until the command hangs
/// up), and `half_sent` hears when it has.
fn cutting_api(data: Arc<Vec<u8>>, stall: bool) -> (WireServer, Arc<Mutex<Vec<u64>>>, mpsc::Receiver<()>) {
    let (half_sent, heard) = mpsc::channel();
    let half_sent = Mutex::new(half_sent);
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&ranges);
    let server = WireServer::serve(move |request, stream| {
        if request.target().starts_with("/v1/jobs/job_cut") {
            let host = request.header("host").unwrap_or_default();
            let job = serde_json::json!({
                "id": "job_cut", "status": "completed", "progress": 100, "output_format": "webm",
                "output_url": format!("http://{host}/outputs/job_cut.webm"),
            })
            .to_string();
            let _ = stream.write_all(&wire::json(&job));
            return;
        }
        let from: u64 = request
            .header("range")
            .and_then(|range| range.strip_prefix("bytes=")?.trim_end_matches('-').parse().ok())
            .unwrap_or(0);
        let first = {
            let mut log = log.lock().unwrap();
            log.push(from);
            log.len() == 1
        };
        let total = data.len() as u64;
        let head = if from == 0 {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n")
        } else {
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{total}\r\nConnection: close\r\n\r\n",
                total - from,
                total - 1
            )
        };
        let body = if first { &data[..data.len() / 2] } else { &data[from as usize..] };
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
        if first {
            let _ = half_sent.lock().unwrap().send(());
            if stall {
                wait_for_hangup(stream);
            }
        }
        // Closing here cuts the first answer short of its Content-Length.
    });
    (server, ranges, heard)
}

/// `jobs download job_cut -o out` against the stand-in API at `base`.
fn download_from(base: &str, out: &std::path::Path) -> Command {
    let mut command = Command::new(EXE);
    command
        .args(["jobs", "download", "job_cut", "-o"])
        .arg(out)
        .env("REMOVEBGVIDEO_API_KEY", "sk_test_cut")
        .env("REMOVEBGVIDEO_BASE_URL", base)
        .stdin(Stdio::null());
    command
}

#[test]
fn jobs_download_resumes_a_cut_download() {
    let data: Arc<Vec<u8>> = Arc::new((0..300_000u32).map(|i| (i * 7 % 251) as u8).collect());
    let (server, ranges, _) = cutting_api(Arc::clone(&data), false);
    let base = server.url();
    let dir = tempfile::tempdir().unwrap();
    let done = download_from(base, dir.path()).output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let path = dir.path().join("job_cut-nobg.webm");
    assert!(text(&done.stdout).contains(&path.display().to_string()), "{}", text(&done.stdout));
    assert_eq!(&std::fs::read(&path).unwrap(), data.as_ref());
    assert_eq!(*ranges.lock().unwrap(), vec![0, data.len() as u64 / 2], "the second request resumed at the cut");

    // Fetched again: the output is there, and is not overwritten without --force.
    let again = download_from(base, &path).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
}

#[test]
fn ctrl_c_during_a_download_leaves_no_partial_file() {
    let data: Arc<Vec<u8>> = Arc::new(vec![7u8; 600_000]);
    let (server, _, half_sent) = cutting_api(Arc::clone(&data), true);
    let base = server.url();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.webm");
    let child = download_from(base, &out).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    half_sent.recv().unwrap();
    let partial = dir.path().join("clip.webm.part");
    assert!(partial.exists(), "the download is under way");
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let stopped = child.wait_with_output().unwrap();
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stderr).contains("job job_cut is unchanged"), "{}", text(&stopped.stderr));
    assert!(!partial.exists() && !out.exists(), "{:?}", std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>());
}

#[test]
fn quiet_prints_only_the_result_and_no_color_keeps_escape_codes_out() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.webm");
    let quiet = run(&sim, &["run", SAMPLE, "-o", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "", "nothing but errors on standard error");
    assert!(text(&quiet.stdout).contains("completed"));

    let bad = |extra: &[&str], no_color: Option<&str>| {
        let mut command = command(&sim, &["run", SAMPLE, "--model", "bogus"]);
        command.args(extra).env("CLICOLOR_FORCE", "1").env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let done = command.output().unwrap();
        assert_eq!(done.status.code(), Some(2));
        text(&done.stderr)
    };
    assert!(bad(&[], None).contains('\x1b'), "colours when forced, so the next checks can fail");
    assert!(!bad(&["--no-color"], None).contains('\x1b'));
    assert!(!bad(&[], Some("1")).contains('\x1b'));
}

#[test]
fn completions_generate_for_bash_zsh_and_fish() {
    for (shell, marker) in
        [("bash", "complete -F"), ("zsh", "#compdef removebgvideo"), ("fish", "complete -c removebgvideo")]
    {
        let done = Command::new(EXE).args(["completions", shell]).stdin(Stdio::null()).output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{shell}");
        let script = text(&done.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("download") && script.contains("output-format"), "{shell} knows the subcommands");
    }
    let unknown = Command::new(EXE).args(["completions", "cmd"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

/// Accepts connections on 127.0.0.1 and never answers; the URL to it carries secrets.
fn silent_receiver() -> (String, WireServer) {
    let server = WireServer::script(vec![Act::Silent]);
    let port = server.url().rsplit(':').next().unwrap().to_owned();
    (format!("http://hook-user:hook-password@127.0.0.1:{port}/hook?token=signed-secret"), server)
}

#[test]
fn webhook_send_gives_up_on_a_silent_receiver_and_never_prints_a_urls_secrets() {
    let (url, held) = silent_receiver();
    let done = Command::new(EXE)
        .args(["webhook", "send", "--secret", "whsec_cli", "--timeout", "0.3", &url])
        .env_remove("REMOVEBGVIDEO_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no answer within 0.3 s"), "{stderr}");
    assert!(stderr.contains("http://127.0.0.1:"), "{stderr}");
    for secret in ["hook-user", "hook-password", "signed-secret", "token"] {
        assert!(!stderr.contains(secret), "{secret} in {stderr}");
    }
    // The command hung up: the connection is over.
    held.wait_finished(1, Duration::from_secs(10));

    let bad = Command::new(EXE)
        .args(["webhook", "send", "--secret", "s", "http://user:pw@hooks example/in"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "a malformed URL is a usage error");
    assert!(!text(&bad.stderr).contains("pw"), "not echoed: {}", text(&bad.stderr));
}

#[test]
fn webhook_send_reads_only_the_start_of_a_huge_answer() {
    const ANNOUNCED: u64 = 1 << 30;
    // Writes until the command hangs up; what it never read stays in socket buffers.
    let server = WireServer::script(vec![Act::Endless {
        head: format!("HTTP/1.1 200 OK\r\nContent-Length: {ANNOUNCED}\r\nConnection: close\r\n\r\n").into_bytes(),
        chunked: false,
        limit: ANNOUNCED,
    }]);
    let url = format!("{}/hook", server.url());
    let done = Command::new(EXE)
        .args(["webhook", "send", "--secret", "whsec_cli", &url])
        .env_remove("REMOVEBGVIDEO_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let stdout = text(&done.stdout);
    assert!(stdout.starts_with("200 OK\n"), "{stdout}");
    assert!(stdout.len() <= 4096 + 16, "{} bytes printed", stdout.len());
    server.wait_finished(1, Duration::from_secs(10));
    let written = server.written();
    assert!(written < 64 << 20, "the command read {written} bytes of a 1 GiB answer");
}

#[test]
fn offline_commands_say_they_see_only_their_own_jobs() {
    let done = Command::new(EXE)
        .args(["jobs", "list", "--json"])
        .env_remove("REMOVEBGVIDEO_API_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(0));
    let stderr = text(&done.stderr);
    assert!(stderr.contains("sees only the jobs this command makes"), "{stderr}");
    assert!(stderr.contains("`removebgvideo simulator`"), "{stderr}");
    serde_json::from_slice::<serde_json::Value>(&done.stdout).expect("stdout stays JSON");
}

#[test]
fn batch_json_prints_the_outcome_without_report() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    file_items(&inputs, 1);
    let out = dir.path().join("out");
    let done = run(&sim, &["batch", inputs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&done.stdout).expect("one JSON document");
    assert_eq!(answer["outcome"], "finished");
    assert_eq!(answer["items"][0]["status"], "completed");

    let estimate = run(&sim, &["estimate", SAMPLE]);
    let stdout = text(&estimate.stdout);
    assert!(stdout.contains("\n1 item, estimated "), "{stdout}");
}
