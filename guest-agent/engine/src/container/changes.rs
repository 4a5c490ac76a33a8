//! What a container changed in its filesystem (`docker diff`), read from its overlay upper
//! directory: a 0:0 character device is a deleted path, a directory carrying
//! `trusted.overlay.opaque=y` replaced the lower one, anything else was added (absent from
//! every lower layer) or modified (present below).
//!
//! The walk is fd-relative (`openat` with `O_NOFOLLOW` below the upper directory's fd), so a
//! container swapping a directory for a symlink while it runs cannot lead the walk (or the
//! commit that reuses it) out of its upper directory. Lower layers are looked up with
//! openat2(RESOLVE_IN_ROOT) on each layer's root.
//!
//! The mount points the runtime creates for the container (`/proc`, `/sys`, `/dev`,
//! `/etc/hosts`...) are not the container's changes: docker keeps them in a separate "init"
//! layer, so neither `diff` nor `commit` shows them, and neither does Berth.

use std::collections::HashSet;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use berth_runtime::rootfs::safe_path::RootFs;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, major, minor, FileStat, Mode, SFlag};

use crate::archive::tree::{list_dir, MAX_DEPTH};

/// Paths (relative to the root) the engine and runtime create as mount points; they and
/// everything below them are left out of changes and commits.
const INIT_PATHS: &[&str] = &[
    "dev",
    "proc",
    "sys",
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    "etc/mtab",
    ".dockerenv",
];

/// Docker's change kinds (the numbers are the API's `Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute path in the container (`/tmp/x`).
    pub path: String,
    pub kind: ChangeKind,
}

/// What an upper-directory entry means to overlayfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A whiteout: the path was deleted.
    Whiteout,
    /// A directory; `opaque` hides everything the lower layers have below it.
    Dir { opaque: bool },
    /// A file, symlink, device or fifo.
    Other,
}

/// One entry of the upper directory, as `walk` hands it out.
#[derive(Debug)]
pub struct Visit<'a> {
    /// The directory holding the entry.
    pub parent: RawFd,
    pub name: &'a OsStr,
    /// Relative to the root, no leading `/`.
    pub rel: &'a Path,
    pub st: &'a FileStat,
    pub node: Node,
}

