//! vhost-device-vsock: rust-vmm's vsock device for hosts without `/dev/vhost-vsock`. QEMU
//! connects to its vhost-user socket; it serves the guest's ports as hybrid vsock on
//! another Unix socket. It exits when QEMU disconnects, so each boot starts a fresh one,
//! before QEMU (QEMU fails at once if the socket is not there yet).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::files::{read_pid, Files};
use super::process::{alive, signal, wait_until};
use crate::backend::{BackendError, Result};

const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the device for `cid` and waits until its vhost-user socket exists.
pub fn start(binary: &Path, files: &Files, cid: u32) -> Result<Child> {
    stop(files);
    for stale in [files.vhost_user(), files.hybrid_vsock()] {
        let _ = std::fs::remove_file(stale);
    }
    let log = std::fs::File::create(files.vhost_log())
        .map_err(BackendError::io("Cannot create the vhost-device-vsock log"))?;
    let log2 = log
        .try_clone()
        .map_err(BackendError::io("Cannot create the vhost-device-vsock log"))?;
    let mut child = Command::new(binary)
        .arg("--guest-cid")
        .arg(cid.to_string())
        .arg("--socket")
        .arg(files.vhost_user())
        .arg("--uds-path")
        .arg(files.hybrid_vsock())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        // Its own process group: a Ctrl-C aimed at the CLI must not take the VM down.
        .process_group(0)
        .spawn()
        .map_err(BackendError::io(format!(
            "Cannot start {}",
            binary.display()
        )))?;
    let _ = std::fs::write(files.vhost_pid(), format!("{}\n", child.id()));
    let mut exited = None;
    let ready = wait_until(READY_TIMEOUT, || {
        exited = child.try_wait().ok().flatten();
        exited.is_some() || files.vhost_user().exists()
    });
    if let Some(status) = exited {
        return Err(BackendError::Failed(format!(
            "vhost-device-vsock exited at start ({status}): {}",
            super::files::tail(&files.vhost_log(), 10)
        )));
    }
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        return Err(BackendError::Failed(format!(
            "vhost-device-vsock did not create {} within {READY_TIMEOUT:?}",
            files.vhost_user().display()
        )));
    }
    Ok(child)
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
