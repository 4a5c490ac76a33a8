//! The Linux backend: QEMU, under KVM when the host's KVM runs a standard kernel, under TCG
//! otherwise; vsock through `/dev/vhost-vsock` or through vhost-device-vsock; shared
//! folders through one virtiofsd each.
//!
//! All state lives in the VM's state directory ([`files::Files`]), so a host process that
//! did not boot the VM (the daemon restarted while QEMU ran on) still sees it, stops it and
//! kills it, and never boots a second one.

pub mod accel;
pub mod args;
pub mod binary;
pub mod disk;
pub mod files;
mod process;
mod qmp;
mod spawn;
mod status;
mod vhost;
mod virtiofs;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;

pub use accel::Choice;
pub use args::{Accel, VsockDevice};

use self::files::{read_pid, Files};
use self::process::{alive, signal, wait_until};
use super::{Backend, BackendError, Result, Status, VmConfig};
use crate::state::VmLock;
use crate::transport::{hybrid::HybridVsock, vsock::AfVsock, Transport};

/// How the guest's vsock is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsockChoice {
    /// `/dev/vhost-vsock` when it exists, else vhost-device-vsock.
    Auto,
    Kernel,
    VhostUser,
}

/// What the backend needs from its environment; [`QemuOptions::from_env`] reads it.
#[derive(Debug, Clone)]
pub struct QemuOptions {
    /// The PATH to look programs up in.
    pub path_var: Option<OsString>,
    /// `BERTH_ACCEL`: `kvm` or `tcg`, skipping the probe.
    pub accel: Option<String>,
    pub vsock: VsockChoice,
    pub probe_timeout: Duration,
    /// How long QEMU may take to open its QMP socket (it fails fast on bad arguments).
    pub spawn_timeout: Duration,
}

