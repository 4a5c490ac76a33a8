//! From settings to a [`Vm`]: the backend for this OS, the guest image, the disk and the
//! shares. The CLI uses it too, to reach the agent of a running VM (exec, shell).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{DaemonError, Paths};
use crate::backend::{Backend, VmConfig};
use crate::settings::Settings;
use crate::state::StateDirs;
use crate::vm::{Timeouts, Vm};

/// The guest image directory: `BERTH_VM_IMAGE`, the `vm_image` setting, then next to the
/// executable (`target/vm-image` for a `target/debug/berth`, `share/berth/vm-image` for an
/// install). `Err` lists where it looked.
pub fn image_dir(settings: &Settings) -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("BERTH_VM_IMAGE").filter(|v| !v.is_empty()) {
        candidates.push(dir.into());
    }
    candidates.extend(settings.vm_image.clone());
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("../vm-image"));
        candidates.push(exe_dir.join("../../vm-image"));
        candidates.push(exe_dir.join("../share/berth/vm-image"));
    }
    candidates
        .iter()
        .find(|dir| has_image(dir))
        .cloned()
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            format!(
                "The guest image (vmlinuz, initramfs.cpio) was not found in {}: build it with \
                 `vm-image/build`, or point BERTH_VM_IMAGE (or `berth config set vm_image`) at it",
                looked.join(", ")
            )
        })
}

fn has_image(dir: &Path) -> bool {
    dir.join("vmlinuz").is_file() && dir.join("initramfs.cpio").is_file()
}

/// The VM the settings describe. A missing image is not an error here (a running VM can
/// be reached without it); [`image_dir`] is checked before a boot.
pub fn build_vm(dirs: &StateDirs, settings: &Settings) -> Result<Vm, DaemonError> {
    Ok(vm_on(backend(dirs)?, dirs, settings))
}

/// The VM the settings describe, on an existing backend (the daemon keeps one backend for
/// its life: it owns the QEMU it started and its reaper).
pub fn vm_on(backend: Arc<dyn Backend>, dirs: &StateDirs, settings: &Settings) -> Vm {
    let image = image_dir(settings).unwrap_or_default();
    let config = VmConfig {
        kernel: image.join("vmlinuz"),
        initrd: image.join("initramfs.cpio"),
        cmdline: settings.registries_cmdline(),
        cpus: settings.cpus,
        memory_mib: settings.memory_mib,
        disk: dirs.disk(),
        disk_size_bytes: settings.disk_size_gib << 30,
        state_dir: dirs.run.clone(),
        shares: settings.vm_shares(),
    };
    Vm::new(backend, config).with_timeouts(Timeouts {
        // TCG boots take several seconds; a loaded CI machine more.
        ready: std::time::Duration::from_secs(120),
        ..Timeouts::default()
    })
}

#[cfg(target_os = "linux")]
fn backend(dirs: &StateDirs) -> Result<Arc<dyn Backend>, DaemonError> {
    use crate::backend::qemu::{QemuBackend, QemuOptions};
    Ok(Arc::new(QemuBackend::new(
        dirs.run.clone(),
        QemuOptions::from_env(),
    )))
}

#[cfg(not(target_os = "linux"))]
fn backend(_dirs: &StateDirs) -> Result<Arc<dyn Backend>, DaemonError> {
    Err(DaemonError::Unsupported(
        "The Berth daemon runs on Linux only so far (the macOS backend is not wired to it yet)"
            .into(),
    ))
}

/// What the booting daemon records for a daemon that reattaches later (a backend that
/// did not boot the VM cannot tell KVM from TCG).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VmInfo {
    pub backend: String,
}

impl VmInfo {
    pub fn read(paths: &Paths) -> Option<VmInfo> {
        serde_json::from_slice(&std::fs::read(&paths.vm_info).ok()?).ok()
    }

    pub fn write(&self, paths: &Paths) {
        let text = serde_json::to_vec(self).unwrap_or_default();
        if let Err(e) = std::fs::write(&paths.vm_info, text) {
            tracing::warn!("cannot write {}: {e}", paths.vm_info.display());
        }
    }
}
