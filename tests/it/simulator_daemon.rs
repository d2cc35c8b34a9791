//! `removebgvideo simulator` as a daemon: it serves with its standard input closed
//! (started with `&`, from a script, in CI or Docker) until SIGTERM, writes its port where asked,
//! prints only its `export` line on standard output, and refuses an empty key at start.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::support::command::{text, EXE};

#[test]
fn the_simulator_command_serves_with_no_input_until_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let port_file = dir.path().join("port");
    let mut child = Command::new(EXE)
        .args(["simulator", "--port-file"])
        .arg(&port_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut exports = String::new();
    stdout.read_line(&mut exports).expect("the export line");
    assert!(exports.starts_with("export REMOVEBGVIDEO_API_KEY=sim_test_key "), "{exports}");

    // The port file is whole before the export line is printed.
    let port: u16 = std::fs::read_to_string(&port_file).expect("port file").trim().parse().expect("a port");
    assert!(exports.contains(&format!("REMOVEBGVIDEO_BASE_URL=http://127.0.0.1:{port} ")), "{exports}");
    // Its standard input ended at once; it still serves.
    let client = removebgvideo::Client::builder("sim_test_key")
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .expect("client");
    assert!(client.health().is_ok());

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    assert_eq!(rest, "", "nothing but the export line on standard output");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    assert!(stderr.contains("Stopped after 1 requests."), "{stderr}");
}

#[test]
fn the_simulator_command_refuses_an_empty_key_as_bad_usage() {
    for flag in ["--api-key", "--admin-token"] {
        let out = Command::new(EXE).args(["simulator", flag, ""]).stdin(Stdio::null()).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("is empty"), "{}", text(&out.stderr));
    }
}
