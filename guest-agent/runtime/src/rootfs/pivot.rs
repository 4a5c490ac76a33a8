//! Switching the root: pivot_root(".", ".") on the new root, then detaching the old root
//! stacked beneath it (runc's way: no temporary directory inside the image is needed).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, fchdir, pivot_root};

use crate::error::{Context, Result};

fn open_dir(path: &Path) -> Result<OwnedFd> {
    let fd = nix::fcntl::open(
        path,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("Cannot open {}", path.display()))?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn pivot(rootfs: &Path) -> Result<()> {
    let old_root = open_dir(Path::new("/"))?;
    let new_root = open_dir(rootfs)?;
    fchdir(new_root.as_raw_fd()).context(|| format!("Cannot enter {}", rootfs.display()))?;
    pivot_root(".", ".").context(|| format!("pivot_root to {} failed", rootfs.display()))?;
    fchdir(old_root.as_raw_fd()).context(|| "Cannot enter the old root".into())?;
    // Never let the unmount propagate back to the host.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| "Cannot make the old root a slave".into())?;
    umount2(".", MntFlags::MNT_DETACH).context(|| "Cannot detach the old root".into())?;
    chdir("/").context(|| "Cannot enter the new root".into())
}

/// Remounts the new root read-only (process.root.readonly), keeping its locked flags.
pub fn readonly_root() -> Result<()> {
    // By path, not /proc/self/fd: the container may have no /proc.
    let root = open_dir(Path::new("/"))?;
    let locked = super::mounts::locked_flags(&root);
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked,
        None::<&str>,
    )
    .context(|| "Cannot make the root filesystem read-only".into())
}
