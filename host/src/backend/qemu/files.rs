//! The files a QEMU VM keeps in its state directory. Everything the backend knows about a
//! VM is on disk, so a host process that did not boot it (the daemon restarted) can still
//! report its status, stop it or kill it.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn new(dir: impl Into<PathBuf>) -> Files {
        Files { dir: dir.into() }
    }
    fn at(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    /// The guest's serial console.
    pub fn console(&self) -> PathBuf {
        self.at("console.log")
    }
    /// QEMU's own stdout and stderr (bad arguments, missing devices).
    pub fn qemu_log(&self) -> PathBuf {
        self.at("qemu.log")
    }
    pub fn qmp(&self) -> PathBuf {
        self.at("qmp.sock")
    }
    pub fn qemu_pid(&self) -> PathBuf {
        self.at("qemu.pid")
    }
    /// How QEMU exited, written by the process that reaped it.
    pub fn qemu_exit(&self) -> PathBuf {
        self.at("qemu.exit")
    }
    /// Present when someone asked the VM to stop: its exit is then not a crash.
    pub fn stop_requested(&self) -> PathBuf {
        self.at("stop-requested")
    }
    /// vhost-user control socket between QEMU and vhost-device-vsock.
    pub fn vhost_user(&self) -> PathBuf {
        self.at("vhost-vsock.sock")
    }
    /// The hybrid vsock socket vhost-device-vsock serves to the host.
    pub fn hybrid_vsock(&self) -> PathBuf {
        self.at("vsock.sock")
    }
    pub fn vhost_pid(&self) -> PathBuf {
        self.at("vhost-device-vsock.pid")
    }
    pub fn vhost_log(&self) -> PathBuf {
        self.at("vhost-device-vsock.log")
    }
    /// vhost-user socket between QEMU and the virtiofsd of share `n`.
    pub fn virtiofs_socket(&self, n: usize) -> PathBuf {
        self.at(&format!("virtiofs-{n}.sock"))
    }
    pub fn virtiofs_pid(&self, n: usize) -> PathBuf {
        self.at(&format!("virtiofsd-{n}.pid"))
    }
    pub fn virtiofs_log(&self, n: usize) -> PathBuf {
        self.at(&format!("virtiofsd-{n}.log"))
    }
    pub fn lock(&self) -> PathBuf {
        self.at("vm.lock")
    }
    pub fn kvm_probe(&self) -> PathBuf {
        self.at("kvm-probe.json")
    }
    pub fn kvm_probe_console(&self) -> PathBuf {
        self.at("kvm-probe.log")
    }
}

/// Reads a pid file; `None` when missing or unreadable.
pub fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The last `lines` lines of a log file (lossy: consoles emit escape sequences).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    // Only the end matters: a console of a long-running VM can be large.
    let start = bytes.len().saturating_sub(64 * 1024);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
