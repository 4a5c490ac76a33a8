//! Choosing KVM or TCG. `/dev/kvm` existing is not enough: some hosts expose a KVM that
//! runs only special guests (PVM) and hangs a standard kernel. So KVM is used only after a
//! probe boots the guest kernel under it, without an initramfs, to its "no root fs" panic
//! (which `panic=-1 -no-reboot` turns into a QEMU exit) within a few seconds. The verdict
//! is cached per kernel and QEMU version, so only the first boot pays for it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::args::Accel;
use super::binary::version_line;
use super::files::Files;
use super::process::wait_until;
use crate::backend::{BackendError, Result};

/// Long enough for a kernel under real KVM (well under a second), short enough to pay once.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// The accelerator and why; `warning` is for the user when they lose KVM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub accel: Accel,
    pub reason: String,
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Probe {
    Works,
    /// Still running at the timeout: the host's KVM does not run this kernel.
    Hangs,
    /// QEMU refused (no permission, KVM disabled): its message.
    Fails(String),
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Cached {
    key: String,
    probe: Probe,
}

/// What to probe with and where.
#[derive(Debug, Clone)]
pub struct ProbeSetup {
    pub qemu: PathBuf,
    pub kernel: PathBuf,
    pub kvm_device: PathBuf,
    pub timeout: Duration,
}

/// `BERTH_ACCEL=kvm|tcg` wins; otherwise KVM when the (cached) probe says it works.
pub fn choose(setup: &ProbeSetup, files: &Files, override_: Option<&str>) -> Result<Choice> {
    match override_.map(str::trim).filter(|s| !s.is_empty()) {
        Some("kvm") => return Ok(choice(Accel::Kvm, "BERTH_ACCEL=kvm", false)),
        Some("tcg") => return Ok(choice(Accel::Tcg, "BERTH_ACCEL=tcg", false)),
        Some(other) => {
            return Err(BackendError::Failed(format!(
                "BERTH_ACCEL must be kvm or tcg, not {other:?}"
            )))
        }
        None => {}
    }
    if !setup.kvm_device.exists() {
        return Ok(choice(Accel::Tcg, "this host has no /dev/kvm", true));
    }
    let key = cache_key(setup)?;
    let cache = files.kvm_probe();
    let probe = match read_cache(&cache, &key) {
        Some(probe) => probe,
        None => {
            let probe = probe_kvm(setup, files);
            let text = serde_json::to_vec(&Cached {
                key,
                probe: probe.clone(),
            })
            .unwrap_or_default();
            if let Err(e) = std::fs::write(&cache, text) {
                tracing::warn!("cannot cache the KVM probe in {}: {e}", cache.display());
            }
            probe
        }
    };
    Ok(match probe {
        Probe::Works => choice(Accel::Kvm, "the KVM probe booted the kernel", false),
        Probe::Hangs => choice(
            Accel::Tcg,
            "/dev/kvm does not run a standard kernel (the probe boot hung)",
            true,
        ),
        Probe::Fails(why) => choice(Accel::Tcg, &format!("KVM is unusable: {why}"), true),
    })
}

fn choice(accel: Accel, reason: &str, warn: bool) -> Choice {
    Choice {
        accel,
        reason: reason.to_string(),
        warning: warn.then(|| {
            format!("warning: KVM is not available ({reason}); the VM runs under TCG emulation, which is much slower")
        }),
    }
}

fn cache_key(setup: &ProbeSetup) -> Result<String> {
    let meta = setup.kernel.metadata().map_err(BackendError::io(format!(
        "Cannot read the kernel {}",
        setup.kernel.display()
    )))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Ok(format!(
        "{}|{}|{}|{}",
        version_line(&setup.qemu)?,
        setup.kernel.display(),
        meta.len(),
        mtime
    ))
}

fn read_cache(path: &Path, key: &str) -> Option<Probe> {
    let cached: Cached = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (cached.key == key).then_some(cached.probe)
}

/// Boots the kernel under KVM; kills QEMU at the timeout.
pub fn probe_kvm(setup: &ProbeSetup, files: &Files) -> Probe {
    let console = files.kvm_probe_console();
    let _ = std::fs::remove_file(&console);
    let spawned = Command::new(&setup.qemu)
        .args([
            "-M", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256M", "-smp", "1",
        ])
        .args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(&setup.kernel)
        .args([
            "-append",
            "console=ttyS0 panic=-1 root=/dev/berth-kvm-probe",
        ])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A file, not a pipe: a pipe kept open by a stray child could block us.
        .stderr(
            std::fs::File::create(files.dir.join("kvm-probe.err"))
                .map_or(Stdio::null(), Stdio::from),
        )
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Probe::Fails(format!("cannot start {}: {e}", setup.qemu.display())),
    };
    let mut exit = None;
    wait_until(setup.timeout, || {
        exit = child.try_wait().ok().flatten();
        exit.is_some()
    });
    let Some(status) = exit else {
        let _ = child.kill();
        let _ = child.wait();
        return Probe::Hangs;
    };
    let booted = std::fs::read_to_string(&console)
        .map(|c| c.contains("Linux version"))
        .unwrap_or(false);
    if status.success() && booted {
        Probe::Works
    } else {
        let err = std::fs::read_to_string(files.dir.join("kvm-probe.err")).unwrap_or_default();
        Probe::Fails(format!("{status}: {}", err.trim()))
    }
}

#[cfg(test)]
#[path = "accel_tests.rs"]
mod tests;
