//! Exec through the real docker CLI: output and exit codes, env/user/workdir, detached,
//! stdin, a terminal with its size and a live resize, and errors.

mod common;
mod pty;

use std::time::{Duration, Instant};

use common::daemon::Daemon;
use pty::Pty;

/// A daemon with a running container named `name`.
fn with_container(name: &str) -> Daemon {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        name,
        "berth/hello",
        "sleep",
        "300",
    ]);
    daemon
}

#[test]
fn exec_prints_output_on_each_stream_and_exits_with_the_code() {
    let daemon = with_container("box");
    let out = daemon.docker(&["exec", "box", "true"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = daemon.docker(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
}

#[test]
fn exec_with_env_user_and_working_dir() {
    let daemon = with_container("box");
    let out = daemon.ok(&[
        "exec",
        "-e",
        "A=1",
        "-u",
        "1000",
        "-w",
        "/tmp",
        "box",
        "sh",
        "-c",
        "echo $A; id -u; pwd",
    ]);
    assert_eq!(out, "1\n1000\n/tmp\n");
}

#[test]
fn exec_reads_piped_stdin_to_its_end() {
    let daemon = with_container("box");
    let out = daemon.docker_with_stdin(&["exec", "-i", "box", "cat"], b"hello\nworld\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\nworld\n");
}

#[test]
fn detached_exec_runs_in_the_background() {
    let daemon = with_container("box");
    let out = daemon.ok(&[
        "exec",
        "-d",
        "box",
        "sh",
        "-c",
        "sleep 0.3; echo done > /tmp/marker",
    ]);
    assert_eq!(out, "");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = daemon.docker(&["exec", "box", "cat", "/tmp/marker"]);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
            break;
        }
        assert!(Instant::now() < deadline, "the detached exec never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exec_on_a_terminal_has_its_size_and_follows_a_resize() {
    let daemon = with_container("box");
    let mut command = daemon.command();
    command.args(["exec", "-it", "box", "sh"]);
    let mut term = Pty::spawn(command, 30, 100);
    term.type_keys(b"stty size\r");
    let seen = term.expect("30 100", 0);
    term.resize(40, 120);
    // The CLI relays the new size on SIGWINCH; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    term.type_keys(b"stty size\r");
    term.expect("40 120", seen);
    term.type_keys(b"exit 5\r");
    assert_eq!(term.wait().code(), Some(5), "{}", term.output());
}

#[test]
fn exec_errors_are_docker_s() {
    let daemon = with_container("box");
    let out = daemon.docker(&["exec", "box", "/no/such/binary"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let (status, body) = daemon.http("GET", "/v1.50/exec/nope/json", b"");
    assert_eq!(status, 404);
    assert!(body.contains("No such exec instance: nope"), "{body}");
    let (status, _) = daemon.http("POST", "/v1.50/exec/nope/resize?h=1&w=1", b"");
    assert_eq!(status, 404);
    daemon.ok(&["stop", "-t", "0", "box"]);
    daemon.fails(&["exec", "box", "true"], "is not running");
    daemon.fails(&["exec", "nothing", "true"], "No such container");
}
