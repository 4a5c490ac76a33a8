//! Path operations inside the container's root filesystem, all relative to an fd of the
//! root and resolved with openat2(RESOLVE_IN_ROOT): a symlink in an image (`/mnt -> /etc`,
//! `/dev -> /`) resolves as if the rootfs were `/`, so no mount, mkdir or write can land
//! outside it. Mounts then target `/proc/self/fd/N`, the exact inode that was resolved.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{mkdirat, Mode};

use crate::error::{Context, Result, RuntimeError};

#[derive(Debug)]
pub struct RootFs {
    fd: OwnedFd,
    path: PathBuf,
}

/// `/a/./b/../c` -> `a/c`, with `..` clamped at the root as the kernel would.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The path by which mount(2) and friends reach an fd's inode.
pub fn fd_path(fd: &impl AsRawFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

impl RootFs {
    pub fn open(path: &Path) -> Result<Self> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| format!("Cannot open root filesystem {}", path.display()))?;
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(RootFs {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The host path a container path names, for messages only: never open it.
    pub fn display(&self, path: &Path) -> String {
        self.path.join(clean(path)).display().to_string()
    }

    /// Opens a container path inside the root.
    pub fn resolve(&self, path: &Path, flags: OFlag, mode: Mode) -> nix::Result<OwnedFd> {
        let rel = clean(path);
        let rel = if rel.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rel
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .mode(mode)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let fd = retry_eagain(|| openat2(self.fd.as_raw_fd(), &rel, how))?;
        // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `mkdir -p` inside the root; returns an O_PATH fd of the final directory.
    pub fn mkdir_all(&self, path: &Path, mode: u32) -> Result<OwnedFd> {
        let mut current = self
            .resolve(
                Path::new("/"),
                OFlag::O_PATH | OFlag::O_DIRECTORY,
                Mode::empty(),
            )
            .context(|| format!("Cannot open root filesystem {}", self.path.display()))?;
        let mut prefix = PathBuf::from("/");
        for comp in clean(path).components() {
            prefix.push(comp);
            let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
            current = match self.resolve(&prefix, dir_flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) => {
                    match mkdirat(
                        Some(current.as_raw_fd()),
                        comp.as_os_str(),
                        Mode::from_bits_truncate(mode),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => {
                            return Err(e).context(|| {
                                format!("Cannot create directory {}", self.display(&prefix))
                            })
                        }
                    }
                    self.resolve(&prefix, dir_flags, Mode::empty())
                        .map_err(|e| {
                            let why = if e == Errno::ENOENT {
                                "it is a symlink whose target is missing".to_string()
                            } else {
                                e.desc().to_string()
                            };
                            RuntimeError::InvalidSpec(format!(
                                "cannot create directory {} in the rootfs: {why}",
                                prefix.display()
                            ))
                        })?
                }
                Err(e) => {
                    return Err(e)
                        .context(|| format!("Cannot use {} as a directory", self.display(&prefix)))
                }
            };
        }
        Ok(current)
    }

    /// Creates (if missing) a regular file inside the root, its parents too; returns an
    /// O_PATH fd of it. Used for bind mounts of files.
    pub fn ensure_file(&self, path: &Path) -> Result<OwnedFd> {
        if let Some(parent) = path.parent() {
            self.mkdir_all(parent, 0o755)?;
        }
        match self.resolve(path, OFlag::O_PATH, Mode::empty()) {
            Ok(fd) => Ok(fd),
            Err(Errno::ENOENT) => {
                let created = self
                    .resolve(
                        path,
                        OFlag::O_CREAT | OFlag::O_RDONLY | OFlag::O_NOCTTY,
                        Mode::from_bits_truncate(0o644),
                    )
                    .context(|| format!("Cannot create file {}", self.display(path)))?;
                drop(created);
                self.resolve(path, OFlag::O_PATH, Mode::empty())
                    .context(|| format!("Cannot open file {}", self.display(path)))
            }
            Err(e) => Err(e).context(|| format!("Cannot open {}", self.display(path))),
        }
    }

    /// Splits a container path into (O_PATH fd of its parent directory, final name),
    /// creating the parents. For mknodat/symlinkat, which act on a name in a directory.
    pub fn parent_and_name(&self, path: &Path) -> Result<(OwnedFd, PathBuf)> {
        let cleaned = clean(path);
        let name = cleaned.file_name().map(PathBuf::from).ok_or_else(|| {
            RuntimeError::InvalidSpec(format!("{} names no file", path.display()))
        })?;
        let parent = self.mkdir_all(cleaned.parent().unwrap_or(Path::new("")), 0o755)?;
        Ok((parent, name))
    }
}

/// openat2 returns EAGAIN when a rename raced the lookup; the lookup is simply repeated.
pub fn retry_eagain(mut f: impl FnMut() -> nix::Result<RawFd>) -> nix::Result<RawFd> {
    for _ in 0..64 {
        match f() {
            Err(Errno::EAGAIN) => continue,
            other => return other,
        }
    }
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tempdir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("berth-safe-path-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn clean_clamps_dotdot_at_the_root() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(clean(Path::new("/../../etc")), PathBuf::from("etc"));
        assert_eq!(clean(Path::new("/")), PathBuf::new());
    }

    #[test]
    fn symlinks_pointing_outside_resolve_inside_the_root() {
        let base = tempdir("escape");
        let root = base.join("rootfs");
        let outside = base.join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        // An absolute and a relative symlink that both aim at `outside`.
        symlink(&outside, root.join("abs")).unwrap();
        symlink("../../outside", root.join("rel")).unwrap();
        let rootfs = RootFs::open(&root).unwrap();
        rootfs.mkdir_all(Path::new("/abs/made"), 0o755).unwrap_err();
        rootfs.mkdir_all(Path::new("/rel/made"), 0o755).unwrap_err();
        rootfs.ensure_file(Path::new("/abs/file")).unwrap_err();
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "wrote outside the root"
        );
        // A symlink whose target exists inside the root is followed inside the root.
        std::fs::create_dir_all(root.join("real")).unwrap();
        symlink("/real", root.join("inroot")).unwrap();
        rootfs.mkdir_all(Path::new("/inroot/sub"), 0o755).unwrap();
        assert!(root.join("real/sub").is_dir());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
