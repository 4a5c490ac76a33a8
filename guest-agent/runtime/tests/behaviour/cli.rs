//! The CLI surface podman and conmon rely on: --pid-file, --log/--log-format json, and
//! `run` (exit code, signal forwarding, --detach).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::host::wait_until;
use crate::common::sandbox::path_str;
use crate::common::Sandbox;

#[test]
fn pid_file_names_the_containers_init() {
    let sandbox = Sandbox::new("cli-pidfile");
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["sleep", "1000"]);
    let pid_file = sandbox.path().join("init.pid");
    sandbox
        .create_as(&bundle, &bundle.id, &["--pid-file", path_str(&pid_file)])
        .expect_ok();
    let state = sandbox.state(&bundle.id).unwrap_or_else(|o| panic!("{o}"));
    let written = std::fs::read_to_string(&pid_file).expect("pid file written");
    assert_eq!(written.trim(), state["pid"].to_string(), "{state}");
}

#[test]
fn errors_are_logged_as_json_lines_with_a_msg() {
    let sandbox = Sandbox::new("cli-logjson");
    let log = sandbox.path().join("runtime.log");
    let missing = sandbox.path().join("no-such-bundle");
    let out = sandbox
        .runtime(&[
            "--log",
            path_str(&log),
            "--log-format",
            "json",
            "create",
            "--bundle",
            path_str(&missing),
            "logged",
        ])
        .expect_failure();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let messages: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["msg"].as_str().map(str::to_owned))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("no-such-bundle")),
        "no JSON log line names the missing bundle:\n{text}\n{out}"
    );
}

#[test]
fn run_returns_the_exit_code_and_forwards_sigterm() {
    let sandbox = Sandbox::new("cli-run-signal");
    let mut failing = sandbox.bundle("exit7");
    failing.sh("exit 7");
    let out = sandbox.run(&failing);
    assert_eq!(out.code, Some(7), "{out}");

    let mut bundle = sandbox.bundle("term");
    bundle.sh("trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done");
    bundle.write();
    let stdout = sandbox.path().join("run.out");
    let mut child = sandbox
        .command(&["run", "--bundle", path_str(&bundle.dir), &bundle.id])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&stdout).unwrap_or_default();
    wait_until("the container's trap", || read().contains("ready"));
    // SAFETY: kill(2) with a pid we spawned and a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "run did not end after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}: {}", read());
    assert_eq!(read(), "ready\ngot TERM\n");
    // `run` deletes its container once it exits.
    assert!(sandbox.state(&bundle.id).is_err());
}

#[test]
fn run_detach_returns_while_the_container_runs() {
    let sandbox = Sandbox::new("cli-run-detach");
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["sleep", "1000"]);
    bundle.write();
    let started = Instant::now();
    sandbox
        .runtime(&[
            "run",
            "--detach",
            "--bundle",
            path_str(&bundle.dir),
            &bundle.id,
        ])
        .expect_ok();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(sandbox.status(&bundle.id), "running");
}
