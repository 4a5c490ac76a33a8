//! Restart policies across a daemon restart, through the real docker CLI: the VM agent's
//! power-down stops containers with `berth-shutdown=1` (not a stop by the user), and the
//! next `berth-agent serve` starts `always` and `unless-stopped` containers again before
//! it answers, as dockerd does; one the user stopped stays stopped under
//! `unless-stopped`. Needs root (containers really run).

mod common;

use common::daemon::Daemon;

fn run(daemon: &Daemon, name: &str, policy: &str) {
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        name,
        "--restart",
        policy,
        "berth/hello",
        "sleep",
        "100",
    ]);
}

fn state(daemon: &Daemon, name: &str) -> String {
    let format = "{{.State.Status}} {{.State.ExitCode}}";
    daemon
        .ok(&["inspect", "-f", format, name])
        .trim()
        .to_string()
}

#[test]
fn shutdown_stopped_containers_come_back_with_the_daemon_by_policy() {
    let mut daemon = Daemon::start();
    run(&daemon, "always", "always");
    run(&daemon, "unless", "unless-stopped");
    run(&daemon, "manual", "unless-stopped");
    for name in ["always", "unless"] {
        let path = format!("/v1.50/containers/{name}/stop?t=1&berth-shutdown=1");
        let (status, body) = daemon.http("POST", &path, b"");
        assert_eq!(status, 204, "{body}");
        assert!(state(&daemon, name).starts_with("exited"));
    }
    daemon.ok(&["stop", "-t", "1", "manual"]);
    daemon.kill();

    // No polling: the containers are running by the time the API answers.
    daemon.spawn();
    assert_eq!(state(&daemon, "always"), "running 0");
    assert_eq!(state(&daemon, "unless"), "running 0");
    assert!(state(&daemon, "manual").starts_with("exited"));
}
