//! The `cgroup` mount type: what the container sees at /sys/fs/cgroup. With its own cgroup
//! namespace the container mounts cgroupfs directly (it sees its cgroup as the root);
//! without one it gets bind mounts of its own cgroup directories only.

use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};

use super::mount_options::MountOptions;
use super::mounts::{remount_bind, reopen, MountContext};
use super::safe_path::{fd_path, RootFs};
use crate::error::{Context, Result};

/// One cgroup hierarchy mounted on the host, from /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub mountpoint: PathBuf,
    /// Super options naming the controllers ("memory", "cpu,cpuacct", "name=systemd"); empty for v2.
    pub controllers: String,
    pub v2: bool,
}

/// Host cgroup hierarchies. On a hybrid host the controller-less v2 mount is skipped: it is
/// not where limits live.
pub fn host_hierarchies(mountinfo: &str) -> Vec<Hierarchy> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mountpoint = left.split_whitespace().nth(4).unwrap_or_default();
        let mut rest = right.split_whitespace();
        let fstype = rest.next().unwrap_or_default();
        let super_opts = rest.nth(1).unwrap_or_default();
        match fstype {
            "cgroup2" => out.push(Hierarchy {
                mountpoint: PathBuf::from(mountpoint),
                controllers: String::new(),
                v2: true,
            }),
            "cgroup" => out.push(Hierarchy {
                mountpoint: PathBuf::from(mountpoint),
                controllers: super_opts
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent"))
                    .collect::<Vec<_>>()
                    .join(","),
                v2: false,
            }),
            _ => {}
        }
    }
    if out.iter().any(|h| !h.v2) {
        out.retain(|h| !h.v2);
    }
    out
}

pub fn mount_cgroups(
    rootfs: &RootFs,
    dest: &Path,
    opts: &MountOptions,
    ctx: &MountContext,
) -> Result<()> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .context(|| "Cannot read /proc/self/mountinfo".into())?;
    let hierarchies = host_hierarchies(&mountinfo);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_hosts_list_the_v1_controllers_only() {
        let info = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd";
        let h = host_hierarchies(info);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].controllers, "memory");
        assert_eq!(h[1].controllers, "xattr,name=systemd");
    }

    #[test]
    fn pure_v2_hosts_have_one_hierarchy() {
        let info = "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate";
        let h = host_hierarchies(info);
        assert_eq!(
            h,
            vec![Hierarchy {
                mountpoint: "/sys/fs/cgroup".into(),
                controllers: String::new(),
                v2: true
            }]
        );
    }
}
