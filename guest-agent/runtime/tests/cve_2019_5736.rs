//! CVE-2019-5736 regression (root): the runtime process that waits inside a container's
//! namespaces must not be the host's writable runtime binary, so a container cannot
//! overwrite it through /proc/PID/exe.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

fn runtime() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth-runtime"))
}

fn run(root: &Path, args: &[&str]) -> String {
    // Files, not pipes: a created container keeps its stdio open, and a pipe would make
    // us wait for it to exit.
    let log = root.with_extension(format!("{}.log", args[0]));
    let out = File::create(&log).unwrap();
    let status = Command::new(runtime())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{args:?}: {text}");
    text
}

#[test]
fn root_container_init_runs_from_an_unwritable_view_of_the_runtime() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (CI runs as root)"
    );
    let dir = std::env::temp_dir().join(format!("berth-cve-2019-5736-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/busybox-bundle.sh");
    let bundle = dir.join("bundle");
    let status = Command::new(&fixture)
        .arg(&bundle)
        .args(["sleep", "30"])
        .status()
        .unwrap();
    assert!(status.success());
    let root = dir.join("state");
    run(
        &root,
        &["create", "--bundle", bundle.to_str().unwrap(), "sealed"],
    );

    let state: serde_json::Value = serde_json::from_str(&run(&root, &["state", "sealed"])).unwrap();
    let pid = state["pid"].as_i64().unwrap();
    let exe_link = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    let exe = File::open(format!("/proc/{pid}/exe")).unwrap();
    let sealed_memfd = exe_link.to_string_lossy().starts_with("/memfd:");
    let readonly = nix::sys::statvfs::fstatvfs(&exe)
        .unwrap()
        .flags()
        .contains(nix::sys::statvfs::FsFlags::ST_RDONLY);
    // The host binary itself lives on a writable filesystem here, so a plain fork of it
    // would fail both checks.
    let host_rw = !nix::sys::statvfs::statvfs(&runtime())
        .unwrap()
        .flags()
        .contains(nix::sys::statvfs::FsFlags::ST_RDONLY);
    assert!(
        host_rw,
        "test precondition: the built binary should be on a writable fs"
    );
    assert!(
        sealed_memfd || readonly,
        "init {pid} runs from {exe_link:?} (fd {}), which is writable",
        exe.as_raw_fd()
    );
    // The temporary mount point used to build the view is gone, and no mount leaked.
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".berth-exe"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(".berth-exe"));

    run(&root, &["delete", "--force", "sealed"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
