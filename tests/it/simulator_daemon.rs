//! `removebgvideo simulator` as a daemon: it serves with its standard input closed
//! (started with `&`, from a script, in CI or Docker) until SIGTERM, writes its port where asked,
//! prints only its `export` line on standard output, refuses an empty key at start, and keeps
//! answering at a low limit on open files.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::command::{text, EXE};

/// `command`, which ends with `--port-file`, given `port_file` and started with its standard
/// input closed (as from a script) and its output piped.
fn serving(command: &mut Command, port_file: &Path) -> Serving {
    let child = command
        .arg(port_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    Serving(child)
}

/// A simulator command that is killed when a failed assertion ends its test before the test
/// stops it (a daemon left serving would outlive the test run).
struct Serving(Child);

impl std::ops::Deref for Serving {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Serving {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn the_simulator_command_serves_with_no_input_until_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let port_file = dir.path().join("port");
    let mut child = serving(Command::new(EXE).args(["simulator", "--port-file"]), &port_file);
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

/// A shell's limit of 64 open files (soft and hard, so the command cannot raise it): the
/// simulator keeps at most 32 connections, says so, and answers the connections past them
/// 503 at once, where it used to leave them waiting for a descriptor while idle keep-alive
/// connections held every one.
#[cfg(unix)]
#[test]
fn at_a_low_file_limit_idle_connections_never_lock_new_clients_out() {
    let dir = tempfile::tempdir().expect("dir");
    let port_file = dir.path().join("port");
    let shell = r#"ulimit -n 64 && exec "$0" simulator --port-file "$1""#;
    let mut child = serving(Command::new("sh").args(["-c", shell, EXE]), &port_file);
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut said = String::new();
    while !said.contains("Stop with") {
        assert_ne!(stderr.read_line(&mut said).expect("stderr"), 0, "the command ended: {said}");
    }
    assert!(said.contains("At most 32 connections at once"), "{said}");
    let port: u16 = std::fs::read_to_string(&port_file).expect("port file").trim().parse().expect("a port");
    let get = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let connect = || {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        // A guard against a hung test: an answer that never comes fails it.
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("guard");
        BufReader::new(stream)
    };

    let mut held: Vec<BufReader<TcpStream>> = (0..32)
        .map(|_| {
            let mut stream = connect();
            assert_eq!(crate::support::wire::exchange(&mut stream, &get).0, "HTTP/1.1 200 OK");
            stream
        })
        .collect();
    for _ in 0..40 {
        let mut stream = connect();
        stream.get_mut().write_all(get.as_bytes()).expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("an answer, not a wait");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("too many open connections"), "{answer}");
    }
    assert_eq!(crate::support::wire::exchange(&mut held[0], &get).0, "HTTP/1.1 200 OK", "the held ones still serve");

    drop(held);
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    assert!(child.wait().expect("wait").success());
}