/// Walks `upper` in pre-order (a directory before its content, names sorted), leaving out
/// the init paths. Nothing is followed.
pub fn walk(upper: &Path, visit: &mut dyn FnMut(&Visit<'_>) -> io::Result<()>) -> io::Result<()> {
    let root = nix::fcntl::open(
        upper,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    let root = unsafe { OwnedFd::from_raw_fd(root) };
    walk_dir(&root, Path::new(""), 0, visit)
}

fn walk_dir(
    dir: &OwnedFd,
    rel: &Path,
    depth: usize,
    visit: &mut dyn FnMut(&Visit<'_>) -> io::Result<()>,
) -> io::Result<()> {
    if depth >= MAX_DEPTH {
        return Err(io::Error::other(format!(
            "{} is nested more than {MAX_DEPTH} levels deep",
            rel.display()
        )));
    }
    let mut names = list_dir(dir)?;
    names.sort();
    for name in names {
        let child_rel = rel.join(&name);
        if is_init_path(&child_rel) {
            continue;
        }
        let st = match fstatat(
            Some(dir.as_raw_fd()),
            name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => st,
            // Removed by the container since the listing.
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        let node = match kind(&st) {
            SFlag::S_IFCHR if st.st_rdev == 0 => Node::Whiteout,
            SFlag::S_IFDIR => Node::Dir { opaque: false },
            _ => Node::Other,
        };
        if let Node::Dir { .. } = node {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let child = match openat(
                Some(dir.as_raw_fd()),
                name.as_os_str(),
                flags,
                Mode::empty(),
            ) {
                // SAFETY: openat returned a fresh descriptor that nothing else owns.
                Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
                Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
                Err(e) => return Err(e.into()),
            };
            let node = Node::Dir {
                opaque: is_opaque(child.as_raw_fd()),
            };
            visit(&Visit {
                parent: dir.as_raw_fd(),
                name: &name,
                rel: &child_rel,
                st: &st,
                node,
            })?;
            walk_dir(&child, &child_rel, depth + 1, visit)?;
        } else {
            visit(&Visit {
                parent: dir.as_raw_fd(),
                name: &name,
                rel: &child_rel,
                st: &st,
                node,
            })?;
        }
    }
    Ok(())
}

fn is_init_path(rel: &Path) -> bool {
    INIT_PATHS.iter().any(|p| rel.starts_with(p))
}

pub(crate) fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

fn is_opaque(fd: RawFd) -> bool {
    let name = CString::new("trusted.overlay.opaque").expect("no NUL in a constant");
    let mut value = [0u8; 4];
    // SAFETY: name is NUL-terminated and value has value.len() writable bytes, which the
    // kernel writes at most.
    let n = unsafe { libc::fgetxattr(fd, name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
    n == 1 && value[0] == b'y'
}

/// The changes in `upper` against `lowers` (the image's layer diffs, top-most first),
/// sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<Change>> {
    let lowers: Vec<RootFs> = lowers
        .iter()
        .map(|l| RootFs::open(l).map_err(io::Error::other))
        .collect::<io::Result<_>>()?;
    let mut entries: Vec<(PathBuf, Node, FileStat)> = Vec::new();
    walk(upper, &mut |v| {
        entries.push((v.rel.to_path_buf(), v.node, *v.st));
        Ok(())
    })?;
    // Reversed pre-order: every directory comes after its content, so it knows whether
    // anything below it was reported.
    let mut with_changes: HashSet<PathBuf> = HashSet::new();
    let mut out = Vec::new();
    for (rel, node, st) in entries.iter().rev() {
        let lower = lower_stat(&lowers, rel);
        let kind = match (node, &lower) {
            (Node::Whiteout, _) => Some(ChangeKind::Deleted),
            (_, None) => Some(ChangeKind::Added),
            (Node::Dir { opaque }, Some(below)) => {
                // A directory is copied up whenever something below it changes; on its
                // own it changed only when its metadata did.
                let changed = *opaque
                    || with_changes.contains(rel)
                    || below.st_mode != st.st_mode
                    || below.st_uid != st.st_uid
                    || below.st_gid != st.st_gid;
                changed.then_some(ChangeKind::Modified)
            }
            (Node::Other, Some(_)) => Some(ChangeKind::Modified),
        };
        if let Some(kind) = kind {
            for ancestor in rel.ancestors().skip(1) {
                if !with_changes.insert(ancestor.to_path_buf()) {
                    break;
                }
            }
            out.push(Change {
                path: format!("/{}", rel.display()),
                kind,
            });
        }
    }
    out.sort_by(|a, b| Path::new(&a.path).cmp(Path::new(&b.path)));
    Ok(out)
}

/// lstat of `rel` in the topmost lower layer that has it; `None` when no layer has it or
/// the topmost one holding it deleted it.
fn lower_stat(lowers: &[RootFs], rel: &Path) -> Option<FileStat> {
    let parent = rel.parent().unwrap_or(Path::new(""));
    let name: OsString = rel.file_name()?.to_owned();
    for lower in lowers {
        let Ok(dir) = lower.resolve(parent, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())
        else {
            continue;
        };
        match fstatat(
            Some(dir.as_raw_fd()),
            name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st)
                if kind(&st) == SFlag::S_IFCHR
                    && major(st.st_rdev) == 0
                    && minor(st.st_rdev) == 0 =>
            {
                return None
            }
            Ok(st) => return Some(st),
            Err(_) => continue,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_paths_and_their_content_are_left_out() {
        assert!(is_init_path(Path::new("proc")));
        assert!(is_init_path(Path::new("dev/shm")));
        assert!(is_init_path(Path::new("etc/hosts")));
        assert!(!is_init_path(Path::new("etc")));
        assert!(!is_init_path(Path::new("etc/hosts.allow")));
        assert!(!is_init_path(Path::new("tmp/x")));
    }
}
