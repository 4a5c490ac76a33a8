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

/// `podman FLAGS...` under the runtime under test, for commands other than run.
fn podman_cmd(sandbox: &Sandbox, args: &[&str]) -> Output {
    let mut cmd = podman(&sandbox.runtime);
    cmd.args(args);
    output::run(cmd, sandbox.path(), Duration::from_secs(120))
}

#[test]
fn podman_exec_stop_and_rm_drive_a_detached_container() {
    let sandbox = Sandbox::new("podman-exec");
    let name = sandbox.id("detached");
    podman_run_detached(&sandbox, &name);
    let out = podman_cmd(
        &sandbox,
        &["exec", &name, "sh", "-c", "echo inside $(hostname); exit 5"],
    );
    assert_eq!(out.code, Some(5), "{out}");
    assert!(out.stdout.starts_with("inside "), "{out}");
    // The exec'd process joined the container: it sees the container's pid 1 (sleep).
    let ps = podman_cmd(&sandbox, &["exec", &name, "cat", "/proc/1/cmdline"]).expect_ok();
    assert!(ps.stdout.starts_with("sleep"), "{ps}");
    podman_cmd(&sandbox, &["stop", "-t", "1", &name]).expect_ok();
    podman_cmd(&sandbox, &["rm", &name]).expect_ok();
    let gone = podman_cmd(&sandbox, &["container", "exists", &name]);
    assert_eq!(gone.code, Some(1), "{gone}");
}

#[test]
fn podman_run_with_a_tty_gets_a_pty_through_the_console_socket() {
    let sandbox = Sandbox::new("podman-tty");
    let out = podman_run(&sandbox, &["-t"], &["tty"]).expect_ok();
    assert!(out.stdout.trim().starts_with("/dev/pts/"), "{out}");
}

fn podman_run_detached(sandbox: &Sandbox, name: &str) {
    ensure_image(sandbox.path());
    let mut cmd = podman(&sandbox.runtime);
    cmd.args(["run", "-d", "--name", name, "--network=none"])
        .args([
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ])
        .arg(IMAGE)
        .args(["sleep", "1000"]);
    output::run(cmd, sandbox.path(), Duration::from_secs(120)).expect_ok();
}
