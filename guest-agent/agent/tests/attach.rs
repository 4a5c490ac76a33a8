//! berth-agent's attach and `exec -t` against the real engine (root), on berth/hello.

mod common;

use std::io::{Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::Agent;

fn spawn(agent: &Agent, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_berth-agent"))
        .arg("--root")
        .arg(&agent.root)
        .arg("--runtime-root")
        .arg(&agent.runtime_root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child's stdout as chunks arrive.
fn chunks(mut stdout: ChildStdout) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads from `rx` until what was read contains `wanted`; panics after 20 s.
fn read_until(rx: &Receiver<Vec<u8>>, seen: &mut String, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.contains(wanted) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Err(e) => panic!("waiting for {wanted:?}, got {seen:?}: {e}"),
        }
    }
}

#[test]
fn root_attach_sends_stdin_and_detaches_with_the_keys_leaving_the_container_running() {
    let agent = Agent::new();
    agent.ok(&["run", "-d", "-i", "--name", "cat", "berth/hello", "cat"]);
    let mut attach = spawn(&agent, &["attach", "cat"]);
    let rx = chunks(attach.stdout.take().unwrap());
    let mut stdin = attach.stdin.take().unwrap();
    stdin.write_all(b"hello\n").unwrap();
    let mut seen = String::new();
    read_until(&rx, &mut seen, "hello\n");
    stdin.write_all(&[0x10, 0x11]).unwrap();
    let out = attach.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read escape sequence"));
    // Still running: exec works, and cat still echoes to a new client.
    agent.ok(&["exec", "cat", "true"]);

    let mut again = spawn(&agent, &["attach", "--detach-keys", "ctrl-a,x", "cat"]);
    let rx = chunks(again.stdout.take().unwrap());
    let mut stdin = again.stdin.take().unwrap();
    stdin.write_all(b"second\n").unwrap();
    let mut seen = String::new();
    read_until(&rx, &mut seen, "second\n");
    stdin.write_all(b"\x01x").unwrap();
    assert!(again.wait().unwrap().success());
    agent.ok(&["exec", "cat", "true"]);

    agent.fails(
        &["attach", "--detach-keys", "ctrl-1", "cat"],
        "Invalid detach keys",
    );
    agent.ok(&["stop", "-t", "1", "cat"]);
    agent.fails(&["attach", "cat"], "is not running");
}

#[test]
fn root_attach_shows_output_live_and_exits_with_the_containers_code() {
    let agent = Agent::new();
    let script = "sleep 2; for i in 1 2 3; do echo line$i; sleep 0.2; done; echo oops >&2; exit 7";
    agent.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        "berth/hello",
        "sh",
        "-c",
        script,
    ]);
    let mut attach = spawn(&agent, &["attach", "--no-stdin", "talker"]);
    let rx = chunks(attach.stdout.take().unwrap());
    let mut seen = String::new();
    // The first line arrives while the container still runs.
    read_until(&rx, &mut seen, "line1\n");
    agent.ok(&["exec", "talker", "true"]);
    let status = attach.wait().unwrap();
    read_until(&rx, &mut seen, "line3\n");
    assert_eq!(seen, "line1\nline2\nline3\n");
    assert_eq!(status.code(), Some(7));
    let mut stderr = String::new();
    attach
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "oops\n");
}

#[test]
fn root_exec_with_a_tty_runs_on_a_pty_of_the_requested_size() {
    let agent = Agent::new();
    agent.ok(&["run", "-d", "--name", "box", "berth/hello", "sleep", "300"]);
    let tty = agent.ok(&["exec", "-t", "box", "tty"]);
    let tty = tty.trim_end();
    let n = tty
        .strip_prefix("/dev/pts/")
        .unwrap_or_else(|| panic!("{tty:?}"));
    assert!(n.parse::<u32>().is_ok(), "{tty:?}");
    assert_eq!(
        agent.ok(&["exec", "-t", "--size", "40x100", "box", "stty", "size"]),
        "40 100\r\n"
    );
    // Input with -i; the exit code passes through.
    let out = agent.cmd_with_stdin(
        &[
            "exec",
            "-i",
            "-t",
            "box",
            "sh",
            "-c",
            "read line; echo got:$line; exit 4",
        ],
        b"typed\n",
    );
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("got:typed"),
        "{out:?}"
    );
    // Without -t, exec still runs on plain pipes.
    agent.fails(&["exec", "box", "tty"], "");
}
