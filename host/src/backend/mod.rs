//! A VM backend: the one thing that differs per host OS. It boots the guest image with a data
//! disk, a NIC and a vsock device, reports whether the VM runs, and hands out the
//! [`Transport`] to reach the agent.

use std::path::PathBuf;
use std::sync::Arc;

use crate::transport::Transport;

/// What a backend boots.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// The guest kernel (`target/vm-image/vmlinuz`).
    pub kernel: PathBuf,
    /// The initramfs with the agent as /init.
    pub initrd: PathBuf,
    /// Extra kernel command line (the backend adds its console and quiet flags).
    pub cmdline: String,
    pub cpus: u32,
    pub memory_mib: u64,
    /// The data disk (a sparse raw file, created at `disk_size_bytes` if missing).
    pub disk: PathBuf,
    pub disk_size_bytes: u64,
    /// Where this VM's runtime files go: sockets, pid files, the console log.
    pub state_dir: PathBuf,
    /// Host folders shared into the VM (virtiofs), each mounted at the same absolute path.
    pub shares: Vec<Share>,
}

/// A host folder the VM sees at the same absolute path, so bind mounts written with host
/// paths resolve unchanged inside the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The virtiofs tag (short, unique per VM; the guest mounts by it).
    pub tag: String,
    pub host_path: PathBuf,
    pub read_only: bool,
}

impl Share {
    pub fn new(tag: impl Into<String>, host_path: impl Into<PathBuf>, read_only: bool) -> Share {
        Share {
            tag: tag.into(),
            host_path: host_path.into(),
            read_only,
        }
    }
}

/// What the VM is doing, as far as the backend can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Stopped,
    Running {
        pid: Option<u32>,
    },
    /// The VMM exited without being asked: the reason and the console log's tail.
    Crashed {
        reason: String,
        console_tail: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{what} was not found: {hint}")]
    Missing { what: String, hint: String },
    #[error("the VM is already running")]
    AlreadyRunning,
    /// Another host process (or an earlier one that exited) runs this VM's VMM.
    #[error("the VM is already running (pid {pid})")]
    RunningElsewhere { pid: u32 },
    #[error("the VM is not running")]
    NotRunning,
    #[error("{0}")]
    Failed(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl BackendError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackendError {
        let context = context.into();
        move |source| BackendError::Io { context, source }
    }
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// One VM. Start returns once the VMM runs (not once the agent answers: that is the
/// caller's wait, over the transport).
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// A short name for logs and `berth doctor` (`qemu-tcg`, `qemu-kvm`, `vz`, `hcs`).
    fn name(&self) -> String;
    fn start(&self, config: &VmConfig) -> Result<()>;
    /// Asks the VMM to power the guest off (ACPI), waiting up to `timeout`; kills it after.
    fn stop(&self, timeout: std::time::Duration) -> Result<()>;
    /// Ends the VMM at once: data not yet synced by the guest may be lost.
    fn kill(&self) -> Result<()>;
    fn status(&self) -> Status;
    /// The channel to the guest's vsock ports.
    fn transport(&self) -> Result<Arc<dyn Transport>>;
    /// The guest's serial console, as logged so far.
    fn console_log(&self) -> PathBuf;
    /// Where the guest's connections to host vsock `port` arrive as Unix socket connections
    /// (hybrid vsock), for backends that have such a path; the caller listens there before
    /// [`Backend::start`]. `None`: the caller polls instead.
    fn guest_connect_socket(&self, _port: u32) -> Option<PathBuf> {
        None
    }
}

/// QEMU (KVM or TCG) with vhost-vsock or vhost-device-vsock.
#[cfg(target_os = "linux")]
pub mod qemu;

#[cfg(target_os = "macos")]
pub mod macos;
#[cfg(windows)]
pub mod windows;

/// The shares as the guest's init reads them (every backend passes it on the kernel command
/// line): `berth.shares=TAG:PATH[:ro],...`, with the
/// tag and the path percent-encoded (every byte but ASCII letters, digits and `/._-~`), so
/// spaces, commas, colons and non-UTF-8 bytes survive the kernel command line. Empty when
/// nothing is shared.
#[cfg(unix)]
pub fn shares_cmdline(shares: &[Share]) -> String {
    if shares.is_empty() {
        return String::new();
    }
    let list: Vec<String> = shares
        .iter()
        .map(|s| {
            use std::os::unix::ffi::OsStrExt;
            let mut entry = format!(
                "{}:{}",
                percent_encode(s.tag.as_bytes()),
                percent_encode(s.host_path.as_os_str().as_bytes())
            );
            if s.read_only {
                entry.push_str(":ro");
            }
            entry
        })
        .collect();
    format!("berth.shares={}", list.join(","))
}

#[cfg(unix)]
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_cmdline_survives_spaces_commas_and_colons() {
        assert_eq!(shares_cmdline(&[]), "");
        let line = shares_cmdline(&[
            Share::new("home", "/home/me", false),
            Share::new("odd", "/srv/My Files,v2:x%/é", true),
        ]);
        assert_eq!(
            line,
            "berth.shares=home:/home/me,odd:/srv/My%20Files%2Cv2%3Ax%25/%C3%A9:ro"
        );
        assert!(!line.contains(' '));
    }
}
