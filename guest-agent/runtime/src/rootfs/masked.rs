//! Masked and read-only paths. Masking binds the HOST's /dev/null, opened and checked to be
//! the real null device before any image content is trusted; a `/dev/null` supplied by the
//! image (a regular file, a symlink to a host file) is never used.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{fstat, major, minor, Mode, SFlag};

use super::mounts::{remount_bind, reopen};
use super::safe_path::{fd_path, RootFs};
use crate::error::{Context, Result, RuntimeError};

/// Opens the host's /dev/null and proves it is the null device (char 1:3).
pub fn open_host_dev_null() -> Result<OwnedFd> {
    let fd = nix::fcntl::open("/dev/null", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| "Cannot open /dev/null".into())?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let st = fstat(fd.as_raw_fd()).context(|| "Cannot stat /dev/null".into())?;
    let is_char = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
    if !is_char || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3 {
        return Err(RuntimeError::Setup(
            "the host's /dev/null is not the null device (char 1:3)".into(),
        ));
    }
    Ok(fd)
}

pub fn mask(rootfs: &RootFs, paths: &[String], dev_null: &OwnedFd) -> Result<()> {
    for path in paths {
        let path = Path::new(path);
        let Some(target) = existing(rootfs, path, "masked")? else {
            continue;
        };
        let st = fstat(target.as_raw_fd())
            .context(|| format!("Cannot stat masked path {}", path.display()))?;
        let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
        let result = if is_dir {
            mount(
                Some("tmpfs"),
                fd_path(&target).as_str(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=0,mode=755"),
            )
        } else {
            mount(
                Some(fd_path(dev_null).as_str()),
                fd_path(&target).as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        };
        result.context(|| format!("Cannot mask {}", path.display()))?;
    }
    Ok(())
}

pub fn make_readonly(rootfs: &RootFs, paths: &[String]) -> Result<()> {
    for path in paths {
        let path = Path::new(path);
        let Some(target) = existing(rootfs, path, "read-only")? else {
            continue;
        };
        let at = fd_path(&target);
        mount(
            Some(at.as_str()),
            at.as_str(),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .context(|| format!("Cannot bind read-only path {}", path.display()))?;
        let mounted = reopen(rootfs, path)?;
        remount_bind(&mounted, MsFlags::MS_RDONLY)
            .context(|| format!("Cannot make {} read-only", path.display()))?;
    }
    Ok(())
}

/// An O_PATH fd of a path inside the root, or None when the image does not have it
/// (moby's lists name files that only some kernels provide).
fn existing(rootfs: &RootFs, path: &Path, what: &str) -> Result<Option<OwnedFd>> {
    match rootfs.resolve(path, OFlag::O_PATH, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e).context(|| format!("Cannot open {what} path {}", path.display())),
    }
}
