//! The root filesystem of a container: the image's unpacked layers (shared, read-only,
//! from `image::layers`) stacked by overlayfs under the container's own upper directory,
//! which receives everything the container writes.
//!
//! mount(2) copies at most one page of options, and `lowerdir=a:b:c` with absolute layer
//! paths (about 90 bytes each) fills 4096 bytes at ~45 layers. So a mount tries, in order:
//! absolute paths (readable in /proc/self/mountinfo); the same layers as `/proc/self/fd/N`
//! of directories held open for the call (~18 bytes each, ~200 layers); the mount API,
//! which takes one `lowerdir+` per layer with no total limit (Linux 6.8+). When none fits
//! the error says so. An image with no layers needs no overlay: its root is the upper
//! directory itself, bind-mounted.

mod new_api;
#[cfg(test)]
mod tests_root;

use std::fs::{self, DirBuilder, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{umount2, MntFlags, MsFlags};

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("Cannot create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("Path {path} cannot be used in an overlay mount: it contains {what}")]
    BadPath { path: PathBuf, what: &'static str },

    #[error("Cannot open the layer directory {path}")]
    OpenLayer {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("Cannot mount the container root at {target}")]
    Mount {
        target: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "Image has {layers} layers, too many for one overlay mount on this kernel: the mount \
         options exceed {limit} bytes and the kernel lacks overlayfs lowerdir+ (Linux 6.8+)"
    )]
    TooManyLayers { layers: usize, limit: usize },

    #[error("Cannot unmount the container root at {target}")]
    Unmount {
        target: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub type Result<T> = std::result::Result<T, RootfsError>;

/// A container's overlay directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsDirs {
    /// What the container changed: new and modified files, whiteouts for deletions.
    pub upper: PathBuf,
    /// overlayfs's scratch space; must be on the same filesystem as `upper`.
    pub work: PathBuf,
}

/// Creates (if missing) `<container_dir>/upper` and `<container_dir>/work`.
pub fn create_dirs(container_dir: &Path) -> Result<RootfsDirs> {
    let dirs = RootfsDirs {
        upper: container_dir.join("upper"),
        work: container_dir.join("work"),
    };
    // upper becomes the root directory's attributes in the mount: 0755 like any `/`.
    for (path, mode) in [(&dirs.upper, 0o755), (&dirs.work, 0o700)] {
        let err = |source| RootfsError::Create {
            path: path.clone(),
            source,
        };
        match DirBuilder::new().recursive(true).mode(mode).create(path) {
            // recursive(true) accepts an existing directory; a symlink there would make the
            // mount use whatever it points at, so only a real directory is accepted.
            Ok(()) if fs::symlink_metadata(path).map_err(err)?.is_dir() => {}
            Ok(()) => return Err(err(io::Error::from(io::ErrorKind::AlreadyExists))),
            Err(e) => return Err(err(e)),
        }
    }
    Ok(dirs)
}

/// Mounts the container root on `target`: `lowers` (the image's layer diffs, top-most
/// first, as `LayerStore::ensure` returns them) under `upper`, with `work` for overlayfs.
pub fn mount(lowers: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    if lowers.is_empty() {
        return bind(upper, target);
    }
    for path in lowers.iter().map(PathBuf::as_path).chain([upper, work]) {
        check_path(path)?;
    }
    let (upper_s, work_s) = (text(upper), text(work));
    let limit = page_size();
    let absolute: Vec<String> = lowers.iter().map(|p| text(p)).collect();
    let options = overlay_options(&absolute, &upper_s, &work_s);
    if options.len() < limit {
        return legacy(&options, target);
    }

    // Kept open until the mount is done: the kernel resolves each /proc/self/fd/N then.
    let held = lowers
        .iter()
        .map(|p| open_dir(p))
        .collect::<Result<Vec<File>>>()?;
    let by_fd: Vec<String> = held
        .iter()
        .map(|f| format!("/proc/self/fd/{}", f.as_raw_fd()))
        .collect();
    let options = overlay_options(&by_fd, &upper_s, &work_s);
    if options.len() < limit {
        return legacy(&options, target);
    }

    // One value per fsconfig call, each capped at a few hundred bytes.
    let short = |abs: &String, fd: &String| {
        if abs.len() < new_api::MAX_VALUE {
            abs.clone()
        } else {
            fd.clone()
        }
    };
    let values: Vec<String> = absolute
        .iter()
        .zip(&by_fd)
        .map(|(a, f)| short(a, f))
        .collect();
    new_api::mount(&values, &upper_s, &work_s, target).map_err(|e| match e {
        new_api::Failure::Unsupported => RootfsError::TooManyLayers {
            layers: lowers.len(),
            limit,
        },
        new_api::Failure::Failed(source) => RootfsError::Mount {
            target: target.to_path_buf(),
            source,
        },
    })
}

/// Detaches the container root mounted on `target` (lazily: a process still using it
/// keeps it until it lets go). Returns false if nothing was mounted there.
pub fn unmount(target: &Path) -> Result<bool> {
    match umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) => Ok(true),
        // EINVAL: target is not a mount point; ENOENT: it does not exist.
        Err(Errno::EINVAL | Errno::ENOENT) => Ok(false),
        Err(e) => Err(RootfsError::Unmount {
            target: target.to_path_buf(),
            source: e.into(),
        }),
    }
}

/// `lowerdir=a:b:c,upperdir=u,workdir=w`.
fn overlay_options(lowers: &[String], upper: &str, work: &str) -> String {
    format!(
        "lowerdir={},upperdir={upper},workdir={work}",
        lowers.join(":")
    )
}

fn legacy(options: &str, target: &Path) -> Result<()> {
    nix::mount::mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(options),
    )
    .map_err(|e| RootfsError::Mount {
        target: target.to_path_buf(),
        source: e.into(),
    })
}

fn bind(upper: &Path, target: &Path) -> Result<()> {
    nix::mount::mount(
        Some(upper),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| RootfsError::Mount {
        target: target.to_path_buf(),
        source: e.into(),
    })
}

/// Refuses what overlayfs would read as syntax: `,` ends an option, `:` separates lower
/// layers, `\` escapes; and a path that is not UTF-8 cannot be put in the options string.
fn check_path(path: &Path) -> Result<()> {
    let bad = |what| RootfsError::BadPath {
        path: path.to_path_buf(),
        what,
    };
    let s = path
        .to_str()
        .ok_or_else(|| bad("bytes that are not UTF-8"))?;
    if !path.is_absolute() {
        return Err(bad("no leading /"));
    }
    match s.chars().find(|c| matches!(c, ',' | ':' | '\\' | '\0')) {
        Some(',') => Err(bad("a comma")),
        Some(':') => Err(bad("a colon")),
        Some('\\') => Err(bad("a backslash")),
        Some(_) => Err(bad("a NUL byte")),
        None => Ok(()),
    }
}

fn text(path: &Path) -> String {
    // check_path has made sure every path is UTF-8.
    path.to_string_lossy().into_owned()
}

fn open_dir(path: &Path) -> Result<File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| RootfsError::OpenLayer {
            path: path.to_path_buf(),
            source,
        })
}

/// The mount(2) options limit: one page, including the terminating NUL.
fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |n| n as usize)
}