impl QemuOptions {
    pub fn from_env() -> QemuOptions {
        QemuOptions {
            path_var: std::env::var_os("PATH"),
            accel: std::env::var("BERTH_ACCEL").ok(),
            vsock: VsockChoice::Auto,
            probe_timeout: accel::PROBE_TIMEOUT,
            spawn_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub struct QemuBackend {
    options: QemuOptions,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    files: Files,
    accel: Option<Accel>,
    /// Set by this process's reaper thread once it recorded QEMU's exit.
    reaped: Option<Arc<AtomicBool>>,
    /// The VM lock while this process's QEMU runs (the reaper drops it).
    lock: Arc<Mutex<Option<VmLock>>>,
}

impl QemuBackend {
    /// A backend for the VM whose runtime files are in `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>, options: QemuOptions) -> QemuBackend {
        QemuBackend {
            options,
            inner: Mutex::new(Inner {
                files: Files::new(state_dir),
                accel: None,
                reaped: None,
                lock: Arc::new(Mutex::new(None)),
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not make the VM unmanageable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn files(&self) -> Files {
        self.inner().files.clone()
    }

    /// The running QEMU's pid, if one runs for this state directory.
    /// After QEMU was told to go (or killed): waits for it, ends its helpers (vsock device,
    /// virtiofsd) and, when this backend started it, its reaper, which frees the VM lock, so
    /// an immediate start (a restart) finds the lock free.
    fn finish_stop(&self, pid: u32, files: &Files) -> Result<()> {
        let dead = self.wait_dead(pid, Duration::from_secs(5));
        vhost::stop(files);
        virtiofs::stop(files);
        self.wait_reaped();
        self.wait_unlocked(files);
        if dead {
            Ok(())
        } else {
            Err(BackendError::Failed(format!(
                "QEMU (pid {pid}) survived SIGKILL"
            )))
        }
    }

    /// Waits (briefly) for this backend's reaper thread, if it started QEMU, to record the
    /// exit and drop the VM lock.
    fn wait_reaped(&self) {
        let reaped = self.inner().reaped.clone();
        if let Some(reaped) = reaped {
            wait_until(Duration::from_secs(2), || reaped.load(Ordering::SeqCst));
        }
    }

    /// A VM this process did not start (a reattached daemon's) has no reaper to wait for:
    /// its exit is complete once its lock is free. The kernel frees a process's memory
    /// before it closes its files, so the pid looks gone a moment before the lock goes,
    /// and a boot right after (`berth restart`) would find the VM "already running".
    fn wait_unlocked(&self, files: &Files) {
        if self.inner().reaped.is_some() {
            return;
        }
        wait_until(Duration::from_secs(5), || {
            crate::state::VmLock::acquire(&files.lock()).is_ok()
        });
    }

    pub fn pid(&self) -> Option<u32> {
        let files = self.files();
        read_pid(&files.qemu_pid()).filter(|&pid| alive(pid, &marker(&files)))
    }

    /// Asks QEMU's QMP `query-status` (for `berth doctor`).
    pub fn query_status(&self) -> Result<String> {
        let value = qmp::command(&self.files().qmp(), "query-status")
            .map_err(|e| BackendError::Failed(format!("QMP query-status: {e}")))?;
        Ok(value["status"].as_str().unwrap_or("unknown").to_string())
    }

    /// Waits until the pid is gone; true when it is.
    fn wait_dead(&self, pid: u32, timeout: Duration) -> bool {
        let files = self.files();
        let marker = marker(&files);
        wait_until(timeout, || !alive(pid, &marker))
    }
}

/// A string only our QEMU has on its command line: its QMP socket's path.
fn marker(files: &Files) -> String {
    files.qmp().to_string_lossy().replace(',', ",,")
}

impl Backend for QemuBackend {
    fn name(&self) -> String {
        match self.inner().accel {
            Some(Accel::Kvm) => "qemu-kvm".into(),
            Some(Accel::Tcg) => "qemu-tcg".into(),
            None => "qemu".into(),
        }
    }

    fn start(&self, config: &VmConfig) -> Result<()> {
        spawn::start(self, config)
    }

    fn stop(&self, timeout: Duration) -> Result<()> {
        let files = self.files();
        let pid = self.pid().ok_or(BackendError::NotRunning)?;
        let _ = std::fs::write(files.stop_requested(), b"stop\n");
        // ACPI power button first: a guest that listens shuts down cleanly.
        if let Err(e) = qmp::command(&files.qmp(), "system_powerdown") {
            tracing::debug!("QMP system_powerdown: {e}");
        }
        if !self.wait_dead(pid, timeout) {
            tracing::warn!("the VM ignored the power button for {timeout:?}; quitting QEMU");
            // QEMU may close the connection before answering `quit`: that is success too.
            let _ = qmp::command(&files.qmp(), "quit");
            if !self.wait_dead(pid, Duration::from_secs(3)) {
                signal(pid, Signal::SIGKILL);
            }
        }
        self.finish_stop(pid, &files)
    }

    fn kill(&self) -> Result<()> {
        let files = self.files();
        let pid = self.pid().ok_or(BackendError::NotRunning)?;
        let _ = std::fs::write(files.stop_requested(), b"kill\n");
        signal(pid, Signal::SIGKILL);
        self.finish_stop(pid, &files)
    }

    fn status(&self) -> Status {
        let (files, reaped) = {
            let inner = self.inner();
            (inner.files.clone(), inner.reaped.clone())
        };
        let Some(pid) = read_pid(&files.qemu_pid()) else {
            return Status::Stopped;
        };
        if alive(pid, &marker(&files)) {
            return Status::Running { pid: Some(pid) };
        }
        // Our own reaper may be a moment from writing the exit record.
        if let Some(reaped) = reaped {
            wait_until(Duration::from_secs(2), || reaped.load(Ordering::SeqCst));
        }
        status::decide(pid, &files)
    }

    fn transport(&self) -> Result<Arc<dyn Transport>> {
        let files = self.files();
        let hybrid = files.hybrid_vsock();
        let use_kernel = match self.options.vsock {
            VsockChoice::Kernel => true,
            VsockChoice::VhostUser => false,
            VsockChoice::Auto => !hybrid.exists() && !files.vhost_pid().exists(),
        };
        Ok(if use_kernel {
            Arc::new(AfVsock::new(berth_protocol::DEFAULT_GUEST_CID))
        } else {
            Arc::new(HybridVsock::new(hybrid))
        })
    }

    fn console_log(&self) -> PathBuf {
        self.files().console()
    }

    fn guest_connect_socket(&self, port: u32) -> Option<PathBuf> {
        // vhost-device-vsock forwards a guest's connection to host port P to `<uds>_P`; the
        // kernel's vhost-vsock would need an AF_VSOCK listener instead (callers poll then).
        let kernel = match self.options.vsock {
            VsockChoice::Kernel => true,
            VsockChoice::VhostUser => false,
            VsockChoice::Auto => std::path::Path::new("/dev/vhost-vsock").exists(),
        };
        (!kernel).then(|| {
            let mut path = self.files().hybrid_vsock().into_os_string();
            path.push(format!("_{port}"));
            PathBuf::from(path)
        })
    }
}
