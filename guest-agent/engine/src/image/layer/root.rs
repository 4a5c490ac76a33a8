//! The destination directory as an fd, and every path operation the unpacker makes below it.
//!
//! Parent directories are resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a
//! symlink met on the way (`dir -> /`, `dir -> ../..`, chains of them, ones from lower
//! layers) resolves as if dest were `/`, so it can only lead somewhere inside dest. The final
//! component is then acted on relative to that parent fd and never followed (O_NOFOLLOW,
//! AT_SYMLINK_NOFOLLOW, O_EXCL), and removals are fd-relative too.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use berth_runtime::rootfs::safe_path::retry_eagain;
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::error::{io_err, LayerError};

#[derive(Debug)]
pub(super) struct Root {
    fd: OwnedFd,
}

/// Why a parent directory could not be made available.
#[derive(Debug)]
enum ParentError {
    /// A component is a symlink whose target (inside dest) does not exist.
    Dangling(PathBuf),
    /// A component exists but is not a directory.
    NotDir(PathBuf),
    Sys(Errno),
}

impl Root {
    /// Opens dest itself. Its own path is the caller's and trusted, so it may be a symlink.
    pub(super) fn open(dest: &Path) -> nix::Result<Root> {
        let fd = nix::fcntl::open(
            dest,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Root { fd })
    }

    /// Opens a directory inside dest. `flags` is O_PATH for a parent used with *at calls, or
    /// O_RDONLY where the directory itself is read or changed.
    pub(super) fn open_dir(&self, rel: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let fd = retry_eagain(|| openat2(self.fd.as_raw_fd(), rel, how))?;
        // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `mkdir -p` inside dest (missing directories are created 0755, owned by the caller, as
    /// tar does for parents an archive leaves out); returns an O_PATH fd of `rel`.
    fn make_dirs(&self, rel: &Path) -> Result<OwnedFd, ParentError> {
        match self.open_dir(rel, OFlag::O_PATH) {
            Ok(fd) => return Ok(fd),
            Err(Errno::ENOENT) => {}
            Err(Errno::ENOTDIR) => return Err(self.find_non_dir(rel)),
            Err(e) => return Err(ParentError::Sys(e)),
        }
        let mut current = self
            .open_dir(Path::new(""), OFlag::O_PATH)
            .map_err(ParentError::Sys)?;
        let mut prefix = PathBuf::new();
        for comp in rel.components() {
            let Component::Normal(name) = comp else {
                continue;
            };
            prefix.push(name);
            current = match self.open_dir(&prefix, OFlag::O_PATH) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) => {
                    match mkdirat(
                        Some(current.as_raw_fd()),
                        name,
                        Mode::from_bits_truncate(0o755),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(ParentError::Sys(e)),
                    }
                    // EEXIST above followed by ENOENT here means the name is a symlink to
                    // a missing target; the directory is not created through it.
                    self.open_dir(&prefix, OFlag::O_PATH).map_err(|e| match e {
                        Errno::ENOENT => ParentError::Dangling(prefix.clone()),
                        Errno::ENOTDIR => ParentError::NotDir(prefix.clone()),
                        e => ParentError::Sys(e),
                    })?
                }
                Err(Errno::ENOTDIR) => return Err(ParentError::NotDir(prefix)),
                Err(e) => return Err(ParentError::Sys(e)),
            };
        }
        Ok(current)
    }

    /// `make_dirs` for the parent of entry `name`, with its failure as a layer error.
    pub(super) fn parent_for(&self, rel: &Path, name: &str) -> Result<OwnedFd, LayerError> {
        let (parent, reason) = match self.make_dirs(rel) {
            Ok(fd) => return Ok(fd),
            Err(ParentError::Dangling(p)) => (p, "is a symlink to a missing directory"),
            Err(ParentError::NotDir(p)) => (p, "is not a directory"),
            Err(ParentError::Sys(errno)) => {
                return Err(io_err("create the parent directory", name)(errno))
            }
        };
        Err(LayerError::BadParent {
            name: name.to_string(),
            parent: parent.display().to_string(),
            reason,
        })
    }

    fn find_non_dir(&self, rel: &Path) -> ParentError {
        let mut prefix = PathBuf::new();
        for comp in rel.iter() {
            prefix.push(comp);
            if matches!(self.open_dir(&prefix, OFlag::O_PATH), Err(Errno::ENOTDIR)) {
                return ParentError::NotDir(prefix);
            }
        }
        ParentError::NotDir(rel.to_path_buf())
    }
}

/// lstat of `name` in `dir`; `None` when it does not exist.
pub(super) fn lstat_at(dir: RawFd, name: &OsStr) -> nix::Result<Option<FileStat>> {
    match fstatat(Some(dir), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn is_dir(st: &FileStat) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFDIR.bits()
}

/// Opens `name` in `dir` without following it if it is a symlink.
pub(super) fn open_at(dir: RawFd, name: &OsStr, flags: OFlag, mode: Mode) -> nix::Result<OwnedFd> {
    let fd = openat(
        Some(dir),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        mode,
    )?;
    // SAFETY: openat returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The names in a directory, read before any of them is changed.
pub(super) fn list_dir(dir: &OwnedFd) -> nix::Result<Vec<OsString>> {
    let dup = dir
        .try_clone()
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))?;
    let mut stream = Dir::from(dup)?;
    let mut names = Vec::new();
    for entry in stream.iter() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(&name).to_owned());
        }
    }
    Ok(names)
}

/// `rm -rf` of `name` in `dir`, fd-relative all the way down; symlinks are removed, never
/// followed. A missing name is not an error.
pub(super) fn remove_all(dir: RawFd, name: &OsStr) -> nix::Result<()> {
    let Some(st) = lstat_at(dir, name)? else {
        return Ok(());
    };
    if is_dir(&st) {
        let sub = open_at(
            dir,
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            Mode::empty(),
        )?;
        for child in list_dir(&sub)? {
            remove_all(sub.as_raw_fd(), &child)?;
        }
        unlinkat(Some(dir), name, UnlinkatFlags::RemoveDir)
    } else {
        unlinkat(Some(dir), name, UnlinkatFlags::NoRemoveDir)
    }
}

/// The path by which chmod(2) and setxattr(2) reach an O_PATH fd's inode, for node types
/// that cannot be opened for real (devices, fifos): the inode resolved without following.
pub(super) fn fd_proc_path(fd: &OwnedFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}
