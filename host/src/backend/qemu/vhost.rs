//! vhost-device-vsock: rust-vmm's vsock device for hosts without `/dev/vhost-vsock`. QEMU
//! connects to its vhost-user socket; it serves the guest's ports as hybrid vsock on
//! another Unix socket. It exits when QEMU disconnects, so each boot starts a fresh one,
//! before QEMU (QEMU fails at once if the socket is not there yet).

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::files::{read_pid, Files};
use super::process::{alive, signal, spawn_helper, wait_until, Helper};
use crate::backend::Result;

/// The device's per-connection buffer for the guest's bytes, which is also the credit it
/// grants the guest. 256 KiB instead of the default 64 KiB roughly doubles a stream's
/// throughput. Not more: the guest kernel caps its credit at its own socket buffer
/// (256 KiB), and the device sends a credit update only once three quarters of this size
/// has drained, so a larger size would leave both sides waiting.
const TX_BUFFER_SIZE: u32 = 256 * 1024;

/// Starts the device for `cid` and waits until its vhost-user socket exists.
pub fn start(binary: &Path, files: &Files, cid: u32) -> Result<Child> {
    stop(files);
    for stale in [files.vhost_user(), files.hybrid_vsock()] {
        let _ = std::fs::remove_file(stale);
    }
    let mut command = Command::new(binary);
    command
        .arg("--guest-cid")
        .arg(cid.to_string())
        .arg("--socket")
        .arg(files.vhost_user())
        .arg("--uds-path")
        .arg(files.hybrid_vsock())
        .arg("--tx-buffer-size")
        .arg(TX_BUFFER_SIZE.to_string());
    spawn_helper(
        command,
        Helper {
            name: "vhost-device-vsock",
            log: &files.vhost_log(),
            pid_file: &files.vhost_pid(),
            socket: &files.vhost_user(),
        },
    )
}

/// Kills a device left by an earlier boot (or by this one, at kill time).
pub fn stop(files: &Files) {
    if let Some(pid) = read_pid(&files.vhost_pid()) {
        let marker = files.vhost_user().to_string_lossy().into_owned();
        if alive(pid, &marker) {
            signal(pid, Signal::SIGKILL);
            wait_until(Duration::from_secs(2), || !alive(pid, &marker));
        }
    }
}
