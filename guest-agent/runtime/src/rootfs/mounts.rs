//! Mounting the spec's `mounts` into the rootfs, before pivot_root, every target resolved
//! inside the root (see safe_path).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{fstatvfs, FsFlags};
use oci_spec::runtime::Mount;

use super::cgroup_mount;
use super::mount_options::MountOptions;
use super::safe_path::{fd_path, RootFs};
use crate::error::{Context, Result, RuntimeError};

/// Facts about the container that some mount types need.
#[derive(Debug, Clone)]
pub struct MountContext {
    pub bundle: PathBuf,
    /// The container has its own cgroup namespace, so cgroupfs can be mounted directly.
    pub cgroupns: bool,
    /// The container's cgroup path relative to each hierarchy's root.
    pub cgroup_path: PathBuf,
}

pub fn mount_all(rootfs: &RootFs, mounts: &[Mount], ctx: &MountContext) -> Result<()> {
    for m in mounts {
        mount_one(rootfs, m, ctx).map_err(|e| match e {
            RuntimeError::InvalidSpec(_) | RuntimeError::Unsupported(_) => e,
            other => RuntimeError::Setup(format!(
                "mount {} (type {}): {}",
                m.destination().display(),
                m.typ().as_deref().unwrap_or("none"),
                crate::error::chain(&other)
            )),
        })?;
    }
    Ok(())
}

fn mount_one(rootfs: &RootFs, m: &Mount, ctx: &MountContext) -> Result<()> {
    let dest = m.destination();
    if !dest.is_absolute() {
        return Err(RuntimeError::InvalidSpec(format!(
            "mount destination {} is not absolute",
            dest.display()
        )));
    }
    let opts = MountOptions::parse(m.options().as_deref().unwrap_or_default())
        .map_err(|e| RuntimeError::InvalidSpec(format!("mount {}: {e}", dest.display())))?;
    let typ = m.typ().as_deref().unwrap_or("");
    if opts.bind || typ == "bind" {
        bind_mount(rootfs, m, &opts, ctx)?;
    } else if typ == "cgroup" || typ == "cgroup2" {
        cgroup_mount::mount_cgroups(rootfs, dest, &opts, ctx)?;
    } else {
        let target = rootfs.mkdir_all(dest, 0o755)?;
        let source = m.source().clone().unwrap_or_else(|| PathBuf::from(typ));
        mount(
            Some(&source),
            fd_path(&target).as_str(),
            Some(typ),
            opts.flags,
            opts.data().as_deref(),
        )
        .context(|| format!("Cannot mount {typ} on {}", rootfs.display(dest)))?;
    }
    apply_propagation(rootfs, dest, &opts)
}

fn bind_mount(rootfs: &RootFs, m: &Mount, opts: &MountOptions, ctx: &MountContext) -> Result<()> {
    let dest = m.destination();
    let source = m.source().as_ref().ok_or_else(|| {
        RuntimeError::InvalidSpec(format!("bind mount {} has no source", dest.display()))
    })?;
    let source = if source.is_absolute() {
        source.clone()
    } else {
        ctx.bundle.join(source)
    };
    let meta = std::fs::metadata(&source)
        .context(|| format!("Bind mount source {} is not accessible", source.display()))?;
    let target = if meta.is_dir() {
        rootfs.mkdir_all(dest, 0o755)?
    } else {
        rootfs.ensure_file(dest)?
    };
    let mut flags = MsFlags::MS_BIND;
    if opts.recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(
        Some(&source),
        fd_path(&target).as_str(),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .context(|| {
        format!(
            "Cannot bind {} on {}",
            source.display(),
            rootfs.display(dest)
        )
    })?;
    let extra = opts.remount_flags();
    if !extra.is_empty() {
        // The first MS_BIND ignores every other flag: remount the new mount, reached again
        // through the root so we hold the mount and not the covered directory.
        let mounted = reopen(rootfs, dest)?;
        remount_bind(&mounted, extra).context(|| {
            format!(
                "Cannot apply options to bind mount {}",
                rootfs.display(dest)
            )
        })?;
    }
    Ok(())
}

/// Remounts a bind mount with `flags`, keeping the flags the kernel locks on it (a mount
/// inherited from a more privileged namespace cannot drop nosuid/nodev/noexec).
pub fn remount_bind(mounted: &OwnedFd, flags: MsFlags) -> nix::Result<()> {
    let locked = locked_flags(mounted);
    mount(
        None::<&str>,
        fd_path(mounted).as_str(),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags | locked,
        None::<&str>,
    )
}

pub fn locked_flags(fd: &OwnedFd) -> MsFlags {
    let Ok(stat) = fstatvfs(fd) else {
        return MsFlags::empty();
    };
    let f = stat.flags();
    let mut out = MsFlags::empty();
    for (st, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        // The kernel's ST_RELATIME; nix (and libc) name it only for glibc, and the VM's
        // agent is built for musl.
        (FsFlags::from_bits_retain(0x1000), MsFlags::MS_RELATIME),
    ] {
        if f.contains(st) {
            out |= ms;
        }
    }
    out
}

pub fn reopen(rootfs: &RootFs, dest: &Path) -> Result<OwnedFd> {
    rootfs
        .resolve(dest, OFlag::O_PATH, Mode::empty())
        .context(|| format!("Cannot reopen mount {}", rootfs.display(dest)))
}

fn apply_propagation(rootfs: &RootFs, dest: &Path, opts: &MountOptions) -> Result<()> {
    if opts.propagation.is_empty() {
        return Ok(());
    }
    let mounted = reopen(rootfs, dest)?;
    for flag in &opts.propagation {
        mount(
            None::<&str>,
            fd_path(&mounted).as_str(),
            None::<&str>,
            *flag,
            None::<&str>,
        )
        .context(|| format!("Cannot set propagation of {}", rootfs.display(dest)))?;
    }
    Ok(())
}
