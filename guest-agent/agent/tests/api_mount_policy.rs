//! The VM's bind mount policy, natively: `serve --shares-only --shared-path P` as the VM's
//! init starts it. A bind source inside a shared folder works; anywhere else (also through
//! `..` or a symlink) is refused with Docker Desktop's "Mounts denied"; named volumes are
//! not binds and are unaffected. Without the flags nothing is refused (every other API
//! test runs that way).

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::daemon::Daemon;

/// The test's daemon restarted with the policy; killed when dropped.
struct Restricted(Child);

impl Drop for Restricted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Replaces `daemon`'s server by one that only allows binds from `shared`.
fn restrict(daemon: &mut Daemon, shared: &Path) -> Restricted {
    daemon.kill();
    let _ = std::fs::remove_file(&daemon.socket);
    let log = std::fs::File::create(daemon.socket.with_extension("log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_berth-agent"))
        .arg("--root")
        .arg(&daemon.agent.root)
        .arg("--runtime-root")
        .arg(&daemon.agent.runtime_root)
        .arg("serve")
        .arg("-H")
        .arg(&daemon.socket)
        .arg("--shares-only")
        .arg("--shared-path")
        .arg(shared)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Restricted(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !daemon.docker(&["version"]).status.success() {
        assert!(Instant::now() < deadline, "no server: {}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

const DENIED: &str = "is not shared from the host and is not known to Berth";

#[test]
fn binds_only_from_shared_folders() {
    let mut daemon = Daemon::start();
    let base = daemon.config.parent().unwrap().to_path_buf();
    let share = base.join("home/me");
    std::fs::create_dir_all(share.join("x")).unwrap();
    std::fs::write(share.join("x/file"), "from the host\n").unwrap();
    std::os::unix::fs::symlink("/etc", share.join("escape")).unwrap();
    let _server = restrict(&mut daemon, &share);
    let s = share.display();

    // Inside the share: read what the host wrote, write back.
    let bind = format!("{s}/x:/x");
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "berth/hello",
        "sh",
        "-c",
        "cat /x/file; echo back > /x/new",
    ]);
    assert_eq!(out, "from the host\n");
    assert_eq!(
        std::fs::read_to_string(share.join("x/new")).unwrap(),
        "back\n"
    );
    let mount = format!("type=bind,src={s},dst=/s,readonly");
    let out = daemon.ok(&[
        "run",
        "--rm",
        "--mount",
        &mount,
        "berth/hello",
        "cat",
        "/s/x/file",
    ]);
    assert_eq!(out, "from the host\n");

    // Outside every share: refused with docker's wording, nothing created.
    let out = daemon.fails(
        &["run", "--rm", "-v", "/etc:/x", "berth/hello", "true"],
        &format!("Mounts denied: the path /etc {DENIED}"),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Mounts denied"));
    let sibling = format!("type=bind,src={},dst=/x", base.display());
    daemon.fails(&["create", "--mount", &sibling, "berth/hello"], DENIED);
    let escape = format!("{s}/escape:/x");
    daemon.fails(
        &["run", "--rm", "-v", &escape, "berth/hello", "true"],
        DENIED,
    );

    // `..` is resolved before the check, whatever the client sends.
    let dotdot = format!("{s}/../../../../../../../../etc");
    let body = serde_json::json!({
        "Image": "berth/hello",
        "HostConfig": { "Binds": [format!("{dotdot}:/x")] },
    });
    let (status, answer) = daemon.http("POST", "/containers/create", body.to_string().as_bytes());
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("Mounts denied") && answer.contains(DENIED),
        "{answer}"
    );
    assert!(daemon.ok(&["ps", "-aq"]).trim().is_empty());

    // Named volumes are Berth's own: unaffected.
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "policy-vol:/v",
        "berth/hello",
        "sh",
        "-c",
        "echo kept > /v/f && cat /v/f",
    ]);
    assert_eq!(out, "kept\n");
    daemon.ok(&["volume", "rm", "policy-vol"]);
}
