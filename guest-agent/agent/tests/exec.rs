//! berth-agent's exec, top, stats, cp and rmi against the real engine (root), on the
//! berth/hello demo image; every command is a new engine process.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Agent;

/// The names in a tar stream, listed by the host's tar.
fn tar_names(archive: &[u8]) -> Vec<String> {
    let mut tar = Command::new("tar")
        .arg("-tf")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    tar.stdin.take().unwrap().write_all(archive).unwrap();
    let out = tar.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn root_exec_runs_in_the_container_with_env_user_workdir_and_exit_code() {
    let agent = Agent::new();
    agent.ok(&["run", "-d", "--name", "box", "berth/hello", "sleep", "300"]);
    let script = "echo $GREETING; pwd; id -u; echo err >&2; exit 3";
    let out = agent.cmd(&[
        "exec",
        "-e",
        "GREETING=hi",
        "-w",
        "/var/www",
        "-u",
        "1234",
        "box",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n/var/www\n1234\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    // It runs in the container's namespaces: its pid 1 is the container's sleep.
    assert_eq!(
        agent.ok(&["exec", "box", "cat", "/proc/1/cmdline"]),
        "sleep\x00300\x00"
    );
    agent.fails(&["exec", "box", "/no/such/program"], "exec failed");
    agent.fails(&["exec", "nothere", "true"], "nothere");

    agent.ok(&["stop", "-t", "1", "box"]);
    agent.fails(&["exec", "box", "true"], "is not running");
}

#[test]
fn root_top_and_stats_show_the_containers_processes_and_usage() {
    let agent = Agent::new();
    agent.ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "berth/hello",
        "sleep",
        "313",
    ]);
    let top = agent.ok(&["top", "sleeper"]);
    let mut lines = top.lines();
    assert!(lines.next().unwrap().starts_with("PID"), "{top}");
    assert!(lines.any(|l| l.ends_with("sleep 313")), "{top}");

    let stats = agent.ok(&["stats", "sleeper"]);
    let row: Vec<&str> = stats.lines().nth(1).unwrap().split_whitespace().collect();
    let memory: u64 = row[2].parse().unwrap();
    let pids: u64 = row[4].parse().unwrap();
    assert!(memory > 0 && pids >= 1, "{stats}");

    agent.ok(&["stop", "-t", "1", "sleeper"]);
    agent.fails(&["top", "sleeper"], "is not running");
    agent.fails(&["stats", "sleeper"], "is not running");
}

#[test]
fn root_cp_out_and_in_as_tar_streams() {
    let agent = Agent::new();
    agent.ok(&[
        "run",
        "-d",
        "--name",
        "files",
        "berth/hello",
        "sleep",
        "300",
    ]);
    let out = agent.cmd(&["cp", "files:/var/www/index.html", "-"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(tar_names(&out.stdout), ["index.html"]);

    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("note.txt"), "copied in\n").unwrap();
    let tar = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(src.path())
        .arg("note.txt")
        .output()
        .unwrap();
    assert!(tar.status.success());
    let put = agent.cmd_with_stdin(&["cp", "-", "files:/tmp"], &tar.stdout);
    assert!(put.status.success(), "{put:?}");
    assert_eq!(
        agent.ok(&["exec", "files", "cat", "/tmp/note.txt"]),
        "copied in\n"
    );
    agent.fails(
        &["cp", "files:/no/such/file", "-"],
        "Could not find the file",
    );

    // A stopped container's root is mounted for the copy: the file is still there.
    agent.ok(&["stop", "-t", "1", "files"]);
    let out = agent.cmd(&["cp", "files:/tmp/note.txt", "-"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(tar_names(&out.stdout), ["note.txt"]);
}

#[test]
fn root_rmi_of_an_image_in_use_is_refused_until_the_container_is_removed() {
    let agent = Agent::new();
    agent.ok(&["run", "-d", "--name", "user", "berth/hello", "sleep", "300"]);
    agent.fails(&["rmi", "berth/hello"], "image is being used by");
    agent.fails(&["rmi", "-f", "berth/hello"], "running container");
    agent.ok(&["stop", "-t", "1", "user"]);
    agent.fails(&["rmi", "berth/hello"], "must be forced");
    agent.ok(&["rm", "user"]);
    let out = agent.ok(&["rmi", "berth/hello"]);
    assert!(
        out.contains("Untagged: docker.io/berth/hello:latest"),
        "{out}"
    );
    assert!(out.contains("Deleted: sha256:"), "{out}");
    assert_eq!(agent.ok(&["images"]).lines().count(), 1);
    agent.fails(&["rmi", "berth/hello"], "No such image");
}
