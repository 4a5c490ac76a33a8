//! podman drives the runtime: `podman --runtime <runtime under test> run`.
//! Needs root and Debian's podman; see `common` for the harness.
//!
//! This machine's quirks are passed as flags: no systemd (cgroupfs manager,
//! file events backend), and root without CAP_SYS_RESOURCE cannot raise podman's
//! default nofile/nproc limits, so the test sets them to 1024. `--network=none`
//! keeps podman's network backend from changing the host (bridge, iptables,
//! net.ipv4.ip_forward); the container still gets its own network namespace.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::bundle::build_rootfs;
use common::output::{self, Output};
use common::runtime::Runtime;
use common::Sandbox;

const IMAGE: &str = "localhost/berth-test-busybox";

/// `podman` with the flags this machine needs and `runtime` as the OCI runtime.
fn podman(runtime: &Runtime) -> Command {
    let mut cmd = Command::new("podman");
    cmd.arg("--runtime")
        .arg(&runtime.program)
        .args(["--cgroup-manager=cgroupfs", "--events-backend=file"]);
    cmd
}

/// Imports the busybox rootfs as [`IMAGE`] unless it is already there.
fn ensure_image(scratch: &Path) {
    static IMPORTED: OnceLock<()> = OnceLock::new();
    IMPORTED.get_or_init(|| {
        let exists = Command::new("podman")
            .args(["image", "exists", IMAGE])
            .status()
            .expect("run podman (install Debian's podman)");
        if exists.success() {
            return;
        }
        let rootfs = scratch.join("image-rootfs");
        build_rootfs(&rootfs);
        let tarball = scratch.join("image.tar");
        let mut tar = Command::new("tar");
        tar.arg("-C").arg(&rootfs).arg("-cf").arg(&tarball).arg(".");
        output::run(tar, scratch, Duration::from_secs(60)).expect_ok();
        let mut import = Command::new("podman");
        import.arg("import").arg(&tarball).arg(IMAGE);
        output::run(import, scratch, Duration::from_secs(120)).expect_ok();
    });
}

/// `podman run --rm FLAGS... <image> ARGS...` under the runtime under test.
fn podman_run(sandbox: &Sandbox, flags: &[&str], args: &[&str]) -> Output {
    ensure_image(sandbox.path());
    let mut cmd = podman(&sandbox.runtime);
    cmd.args(["run", "--rm", "--network=none"])
        .args([
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ])
        .args(flags)
        .arg(IMAGE)
        .args(args);
    output::run(cmd, sandbox.path(), Duration::from_secs(120))
}

#[test]
fn podman_run_echo_prints_hi() {
    let sandbox = Sandbox::new("podman-echo");
    let out = podman_run(&sandbox, &[], &["echo", "hi"]).expect_ok();
    assert_eq!(out.stdout, "hi\n", "{out}");
}

#[test]
fn podman_run_passes_the_exit_code_through() {
    let sandbox = Sandbox::new("podman-exit");
    let out = podman_run(
        &sandbox,
        &[],
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    assert_eq!(out.code, Some(3), "{out}");
    assert_eq!(out.stdout, "out\n", "{out}");
    assert!(out.stderr.contains("err"), "{out}");
}

#[test]
fn podman_run_applies_its_user_and_hostname_flags() {
    let sandbox = Sandbox::new("podman-flags");
    let flags = ["--user", "65534:65534", "--hostname", "from-podman"];
    let out = podman_run(&sandbox, &flags, &["sh", "-c", "id -u; hostname"]).expect_ok();
    assert_eq!(out.stdout, "65534\nfrom-podman\n", "{out}");
}
