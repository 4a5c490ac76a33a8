//! berth-agent's command line against the real engine (root): load the berth/hello demo
//! image, run containers in the foreground and background, and see a container outlive the
//! engine process that started it (every command here is a new engine process).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Agent;

#[test]
fn root_run_prints_output_and_exits_with_the_containers_code() {
    let agent = Agent::new();
    let out = agent.cmd(&[
        "run",
        "--rm",
        "berth/hello",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    // --rm left nothing behind.
    assert_eq!(agent.ok(&["ps", "-a"]).lines().count(), 1);
}

#[test]
fn root_a_background_container_outlives_the_engine_process_that_started_it() {
    let agent = Agent::new();
    let id = agent.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "berth/hello",
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
    ]);
    assert_eq!(id.trim().len(), 64, "{id}");
    // `run -d` has exited: each command below is a new engine that reattaches.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let logs = agent.ok(&["logs", "ticker"]);
        if logs.contains("tick 3") {
            assert!(
                logs.starts_with("tick 0\ntick 1\ntick 2\ntick 3"),
                "gap in the log: {logs}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no output: {logs:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(agent.ok(&["ps"]).contains("running"));
    agent.ok(&["stop", "-t", "1", "ticker"]);
    let ps = agent.ok(&["ps", "-a"]);
    assert!(
        ps.contains("exited(137)") || ps.contains("exited(143)"),
        "{ps}"
    );
    agent.ok(&["rm", "ticker"]);
    assert_eq!(agent.ok(&["ps", "-a"]).lines().count(), 1);
}

#[test]
fn root_bad_input_is_a_clear_error() {
    let agent = Agent::new();
    let out = agent.cmd(&["run", "--rm", "no/such-image", "true"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No such image: no/such-image"),
        "{out:?}"
    );
    let out = agent.cmd(&["run", "--rm", "-e", "=nokey", "berth/hello", "true"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("env"),
        "{out:?}"
    );
    agent.ok(&["run", "-d", "--name", "dup", "berth/hello", "sleep", "30"]);
    let out = agent.cmd(&["run", "-d", "--name", "dup", "berth/hello", "true"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already in use"),
        "{out:?}"
    );
    let out = agent.cmd(&["rm", "dup"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot remove a running container"),
        "{out:?}"
    );
}

#[test]
fn root_sigkill_of_the_engine_mid_output_loses_nothing() {
    use std::io::{BufRead, BufReader};
    let agent = Agent::new();
    let script = "i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); sleep 0.05; done; exit 7";
    let mut engine = Command::new(env!("CARGO_BIN_EXE_berth-agent"))
        .arg("--root")
        .arg(&agent.root)
        .arg("--runtime-root")
        .arg(&agent.runtime_root)
        .args([
            "run",
            "--name",
            "counter",
            "berth/hello",
            "sh",
            "-c",
            script,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(engine.stdout.take().unwrap()).lines();
    // Kill the engine process while the container is in the middle of its output.
    while let Some(Ok(line)) = lines.next() {
        if line == "line 5" {
            break;
        }
    }
    engine.kill().unwrap();
    engine.wait().unwrap();
    // A new engine finds the container, which kept running and logging, and its exit code.
    assert_eq!(agent.ok(&["wait", "counter"]).trim(), "7");
    let expected: String = (0..30).map(|i| format!("line {i}\n")).collect();
    assert_eq!(
        agent.ok(&["logs", "counter"]),
        expected,
        "the log has a gap"
    );
    assert!(agent.ok(&["ps", "-a"]).contains("exited(7)"));
}

/// CVE-2019-5736 through the engine: the container's first process is forked from the
/// monitor, so the monitor must not be the writable host binary.
#[test]
fn root_the_monitor_runs_from_an_unwritable_view_of_the_agent() {
    let agent = Agent::new();
    let id = agent.ok(&["run", "-d", "berth/hello", "sleep", "30"]);
    let pid_file = agent
        .root
        .join("containers")
        .join(id.trim())
        .join("monitor.pid");
    let pid = std::fs::read_to_string(pid_file).unwrap();
    let exe = std::fs::File::open(format!("/proc/{}/exe", pid.trim())).unwrap();
    let flags = nix::sys::statvfs::fstatvfs(&exe).unwrap().flags();
    assert!(
        flags.contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        "the monitor runs from a writable binary"
    );
}
