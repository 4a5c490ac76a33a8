//! `GET /containers/{id}/archive`: a container path as a tar stream rooted at its base name
//! (`/etc/hosts` -> `hosts`, `/etc` -> `etc/`, `etc/hosts`...), as docker serves it.

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};

use super::error::{io_err, ArchiveError};
use super::resolve::Target;
use super::stat::PathStat;
use super::tree::TreeWriter;
use super::xattr::XattrPolicy;

/// A container path resolved once, so that the stat sent in the response header and the
/// content streamed after it describe the same file.
#[derive(Debug)]
pub struct Source {
    target: Target,
    /// A directory target, opened at resolution: its content is what gets archived, even if
    /// the name is swapped for something else afterwards.
    dir: Option<OwnedFd>,
    stat: PathStat,
}

/// Resolves `path` inside the container root `root` for archiving.
pub fn open(root: &Path, path: &Path) -> Result<Source, ArchiveError> {
    let (target, stat) = super::stat::resolve_with_stat(root, path)?;
    let dir = if is_dir(&target.st) {
        Some(open_dir(&target)?)
    } else {
        None
    };
    Ok(Source { target, dir, stat })
}

/// `open`, then the tar stream into `out`; returns the stat for the response header.
pub fn get<W: Write>(root: &Path, path: &Path, out: W) -> Result<PathStat, ArchiveError> {
    let source = open(root, path)?;
    let stat = source.stat.clone();
    source.write_tar(out)?;
    Ok(stat)
}

impl Source {
    pub fn stat(&self) -> &PathStat {
        &self.stat
    }

    /// Streams the tar (ended with its two zero blocks) and returns the writer.
    pub fn write_tar<W: Write>(self, out: W) -> Result<W, ArchiveError> {
        // The root has no base name of its own; its entries are rooted at `.` instead.
        let name = match self.target.name.as_str() {
            "/" => PathBuf::from("."),
            name => PathBuf::from(name),
        };
        let mut writer = TreeWriter::new(out, XattrPolicy::Capability);
        match (&self.dir, &self.target.base) {
            (Some(dir), _) => writer.append_dir(dir, Some(&name), 0)?,
            (None, Some(base)) => writer.append_at(&self.target.dir, base, &name, 0)?,
            // A target without a base name is a directory, opened above.
            (None, None) => {}
        }
        writer.finish()
    }
}

fn is_dir(st: &FileStat) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFDIR.bits()
}

/// Opens a directory target for reading without following its final component.
fn open_dir(target: &Target) -> Result<OwnedFd, ArchiveError> {
    let base = target.base.as_deref().unwrap_or(OsStr::new("."));
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match openat(Some(target.dir.as_raw_fd()), base, flags, Mode::empty()) {
        // SAFETY: openat returned a fresh descriptor that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        // Swapped for a symlink or removed since the lstat of the resolution.
        Err(Errno::ELOOP | Errno::ENOTDIR | Errno::ENOENT) => Err(ArchiveError::NotFound {
            path: target.abs.clone(),
        }),
        Err(e) => Err(io_err("open", &target.abs)(e)),
    }
}
