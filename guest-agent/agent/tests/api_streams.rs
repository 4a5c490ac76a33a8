//! A container's streams through the real docker CLI: `run` in the foreground (output,
//! exit code, piped stdin, a terminal with detach), logs, attach, stats and cp.

mod common;
mod pty;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use pty::Pty;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_prints_each_stream_and_exits_with_the_code() {
    let daemon = Daemon::start();
    assert_eq!(
        daemon.ok(&["run", "--network", "none", "berth/hello", "echo", "hi"]),
        "hi\n"
    );
    let out = daemon.docker(&[
        "run",
        "--network",
        "none",
        "berth/hello",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(text(&out.stdout), "out\n");
    assert_eq!(text(&out.stderr), "err\n");
}

#[test]
fn run_interactive_reads_piped_stdin_to_its_end() {
    let daemon = Daemon::start();
    let mut child = daemon
        .command()
        .args(["run", "--network", "none", "-i", "berth/hello", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hi\nthere\n")
        .unwrap();
    // The end of the piped input must end `cat` (StdinOnce); never hang the suite.
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("docker run -i did not end with its input");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    assert_eq!(text(&out.stdout), "hi\nthere\n");
}

#[test]
fn logs_with_tail_timestamps_since_and_follow() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "--network",
        "none",
        "--name",
        "lg",
        "berth/hello",
        "sh",
        "-c",
        "echo one; echo two; echo three; echo oops >&2",
    ]);
    let out = daemon.docker(&["logs", "lg"]);
    assert_eq!(text(&out.stdout), "one\ntwo\nthree\n");
    assert_eq!(text(&out.stderr), "oops\n");
    let out = daemon.docker(&["logs", "--tail", "2", "lg"]);
    assert_eq!(text(&out.stdout), "three\n");
    assert_eq!(text(&out.stderr), "oops\n");
    let stamped = daemon.ok(&["logs", "-t", "lg"]);
    let first = stamped.lines().next().unwrap();
    let (stamp, line) = first.split_once(' ').unwrap();
    assert_eq!(line, "one");
    assert!(stamp.ends_with('Z') && stamp.contains('T'), "{stamped}");
    let out = daemon.docker(&["logs", "--since", "2099-01-01T00:00:00Z", "lg"]);
    assert_eq!(text(&out.stdout), "");
    // Follow ends when the container does.
    daemon.ok(&[
        "run",
        "--network",
        "none",
        "-d",
        "--name",
        "fw",
        "berth/hello",
        "sh",
        "-c",
        "echo a; sleep 1; echo b",
    ]);
    assert_eq!(daemon.ok(&["logs", "-f", "fw"]), "a\nb\n");
}

#[test]
fn attach_relays_input_and_output() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "--network",
        "none",
        "-d",
        "-i",
        "--name",
        "at",
        "berth/hello",
        "sh",
        "-c",
        "read x; echo got $x; exit 2",
    ]);
    let out = daemon.docker_with_stdin(&["attach", "at"], b"hello\n");
    assert_eq!(text(&out.stdout), "got hello\n", "{out:?}");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn run_on_a_terminal_sizes_it_and_detaches_with_the_keys() {
    let daemon = Daemon::start();
    let mut command = daemon.command();
    command.args([
        "run",
        "--network",
        "none",
        "-it",
        "--name",
        "tt",
        "berth/hello",
        "sh",
    ]);
    let mut term = Pty::spawn(command, 33, 90);
    // The CLI sets the size right after the start; the shell's prompt comes about then.
    term.expect("/ # ", 0);
    std::thread::sleep(Duration::from_millis(300));
    term.type_keys(b"echo $((6*7)); stty size\r");
    let seen = term.expect("42", 0);
    let seen = term.expect("33 90", seen);
    term.resize(20, 70);
    std::thread::sleep(Duration::from_millis(500));
    term.type_keys(b"stty size\r");
    term.expect("20 70", seen);
    // ctrl-p ctrl-q: the CLI leaves, the container runs on.
    term.type_keys(b"\x10\x11");
    assert!(term.wait().success(), "{}", term.output());
    let running = daemon.ok(&["inspect", "-f", "{{.State.Running}}", "tt"]);
    assert_eq!(running.trim(), "true");
    // Attach again and end the shell.
    let mut command = daemon.command();
    command.args(["attach", "tt"]);
    let mut term = Pty::spawn(command, 24, 80);
    std::thread::sleep(Duration::from_millis(300));
    term.type_keys(b"echo again\r");
    term.expect("again", 0);
    term.type_keys(b"exit 3\r");
    assert_eq!(term.wait().code(), Some(3), "{}", term.output());
}

#[test]
fn stats_once_and_streaming() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "st",
        "berth/hello",
        "sleep",
        "300",
    ]);
    let once = daemon.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}",
        "st",
    ]);
    let fields: Vec<&str> = once.trim().split('|').collect();
    assert_eq!(fields[0], "st", "{once}");
    assert!(fields[1].ends_with('%'), "{once}");
    assert!(fields[2].contains("B / "), "{once}");
    assert_eq!(fields[3], "1", "{once}");
    let mut child = daemon
        .command()
        .args(["stats", "--format", "{{.Name}} {{.MemUsage}}", "st"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = 0;
    while seen < 2 {
        let line = lines.next().expect("stats stream ended").unwrap();
        if line.contains("st ") && line.contains("B / ") {
            seen += 1;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn cp_both_ways_and_a_missing_path() {
    let daemon = Daemon::start();
    daemon.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "box",
        "berth/hello",
        "sleep",
        "300",
    ]);
    daemon.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "mkdir -p /data/sub && echo inside > /data/sub/f",
    ]);
    let host = tempfile::tempdir().unwrap();
    let dest = host.path().join("out");
    daemon.ok(&["cp", "box:/data", dest.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(dest.join("sub/f")).unwrap(),
        "inside\n"
    );
    let file = host.path().join("in.txt");
    std::fs::write(&file, "from the host\n").unwrap();
    daemon.ok(&["cp", file.to_str().unwrap(), "box:/data/copied.txt"]);
    assert_eq!(
        daemon.ok(&["exec", "box", "cat", "/data/copied.txt"]),
        "from the host\n"
    );
    daemon.fails(
        &["cp", "box:/nope", host.path().to_str().unwrap()],
        "Could not find the file /nope in container box",
    );
    // The CLI checks a destination directory itself; a missing parent is the engine's 404.
    daemon.fails(
        &["cp", file.to_str().unwrap(), "box:/no/such/dir/"],
        "no such directory",
    );
    daemon.fails(
        &["cp", file.to_str().unwrap(), "box:/no/such/file"],
        "Could not find the file /no/such in container box",
    );
}
