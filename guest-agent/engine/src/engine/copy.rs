//! `cp`: tar streams into and out of a container's root filesystem, through `archive`
//! (every path resolved inside the root, on fds). A running container's root is its mounted
//! overlay (`bundle/rootfs`); a created or stopped container's is mounted for the copy and
//! unmounted after. The container's lock is held throughout, so no start, stop or remove
//! mounts or unmounts the root under the copy.
//!
//! Volumes and the /etc files are mounted in the container's own mount namespace only, so
//! a copy sees the image content and the container's changes, not what a volume holds.

use std::io::{Read, Write};
use std::path::Path;

use super::{Engine, EngineError};
use crate::archive::{self, ArchiveError, PathStat};
use crate::container::lifecycle::{self, Ctx, ErrorKind};
use crate::container::prepare::{bundle_dir, PrepareError};
use crate::container::record::ContainerRecord;
use crate::container::rootfs;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl From<EngineError> for CopyError {
    fn from(e: EngineError) -> Self {
        CopyError::Engine(Box::new(e))
    }
}

impl CopyError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CopyError::Engine(e) => e.kind(),
            CopyError::Archive(ArchiveError::NotFound { .. }) => ErrorKind::NotFound,
            CopyError::Archive(ArchiveError::NotADirectory { .. }) => ErrorKind::InvalidArgument,
            CopyError::Archive(_) => ErrorKind::Internal,
        }
    }
}

impl Engine {
    /// What `path` in the container is (`HEAD /containers/{id}/archive`).
    pub fn stat_path(&self, reference: &str, path: &Path) -> Result<PathStat, CopyError> {
        self.with_root(reference, |root| archive::stat(root, path))
    }

    /// `path` in the container as a tar rooted at its base name, written to `out`.
    pub fn copy_from(
        &self,
        reference: &str,
        path: &Path,
        out: impl Write,
    ) -> Result<PathStat, CopyError> {
        self.with_root(reference, |root| archive::get(root, path, out))
    }

    /// Extracts the tar `archive` into the directory `dir` of the container; an entry
    /// replacing a directory with a non-directory (or the reverse) is refused, as with the
    /// docker CLI.
    pub fn copy_to(
        &self,
        reference: &str,
        dir: &Path,
        archive: impl Read,
    ) -> Result<(), CopyError> {
        self.with_root(reference, |root| archive::put(root, dir, archive, true))
    }

    /// Runs `op` on the container's mounted root, holding the container's lock.
    fn with_root<T>(
        &self,
        reference: &str,
        op: impl FnOnce(&Path) -> Result<T, ArchiveError>,
    ) -> Result<T, CopyError> {
        let result = self.inner.locked(reference, |ctx, record| {
            let dir = ctx.containers.container_dir(&record.id);
            let root = bundle_dir(&dir).join("rootfs");
            if crate::container::prepare::is_mount_point(&root) {
                return Ok(op(&root));
            }
            mount_root(ctx, record, &dir, &root)?;
            let result = op(&root);
            rootfs::unmount(&root).map_err(PrepareError::from)?;
            Ok(result)
        });
        Ok(result??)
    }
}

/// Mounts the overlay root of a container that does not run.
fn mount_root(
    ctx: &Ctx,
    record: &ContainerRecord,
    dir: &Path,
    root: &Path,
) -> lifecycle::Result<()> {
    let image = ctx.images.resolve(&record.image_id)?;
    let lowers = ctx
        .layers
        .ensure(ctx.images, &image)
        .map_err(PrepareError::from)?;
    let dirs = rootfs::create_dirs(dir).map_err(PrepareError::from)?;
    std::fs::create_dir_all(root).map_err(|source| PrepareError::Io {
        action: "create",
        path: root.to_path_buf(),
        source,
    })?;
    rootfs::mount(&lowers, &dirs.upper, &dirs.work, root).map_err(PrepareError::from)?;
    Ok(())
}
