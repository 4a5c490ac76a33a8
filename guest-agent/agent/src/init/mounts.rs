//! The VM's filesystems: what the kernel leaves to init, and what the engine and the
//! runtime expect to find (cgroup v2 with controllers, devpts for TTYs, mqueue, tmpfs
//! /run for the engine's sockets and runtime state).

use std::io;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};

#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("Cannot create {0}")]
    Dir(String, #[source] io::Error),
    #[error("Cannot mount {fstype} at {target}")]
    Mount {
        fstype: &'static str,
        target: &'static str,
        #[source]
        source: Errno,
    },
    #[error("Cannot leave the initramfs (pivot_root refuses rootfs)")]
    LeaveRootfs(#[source] Errno),
}

struct Fs {
    target: &'static str,
    fstype: &'static str,
    flags: MsFlags,
    data: &'static str,
}

const NOSUID_NODEV: MsFlags = MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV);
const NOEXEC: MsFlags = NOSUID_NODEV.union(MsFlags::MS_NOEXEC);

/// In mount order: /dev before /dev/pts, /sys before its cgroup.
const FILESYSTEMS: &[Fs] = &[
    Fs {
        target: "/proc",
        fstype: "proc",
        flags: NOEXEC,
        data: "",
    },
    Fs {
        target: "/sys",
        fstype: "sysfs",
        flags: NOEXEC,
        data: "",
    },
    Fs {
        target: "/dev",
        fstype: "devtmpfs",
        flags: MsFlags::MS_NOSUID,
        data: "mode=0755",
    },
    // A private instance with a usable /dev/pts/ptmx (the exec service's PTYs use it).
    Fs {
        target: "/dev/pts",
        fstype: "devpts",
        flags: MsFlags::MS_NOSUID.union(MsFlags::MS_NOEXEC),
        data: "newinstance,ptmxmode=0666,mode=0620,gid=5",
    },
    Fs {
        target: "/dev/shm",
        fstype: "tmpfs",
        flags: NOSUID_NODEV,
        data: "mode=1777",
    },
    Fs {
        target: "/dev/mqueue",
        fstype: "mqueue",
        flags: NOEXEC,
        data: "",
    },
    Fs {
        target: "/run",
        fstype: "tmpfs",
        flags: NOSUID_NODEV,
        data: "mode=0755",
    },
    Fs {
        target: "/tmp",
        fstype: "tmpfs",
        flags: NOSUID_NODEV,
        data: "mode=1777",
    },
    Fs {
        target: "/sys/fs/cgroup",
        fstype: "cgroup2",
        flags: NOEXEC,
        data: "nsdelegate",
    },
];

/// Moves the root off the initramfs: the kernel's rootfs has no parent mount, so
/// pivot_root(2), which every container start needs, fails with EINVAL there. A bind of
/// / moved onto / has a parent (rootfs), costs no copy, and keeps every file.
pub fn leave_rootfs() -> Result<(), MountError> {
    let err = MountError::LeaveRootfs;
    let new = "/.berth-root";
    std::fs::create_dir_all(new).map_err(|e| MountError::Dir(new.into(), e))?;
    mount(Some("/"), new, None::<&str>, MsFlags::MS_BIND, None::<&str>).map_err(err)?;
    nix::unistd::chdir(new).map_err(err)?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>).map_err(err)?;
    nix::unistd::chroot(".").map_err(err)?;
    nix::unistd::chdir("/").map_err(err)?;
    // Inside the moved bind the directory is an ordinary, empty one.
    let _ = std::fs::remove_dir(new);
    Ok(())
}

/// Mounts [`FILESYSTEMS`] (one already mounted is left as it is), adds the /dev links
/// devtmpfs lacks, and enables the cgroup controllers.
pub fn mount_all() -> Result<(), MountError> {
    for fs in FILESYSTEMS {
        std::fs::create_dir_all(fs.target).map_err(|e| MountError::Dir(fs.target.into(), e))?;
        let data = (!fs.data.is_empty()).then_some(fs.data);
        match mount(Some(fs.fstype), fs.target, Some(fs.fstype), fs.flags, data) {
            Ok(()) | Err(Errno::EBUSY) => {}
            Err(source) => {
                return Err(MountError::Mount {
                    fstype: fs.fstype,
                    target: fs.target,
                    source,
                })
            }
        }
    }
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/core", "/proc/kcore"),
    ] {
        let _ = std::os::unix::fs::symlink(target, link);
    }
    // /dev/ptmx from devtmpfs would open the initial devpts instance; point it at ours.
    if std::fs::remove_file("/dev/ptmx").is_ok() {
        let _ = std::os::unix::fs::symlink("pts/ptmx", "/dev/ptmx");
    }
    // Where clients look for the engine, as on Docker Desktop, so `-v
    // /var/run/docker.sock:/var/run/docker.sock` gives a container the engine's API (the
    // engine serves /run/berth/docker.sock, and the bind policy resolves the links to it).
    if std::fs::symlink_metadata("/var/run").is_err() {
        let _ = std::os::unix::fs::symlink("/run", "/var/run");
    }
    let _ = std::os::unix::fs::symlink("berth/docker.sock", "/run/docker.sock");
    enable_controllers(Path::new("/sys/fs/cgroup"));
    Ok(())
}

/// Enables every controller the kernel offers for the whole tree, so the runtime's
/// `berth/<id>` cgroups get cpu, memory, io and pids files (berth-runtime enables them
/// level by level too; doing it once here makes a missing one visible at boot).
fn enable_controllers(root: &Path) {
    let Ok(offered) = std::fs::read_to_string(root.join("cgroup.controllers")) else {
        super::console::warn("cgroup v2 offers no controllers: container limits will fail");
        return;
    };
    let line: Vec<String> = offered
        .split_whitespace()
        .map(|c| format!("+{c}"))
        .collect();
    let file = root.join("cgroup.subtree_control");
    if std::fs::write(&file, line.join(" ")).is_err() {
        for controller in line {
            if let Err(e) = std::fs::write(&file, &controller) {
                super::console::warn(&format!(
                    "cannot enable cgroup controller {controller}: {e}"
                ));
            }
        }
    }
}
