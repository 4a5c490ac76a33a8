//! Finding the programs the backend runs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::backend::BackendError;

pub const QEMU: &str = "qemu-system-x86_64";
pub const VHOST_DEVICE_VSOCK: &str = "vhost-device-vsock";
pub const VIRTIOFSD: &str = "virtiofsd";

/// Looks `name` up in a PATH value (passed in so tests can use their own).
pub fn which(name: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub fn find_qemu(path_var: Option<&OsStr>) -> Result<PathBuf, BackendError> {
    which(QEMU, path_var).ok_or_else(|| BackendError::Missing {
        what: QEMU.into(),
        hint: "install it with `apt-get install qemu-system-x86` (or your distribution's \
               qemu-system-x86 package)"
            .into(),
    })
}

/// `name` on PATH, else where `cargo install` puts it, else (virtiofsd) where
/// distributions put it.
fn find_helper(name: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    which(name, path_var).or_else(|| {
        let cargo = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
        let mut candidates: Vec<PathBuf> = cargo
            .map(|c| c.join("bin").join(name))
            .into_iter()
            .collect();
        // Debian's and Fedora's virtiofsd packages install it outside PATH.
        candidates.push(Path::new("/usr/libexec").join(name));
        candidates.push(Path::new("/usr/lib/qemu").join(name));
        candidates.into_iter().find(|p| is_executable(p))
    })
}

/// vhost-device-vsock: on PATH, else where `cargo install` puts it.
pub fn find_vhost_device_vsock(path_var: Option<&OsStr>) -> Result<PathBuf, BackendError> {
    find_helper(VHOST_DEVICE_VSOCK, path_var).ok_or_else(|| BackendError::Missing {
        what: VHOST_DEVICE_VSOCK.into(),
        hint: "this host has no /dev/vhost-vsock, so Berth needs rust-vmm's device: run \
               scripts/vhost-device-vsock/install from Berth's source (scripts/setup does)"
            .into(),
    })
}

/// What Berth's build of vhost-device-vsock adds to its version
/// (scripts/vhost-device-vsock/flush-on-writable.patch).
pub const VHOST_DEVICE_VSOCK_BERTH_BUILD: &str = "+berth.";

/// The device's `--version` line, and whether it is Berth's build: a stock 0.3.0 stalls
/// two-way streams (published ports, the Docker socket) under load.
pub fn vhost_device_vsock_version(binary: &Path) -> Result<(String, bool), BackendError> {
    let version = version_line(binary)?;
    let berth = version.contains(VHOST_DEVICE_VSOCK_BERTH_BUILD);
    Ok((version, berth))
}

/// virtiofsd (rust-vmm's, serving shared folders): on PATH, else where `cargo install` or
/// a distribution package puts it.
pub fn find_virtiofsd(path_var: Option<&OsStr>) -> Result<PathBuf, BackendError> {
    find_helper(VIRTIOFSD, path_var).ok_or_else(|| BackendError::Missing {
        what: VIRTIOFSD.into(),
        hint: "shared folders need it: install with `cargo install virtiofsd` (it needs \
               libseccomp-dev and libcap-ng-dev), or your distribution's virtiofsd package"
            .into(),
    })
}

/// The first line a program prints for `--version`: QEMU's is part of the KVM verdict's
/// cache key; vhost-device-vsock's tells Berth's build from a stock one.
pub fn version_line(program: &Path) -> Result<String, BackendError> {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(BackendError::io(format!(
            "Cannot run {}",
            program.display()
        )))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or("unknown").trim().to_string())
}
