//! Container paths resolved the way docker's `ResolvePath` does, but fd-relative: the
//! directory part is opened with openat2(RESOLVE_IN_ROOT) below an fd of the container root,
//! so every symlink on the way (`/etc -> /`, `x -> ../../..`) resolves as if the root were
//! `/`; the final component is never followed (`docker cp c:/link .` copies the link), unless
//! the path ends in `/` or `/.`, which asks for the directory the link leads to.
//!
//! Everything afterwards acts on the returned fds, so a symlink swapped in after resolution
//! (CVE-2018-15664) cannot redirect anything to the host.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use berth_runtime::rootfs::safe_path::{clean, fd_path, RootFs};
use nix::errno::Errno;
use nix::fcntl::{readlink, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};

use super::error::{io_err, ArchiveError};

/// A resolved container path: its directory as an fd and the final name in it.
#[derive(Debug)]
pub(super) struct Target {
    /// The path as asked, absolute and cleaned, keeping a trailing `/` or `/.`.
    pub abs: String,
    /// docker's `filepath.Base` of `abs`: the name the target has in a stat and a tar.
    pub name: String,
    /// O_PATH fd of the directory holding the target, or of the target itself when `base`
    /// is `None`.
    pub dir: OwnedFd,
    pub base: Option<OsString>,
    /// lstat of the target.
    pub st: FileStat,
}

pub(super) fn open_root(root: &Path) -> Result<RootFs, ArchiveError> {
    RootFs::open(root).map_err(|e| ArchiveError::OpenRoot {
        path: root.display().to_string(),
        source: std::io::Error::other(e),
    })
}

/// `/` + the cleaned path (`..` clamped at the root), with a trailing `/.` or `/` kept.
pub(super) fn abs_path(path: &Path) -> String {
    let raw = path.as_os_str().as_bytes();
    let cleaned = clean(path);
    let mut abs = format!("/{}", cleaned.display());
    if raw.ends_with(b"/.") {
        abs.push_str(if abs == "/" { "." } else { "/." });
    } else if raw.ends_with(b"/") && abs != "/" {
        abs.push('/');
    }
    abs
}

/// Resolves `path` inside the root without following its final component.
pub(super) fn resolve(rootfs: &RootFs, path: &Path) -> Result<Target, ArchiveError> {
    let abs = abs_path(path);
    let split = abs.rfind('/').expect("abs starts with /") + 1;
    let (dir, base) = abs.split_at(split);
    let not_found = || ArchiveError::NotFound { path: abs.clone() };
    let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let dir_fd = match rootfs.resolve(Path::new(dir), dir_flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => return Err(not_found()),
        Err(e) => return Err(io_err("open", &abs)(e)),
    };
    let base = match base {
        "" | "." => None,
        name => Some(OsString::from(name)),
    };
    let st = match &base {
        None => fstat(dir_fd.as_raw_fd()).map_err(io_err("stat", &abs))?,
        Some(name) => match fstatat(
            Some(dir_fd.as_raw_fd()),
            name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Err(not_found()),
            Err(e) => return Err(io_err("stat", &abs)(e)),
        },
    };
    Ok(Target {
        name: base_name(&abs),
        abs,
        dir: dir_fd,
        base,
        st,
    })
}

/// Resolves a directory inside the root, following every component (a PUT's destination).
pub(super) fn resolve_dir(rootfs: &RootFs, path: &Path) -> Result<OwnedFd, ArchiveError> {
    let abs = abs_path(path);
    match rootfs.resolve(path, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::ENOENT | Errno::ELOOP) => Err(ArchiveError::NotFound { path: abs }),
        // ENOTDIR also comes from a file in the middle of the path; docker reports both as
        // "not a directory" too.
        Err(Errno::ENOTDIR) => Err(ArchiveError::NotADirectory { path: abs }),
        Err(e) => Err(io_err("open", &abs)(e)),
    }
}

fn base_name(abs: &str) -> String {
    let trimmed = abs.trim_end_matches('/');
    match trimmed.rfind('/') {
        _ if trimmed.is_empty() => "/".to_string(),
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

pub(super) fn is_symlink(st: &FileStat) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFLNK.bits()
}

/// Where a symlink target finally leads, as an absolute container path (docker's
/// `linkTarget`): resolved inside the root as far as it exists; a dangling link's target is
/// joined to the link's directory lexically.
pub(super) fn link_target(rootfs: &RootFs, target: &Target) -> Result<String, ArchiveError> {
    let abs = target.abs.trim_end_matches('/');
    let root = container_dir(rootfs)?;
    match rootfs.resolve(Path::new(abs), OFlag::O_PATH, Mode::empty()) {
        Ok(fd) => return Ok(inside(&root, &host_path(&fd)?)),
        Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => {}
        Err(e) => return Err(io_err("resolve", &target.abs)(e)),
    }
    let Some(base) = &target.base else {
        return Ok(abs.to_string());
    };
    let link = readlinkat(Some(target.dir.as_raw_fd()), base.as_os_str())
        .map_err(io_err("read the symlink", &target.abs))?;
    let link = PathBuf::from(OsString::from_vec(link.into_vec()));
    let joined = if link.is_absolute() {
        link
    } else {
        PathBuf::from(inside(&root, &host_path(&target.dir)?)).join(link)
    };
    Ok(format!("/{}", clean(&joined).display()))
}

fn container_dir(rootfs: &RootFs) -> Result<PathBuf, ArchiveError> {
    let fd = rootfs
        .resolve(
            Path::new("/"),
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
        .map_err(io_err("open", "/"))?;
    host_path(&fd)
}

/// The path the kernel records for an fd (its /proc/self/fd link).
fn host_path(fd: &OwnedFd) -> Result<PathBuf, ArchiveError> {
    let link = fd_path(fd);
    let target = readlink(link.as_str()).map_err(io_err("read", &link))?;
    Ok(PathBuf::from(target))
}

/// `host` as a path of the container whose root is at `root` on the host.
fn inside(root: &Path, host: &Path) -> String {
    let rel = host.strip_prefix(root).unwrap_or(Path::new(""));
    format!("/{}", rel.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_paths_are_cleaned_and_keep_their_trailing_form() {
        let cases = [
            ("etc/passwd", "/etc/passwd"),
            ("/a/../../b/./c", "/b/c"),
            ("/dir/", "/dir/"),
            ("/dir/.", "/dir/."),
            ("/", "/"),
            ("/.", "/."),
        ];
        for (input, expected) in cases {
            assert_eq!(abs_path(Path::new(input)), expected, "{input}");
        }
    }

    #[test]
    fn base_names_follow_go_filepath_base() {
        let cases = [("/a/b", "b"), ("/a/b/", "b"), ("/a/.", "."), ("/", "/")];
        for (input, expected) in cases {
            assert_eq!(base_name(input), expected, "{input}");
        }
    }
}
