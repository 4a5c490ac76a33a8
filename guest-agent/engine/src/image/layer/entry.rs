//! Creating one entry in its (already resolved) parent directory. What is in the way is
//! removed first, as tar does, except that a directory entry keeps an existing directory and
//! merges into it. A regular file is always a new inode (O_CREAT|O_EXCL|O_NOFOLLOW), so
//! neither a symlink nor a hard link of an existing file is ever written through.

use std::ffi::{CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{makedev, mkdirat, mknodat, Mode, SFlag};
use nix::unistd::{linkat, symlinkat};

use super::error::{io_err, LayerError};
use super::name;
use super::root::{is_dir, lstat_at, open_at, remove_all, Root};
use super::stream::Meter;

/// What was at an entry's place before it was created.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Prior {
    Nothing,
    /// A directory, kept for a directory entry to merge into.
    Dir,
    /// An overlayfs whiteout (char device 0:0) that was removed.
    Whiteout,
    Other,
}

/// Clears `base` in `parent` for a new entry; keeps a directory if `keep_dir`.
pub(super) fn make_room(
    parent: &OwnedFd,
    base: &OsStr,
    keep_dir: bool,
    name: &str,
) -> Result<Prior, LayerError> {
    let st =
        lstat_at(parent.as_raw_fd(), base).map_err(io_err("inspect the existing file", name))?;
    let Some(st) = st else {
        return Ok(Prior::Nothing);
    };
    if keep_dir && is_dir(&st) {
        return Ok(Prior::Dir);
    }
    let whiteout = st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFCHR.bits() && st.st_rdev == 0;
    remove_all(parent.as_raw_fd(), base).map_err(io_err("remove the existing file", name))?;
    Ok(if whiteout {
        Prior::Whiteout
    } else {
        Prior::Other
    })
}

/// Writes a regular file's content; returns it open for the metadata to be applied.
pub(super) fn regular<R: Read>(
    parent: &OwnedFd,
    base: &OsStr,
    data: &mut R,
    expected: u64,
    buf: &mut [u8],
    meter: &Meter,
    name: &str,
) -> Result<OwnedFd, LayerError> {
    make_room(parent, base, false, name)?;
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL;
    let fd = open_at(
        parent.as_raw_fd(),
        base,
        flags,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(io_err("create the file", name))?;
    let mut file = std::fs::File::from(fd);
    let mut found = 0u64;
    loop {
        let n = data.read(buf).map_err(|e| meter.classify(e))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .map_err(io_err("write the file", name))?;
        found += n as u64;
    }
    if found != expected {
        return Err(LayerError::Truncated {
            name: name.to_string(),
            expected,
            found,
        });
    }
    Ok(file.into())
}

/// Creates (or keeps, to merge into) a directory; returns it open for its metadata.
pub(super) fn directory(
    parent: &OwnedFd,
    base: &OsStr,
    name: &str,
) -> Result<(OwnedFd, Prior), LayerError> {
    let prior = make_room(parent, base, true, name)?;
    if prior != Prior::Dir {
        mkdirat(
            Some(parent.as_raw_fd()),
            base,
            Mode::from_bits_truncate(0o700),
        )
        .map_err(io_err("create the directory", name))?;
    }
    let fd = open_at(
        parent.as_raw_fd(),
        base,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        Mode::empty(),
    )
    .map_err(io_err("open the directory", name))?;
    Ok((fd, prior))
}

pub(super) fn symlink(
    parent: &OwnedFd,
    base: &OsStr,
    target: &[u8],
    name: &str,
) -> Result<(), LayerError> {
    // The target is stored, never resolved here; later entries that pass through it are
    // resolved inside dest.
    let target = CString::new(target)
        .ok()
        .filter(|t| !t.as_bytes().is_empty())
        .ok_or_else(|| LayerError::BadSymlink {
            name: name.to_string(),
        })?;
    make_room(parent, base, false, name)?;
    symlinkat(target.as_c_str(), Some(parent.as_raw_fd()), base)
        .map_err(io_err("create the symlink", name))
}

/// A hard link to an entry already in dest (this layer's or a lower one's). The target's
/// parent is resolved inside dest and its final component is linked as it is: a symlink
/// target yields a second name for the symlink, never for what it points at.
pub(super) fn hardlink(
    root: &Root,
    parent: &OwnedFd,
    base: &OsStr,
    rel: &Path,
    target: &[u8],
    name: &str,
) -> Result<(), LayerError> {
    let shown = String::from_utf8_lossy(target).into_owned();
    let bad = |reason| LayerError::BadHardlink {
        name: name.to_string(),
        target: shown.clone(),
        reason,
    };
    let target_rel = name::parse(target).map_err(bad)?;
    if target_rel.as_os_str().is_empty() {
        return Err(bad("is the layer root"));
    }
    if target_rel == rel {
        return Err(bad("is the link itself"));
    }
    let (target_parent, target_base) = name::split(&target_rel);
    let target_dir = match root.open_dir(target_parent, OFlag::O_PATH) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENOTDIR) => return Err(bad("does not exist")),
        Err(e) => return Err(io_err("open the link target's directory", name)(e)),
    };
    match lstat_at(target_dir.as_raw_fd(), target_base) {
        Ok(None) => return Err(bad("does not exist")),
        Ok(Some(st)) if is_dir(&st) => return Err(bad("is a directory")),
        Ok(Some(_)) => {}
        Err(e) => return Err(io_err("inspect the link target", name)(e)),
    }
    make_room(parent, base, false, name)?;
    linkat(
        Some(target_dir.as_raw_fd()),
        target_base,
        Some(parent.as_raw_fd()),
        base,
        AtFlags::empty(),
    )
    .map_err(|e| match e {
        Errno::ENOENT => bad("does not exist"),
        e => io_err("create the hard link", name)(e),
    })
}

/// A character or block device or a fifo; returns an O_PATH fd of it for its metadata.
pub(super) fn node(
    parent: &OwnedFd,
    base: &OsStr,
    kind: SFlag,
    major: u32,
    minor: u32,
    name: &str,
) -> Result<OwnedFd, LayerError> {
    make_room(parent, base, false, name)?;
    let dev = makedev(u64::from(major), u64::from(minor));
    mknodat(
        Some(parent.as_raw_fd()),
        base,
        kind,
        Mode::from_bits_truncate(0o600),
        dev,
    )
    .map_err(io_err("create the device node", name))?;
    open_at(parent.as_raw_fd(), base, OFlag::O_PATH, Mode::empty())
        .map_err(io_err("open the device node", name))
}

/// The overlayfs whiteout for `base`: a 0:0 character device, as overlayfs itself makes.
pub(super) fn overlay_whiteout(
    parent: &OwnedFd,
    base: &OsStr,
    name: &str,
) -> Result<(), LayerError> {
    mknodat(
        Some(parent.as_raw_fd()),
        base,
        SFlag::S_IFCHR,
        Mode::empty(),
        makedev(0, 0),
    )
    .map_err(io_err("create the overlay whiteout", name))
}
