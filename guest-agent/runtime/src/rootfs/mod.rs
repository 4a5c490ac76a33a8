//! The container's root filesystem, set up inside its new mount namespace in this order:
//! propagation, rootfs bind, spec mounts, devices, symlinks (all before pivot_root, all
//! resolved inside the root), then masked and read-only paths, pivot_root, read-only root.

mod cgroup_mount;
pub mod devices;
pub mod masked;
pub mod mount_options;
pub mod mounts;
pub mod pivot;
pub mod safe_path;

use std::path::Path;

use nix::mount::{mount, MsFlags};
use oci_spec::runtime::Spec;

use crate::error::{Context, Result, RuntimeError};
pub use mounts::MountContext;
pub use safe_path::RootFs;

/// Everything before pivot_root except masking (which comes after sysctls are written).
pub fn prepare(
    spec: &Spec,
    rootfs_path: &Path,
    ctx: &MountContext,
    in_userns: bool,
) -> Result<RootFs> {
    let linux = spec.linux().clone().unwrap_or_default();
    let propagation = match linux.rootfs_propagation().as_deref() {
        None | Some("") => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        Some(p) => mount_options::propagation_option(p).ok_or_else(|| {
            RuntimeError::InvalidSpec(format!("rootfsPropagation {p:?} is not a propagation mode"))
        })?,
    };
    // First of all: nothing we mount may propagate back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        propagation | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| "Cannot set the propagation of /".into())?;
    // pivot_root needs the new root to be a mount point.
    mount(
        Some(rootfs_path),
        rootfs_path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| format!("Cannot bind the root filesystem {}", rootfs_path.display()))?;
    let rootfs = RootFs::open(rootfs_path)?;
    let spec_mounts = spec.mounts().clone().unwrap_or_default();
    mounts::mount_all(&rootfs, &spec_mounts, ctx)?;
    let devices = devices::all_devices(linux.devices().as_deref().unwrap_or_default())?;
    devices::create(&rootfs, &devices, in_userns)?;
    let has_devpts = spec_mounts
        .iter()
        .any(|m| m.typ().as_deref() == Some("devpts"));
    devices::create_symlinks(&rootfs, has_devpts)?;
    Ok(rootfs)
}

/// Masked and read-only paths (after sysctls, which write to /proc/sys).
pub fn protect(spec: &Spec, rootfs: &RootFs, dev_null: &std::os::fd::OwnedFd) -> Result<()> {
    let linux = spec.linux().clone().unwrap_or_default();
    masked::mask(
        rootfs,
        linux.masked_paths().as_deref().unwrap_or_default(),
        dev_null,
    )?;
    masked::make_readonly(
        rootfs,
        linux.readonly_paths().as_deref().unwrap_or_default(),
    )
}

pub fn enter(spec: &Spec, rootfs: &RootFs) -> Result<()> {
    pivot::pivot(rootfs.path())?;
    let readonly = spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false);
    if readonly {
        pivot::readonly_root()?;
    }
    Ok(())
}
