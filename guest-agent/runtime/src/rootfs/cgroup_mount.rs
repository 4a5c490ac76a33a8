//! The `cgroup` mount type: what the container sees at /sys/fs/cgroup. With its own cgroup
//! namespace the container mounts cgroupfs directly (it sees its cgroup as the root);
//! without one it gets bind mounts of its own cgroup directories only.

use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};

use super::mount_options::MountOptions;
use super::mounts::{remount_bind, reopen, MountContext};
use super::safe_path::{fd_path, RootFs};
use crate::cgroups::mountinfo::v1_hierarchies;
use crate::error::{Context, Result};
use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};

/// One host hierarchy to show in the container: the v2 unified one, or a v1 one with its
/// controllers (the mount data for cgroupfs).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hierarchy {
    mountpoint: PathBuf,
    controllers: String,
    v2: bool,
}

fn host_hierarchies() -> Result<Vec<Hierarchy>> {
    let unified =
        statfs("/sys/fs/cgroup").is_ok_and(|fs| fs.filesystem_type() == CGROUP2_SUPER_MAGIC);
    if unified {
        return Ok(vec![Hierarchy {
            mountpoint: "/sys/fs/cgroup".into(),
            controllers: String::new(),
            v2: true,
        }]);
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .context(|| "Cannot read /proc/self/mountinfo".into())?;
    Ok(v1_hierarchies(&mountinfo)
        .into_iter()
        .map(|h| Hierarchy {
            controllers: h.controllers.join(","),
            mountpoint: h.mountpoint,
            v2: false,
        })
        .collect())
}

pub fn mount_cgroups(
    rootfs: &RootFs,
    dest: &Path,
    opts: &MountOptions,
    ctx: &MountContext,
) -> Result<()> {
    let hierarchies = host_hierarchies()?;
    let flags = opts.flags | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if let [only] = hierarchies.as_slice() {
        if only.v2 {
            return mount_hierarchy(rootfs, dest, only, flags, ctx);
        }
    }
    // v1: a tmpfs holding one directory per hierarchy. As in runc and crun, `ro` applies
    // to the hierarchies; the tmpfs itself stays writable (and holds nothing else).
    let target = rootfs.mkdir_all(dest, 0o755)?;
    mount(
        Some("tmpfs"),
        fd_path(&target).as_str(),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=755"),
    )
    .context(|| format!("Cannot mount tmpfs on {}", rootfs.display(dest)))?;
    for h in &hierarchies {
        let name = h
            .mountpoint
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        mount_hierarchy(rootfs, &dest.join(name), h, flags, ctx)?;
    }
    Ok(())
}

fn mount_hierarchy(
    rootfs: &RootFs,
    dest: &Path,
    h: &Hierarchy,
    flags: MsFlags,
    ctx: &MountContext,
) -> Result<()> {
    let target = rootfs.mkdir_all(dest, 0o755)?;
    let result = if ctx.cgroupns {
        let (fstype, data) = if h.v2 {
            ("cgroup2", None)
        } else {
            ("cgroup", Some(h.controllers.as_str()))
        };
        mount(
            Some(fstype),
            fd_path(&target).as_str(),
            Some(fstype),
            flags,
            data,
        )
    } else {
        let own = h
            .mountpoint
            .join(crate::rootfs::safe_path::clean(&ctx.cgroup_path));
        mount(
            Some(&own),
            fd_path(&target).as_str(),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .and_then(|_| {
            remount_bind(
                &reopen(rootfs, dest).map_err(|_| nix::Error::ENOENT)?,
                flags,
            )
        })
    };
    result.context(|| {
        format!(
            "Cannot mount cgroup hierarchy {} on {}",
            h.mountpoint.display(),
            rootfs.display(dest)
        )
    })
}
