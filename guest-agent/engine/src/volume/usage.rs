//! How many bytes a volume holds (`docker system df -v`, prune's reclaimed space), counted as
//! docker does: the sizes of everything but directories, each hard-linked inode once. The
//! walk is fd-relative and never follows a symlink, so a container cannot point it at the
//! host or make it loop.

use std::collections::HashSet;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

use super::error::{io_err, VolumeError};
use super::name::validate;
use super::store::{VolumeStore, DATA_DIR};
use crate::archive::tree::{list_dir, MAX_DEPTH};

impl VolumeStore {
    /// The size of a volume's content in bytes.
    pub fn usage(&self, name: &str) -> Result<u64, VolumeError> {
        validate(name).map_err(|_| VolumeError::NotFound(name.to_string()))?;
        let data = self.volume_dir(name).join(DATA_DIR);
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match open(&data, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Err(VolumeError::NotFound(name.to_string())),
            Err(e) => return Err(io_err("open", &data)(e)),
        };
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut seen = HashSet::new();
        dir_size(&fd, &data, 0, &mut seen)
    }
}

/// The size of any directory tree, counted as a volume's is (a container's writable layer
/// for `system df`): hostile content cannot make the walk leave the tree.
pub fn tree_size(path: &Path) -> Result<u64, VolumeError> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = open(path, flags, Mode::empty()).map_err(io_err("open", path))?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    dir_size(&fd, path, 0, &mut HashSet::new())
}

pub(super) fn dir_size(
    dir: &OwnedFd,
    path: &Path,
    depth: usize,
    seen: &mut HashSet<(u64, u64)>,
) -> Result<u64, VolumeError> {
    if depth >= MAX_DEPTH {
        // Deeper content is not counted rather than failing the whole count.
        return Ok(0);
    }
    let mut total = 0u64;
    for child in list_dir(dir).map_err(io_err("list", path))? {
        let st = match fstatat(
            Some(dir.as_raw_fd()),
            child.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => st,
            // Changed by a running container meanwhile.
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(io_err("stat", &path.join(&child))(e)),
        };
        if st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFDIR.bits() {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let fd = match openat(
                Some(dir.as_raw_fd()),
                child.as_os_str(),
                flags,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
                Err(e) => return Err(io_err("open", &path.join(&child))(e)),
            };
            // SAFETY: openat returned a fresh descriptor that nothing else owns.
            let sub = unsafe { OwnedFd::from_raw_fd(fd) };
            total += dir_size(&sub, &path.join(&child), depth + 1, seen)?;
            continue;
        }
        if st.st_nlink > 1 && !seen.insert((st.st_dev, st.st_ino)) {
            continue;
        }
        total += u64::try_from(st.st_size).unwrap_or(0);
    }
    Ok(total)
}
