//! Shared folders in the real Berth VM (QEMU under TCG here, one virtiofsd per share): the
//! guest sees each host folder at the same absolute path, writes cross both ways at once, a
//! read-only share refuses writes, and the Docker API over vsock binds from a share (a
//! container reads the host's file and writes one the host sees) but refuses a bind from
//! anywhere else ("Mounts denied"). One boot for all of it: boots cost seconds under TCG.
//!
//! The image must be built first (`vm-image/build`); `BERTH_VM_IMAGE` points elsewhere.
//! Needs virtiofsd (`cargo install virtiofsd`; scripts/setup installs it).

#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use berth_host::backend::{Share, Status};
use common::Guest;

/// The pids of the virtiofsd processes serving this VM's state directory.
fn virtiofsd_pids(state: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("virtiofsd") && cmdline.contains(&*state.to_string_lossy()) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn vm_shares_host_folders_at_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    // A space and a comma: the path crosses QEMU options and the kernel command line.
    let share = dir.path().join("my share,1");
    let ro = dir.path().join("read-only");
    std::fs::create_dir_all(share.join("x")).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(share.join("hello.txt"), "from the host\n").unwrap();
    std::fs::write(share.join("x/file"), "for the container\n").unwrap();
    std::fs::write(ro.join("keep.txt"), "untouched\n").unwrap();
    let state = dir.path().join("run");
    let guest = Guest::new(
        dir,
        4 << 30,
        vec![
            Share {
                tag: "share0".into(),
                host_path: share.clone(),
                read_only: false,
            },
            Share {
                tag: "share1".into(),
                host_path: ro.clone(),
                read_only: true,
            },
        ],
    );
    guest.boot();
    // One per share (two processes each under --sandbox=namespace: it forks into it).
    assert!(virtiofsd_pids(&state).len() >= 2);
    let s = share.to_str().unwrap();
    let r = ro.to_str().unwrap();

    // The guest sees the host's file at the same absolute path, on virtiofs.
    let (code, out, err) = guest.exec(&["cat", &format!("{s}/hello.txt")], b"");
    assert_eq!((code, out.as_str()), (0, "from the host\n"), "{err}");
    let mounts = guest.sh("cat /proc/mounts");
    assert!(
        mounts.contains("share0 ") && mounts.contains("share1 "),
        "{mounts}"
    );
    assert!(
        mounts
            .lines()
            .any(|l| l.starts_with("share1 ") && l.contains(" ro,")),
        "{mounts}"
    );

    // A guest write is on the host at once; a host write is in the guest.
    guest.sh(&format!("echo from the guest > '{s}/guest.txt'"));
    assert_eq!(
        std::fs::read_to_string(share.join("guest.txt")).unwrap(),
        "from the guest\n"
    );
    std::fs::write(share.join("later.txt"), "written later\n").unwrap();
    assert_eq!(guest.sh(&format!("cat '{s}/later.txt'")), "written later\n");

    // The read-only share refuses writes.
    let (code, _, err) = guest.exec(&["/bin/sh", "-c", &format!("echo x > '{r}/new'")], b"");
    assert_ne!(code, 0);
    assert!(err.contains("Read-only"), "{err}");
    assert!(!ro.join("new").exists());
    assert_eq!(guest.sh(&format!("cat '{r}/keep.txt'")), "untouched\n");

    // Through the Docker API: a bind from the share, both ways.
    let bind = format!("{s}/x:/x");
    let out = guest.docker_ok(&["run", "--rm", "-v", &bind, "berth/hello", "cat", "/x/file"]);
    assert_eq!(out, "for the container\n");
    guest.docker_ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "berth/hello",
        "sh",
        "-c",
        "echo from a container > /x/made",
    ]);
    assert_eq!(
        std::fs::read_to_string(share.join("x/made")).unwrap(),
        "from a container\n"
    );

    // A bind from outside every share is refused.
    let out = guest.docker(&["run", "--rm", "-v", "/etc:/x", "berth/hello", "true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains(
            "Mounts denied: the path /etc is not shared from the host and is not known to Berth"
        ),
        "{stderr}"
    );

    // The engine's own socket at the path clients use, as on Docker Desktop.
    let out = guest.docker_ok(&[
        "run",
        "--rm",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "berth/hello",
        "sh",
        "-c",
        "test -S /var/run/docker.sock && echo socket",
    ]);
    assert_eq!(out, "socket\n");

    // A clean stop ends the virtiofsd processes too.
    guest
        .runtime
        .block_on(guest.vm.stop())
        .unwrap_or_else(|e| panic!("stop: {e}"));
    assert_eq!(guest.runtime.block_on(guest.vm.status()), Status::Stopped);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !virtiofsd_pids(&state).is_empty() {
        assert!(Instant::now() < deadline, "virtiofsd outlived the VM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
