//! Whiteouts and opaque directories, in the two modes.
//!
//! Apply: they delete lower content now. The OCI spec has them act on lower layers only, so
//! whatever this layer itself put at or below the deleted path survives, whichever order the
//! tar lists things in; `LayerPaths` remembers those paths (and their ancestors).
//!
//! Overlay: dest is this layer's own (initially empty) directory, stacked later. `.wh.NAME`
//! becomes a 0:0 character device NAME, an opaque marker the xattr
//! `trusted.overlay.opaque=y`. When this layer already has NAME, it wins: a directory NAME is
//! made opaque (so the lower NAME stays hidden), anything else already hides the lower one.

use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::entry;
use super::error::{io_err, LayerError};
use super::meta::set_xattr;
use super::name;
use super::root::{is_dir, list_dir, lstat_at, open_at, remove_all, Root};
use super::WhiteoutMode;

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The paths this layer created, with all their ancestors.
#[derive(Debug, Default)]
pub(super) struct LayerPaths(HashSet<PathBuf>);

impl LayerPaths {
    pub(super) fn insert(&mut self, path: &Path) {
        for ancestor in path.ancestors() {
            if ancestor.as_os_str().is_empty() || !self.0.insert(ancestor.to_path_buf()) {
                break;
            }
        }
    }

    fn contains(&self, path: &Path) -> bool {
        self.0.contains(path)
    }
}

/// `.wh.TARGET` found at `rel`.
pub(super) fn whiteout(
    root: &Root,
    mode: WhiteoutMode,
    layer: &LayerPaths,
    rel: &Path,
    target: &OsStr,
    name: &str,
) -> Result<(), LayerError> {
    let (parent_rel, _) = name::split(rel);
    match mode {
        WhiteoutMode::Apply => {
            // Nothing to delete when the parent is missing (or not a directory).
            let Some(parent) = open_existing(root, parent_rel, OFlag::O_PATH, name)? else {
                return Ok(());
            };
            remove_lower(parent.as_raw_fd(), target, &parent_rel.join(target), layer)
                .map_err(io_err("apply the whiteout", name))
        }
        WhiteoutMode::Overlay => {
            let parent = root.parent_for(parent_rel, name)?;
            match lstat_at(parent.as_raw_fd(), target)
                .map_err(io_err("inspect the whiteout target", name))?
            {
                None => entry::overlay_whiteout(&parent, target, name),
                Some(st) if is_dir(&st) => {
                    let dir = open_at(
                        parent.as_raw_fd(),
                        target,
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                        Mode::empty(),
                    )
                    .map_err(io_err("open the whited-out directory", name))?;
                    mark_opaque(&dir, name)
                }
                Some(_) => Ok(()),
            }
        }
    }
}

/// `.wh..wh..opq` found at `rel`: its parent directory becomes opaque.
pub(super) fn opaque(
    root: &Root,
    mode: WhiteoutMode,
    layer: &LayerPaths,
    rel: &Path,
    name: &str,
) -> Result<(), LayerError> {
    let (dir_rel, _) = name::split(rel);
    match mode {
        WhiteoutMode::Apply => {
            let Some(dir) = open_existing(root, dir_rel, OFlag::O_RDONLY, name)? else {
                return Ok(());
            };
            let children = list_dir(&dir).map_err(io_err("list the opaque directory", name))?;
            for child in children {
                remove_lower(dir.as_raw_fd(), &child, &dir_rel.join(&child), layer)
                    .map_err(io_err("empty the opaque directory", name))?;
            }
            Ok(())
        }
        WhiteoutMode::Overlay => {
            root.parent_for(dir_rel, name)?;
            let dir = root
                .open_dir(dir_rel, OFlag::O_RDONLY)
                .map_err(io_err("open the opaque directory", name))?;
            mark_opaque(&dir, name)
        }
    }
}

/// Sets overlayfs' opaque xattr on a directory of dest (Overlay mode).
pub(super) fn mark_opaque(dir: &OwnedFd, name: &str) -> Result<(), LayerError> {
    let key = CString::new(OPAQUE_XATTR).expect("constant has no NUL");
    set_xattr(dir.as_raw_fd(), &key, b"y").map_err(io_err("mark the directory opaque", name))
}

/// Removes `base` in `dir` (at `path` in the layer) except what this layer created there.
fn remove_lower(dir: RawFd, base: &OsStr, path: &Path, layer: &LayerPaths) -> nix::Result<()> {
    if !layer.contains(path) {
        return remove_all(dir, base);
    }
    match lstat_at(dir, base)? {
        Some(st) if is_dir(&st) => {
            let sub = open_at(
                dir,
                base,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                Mode::empty(),
            )?;
            for child in list_dir(&sub)? {
                remove_lower(sub.as_raw_fd(), &child, &path.join(&child), layer)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn open_existing(
    root: &Root,
    rel: &Path,
    flags: OFlag,
    name: &str,
) -> Result<Option<OwnedFd>, LayerError> {
    match root.open_dir(rel, flags) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT | Errno::ENOTDIR) => Ok(None),
        Err(e) => Err(io_err("open the whiteout's directory", name)(e)),
    }
}
