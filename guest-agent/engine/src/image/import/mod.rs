//! Importing images from an OCI image layout (directory or tar) or a `docker save` tar.
//!
//! An import runs in three phases: stage (every file of a tar, or the files a layout
//! directory's documents name, is hashed into temporary files on the store's filesystem),
//! plan (documents are verified against their digests, then parsed; nothing is
//! committed), commit (every planned blob is verified, then renamed into the store, then
//! all names are written in one atomic table update). Any error before the end removes
//! the blobs this import added and tags nothing.

mod archive;
mod docker;
mod names;
mod oci;
mod plan;
mod staging;
mod txn;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_archives;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use archive::ArchiveError;
pub use docker::DockerError;
pub use names::BadName;
pub use oci::LayoutError;
pub use plan::PlanError;
pub use staging::StagingError;

use crate::image::reference::{ImageRef, ReferenceError};
use crate::image::store::{BlobError, ImageRecord, Store, StoreError};
use plan::Plan;
use staging::Staging;
use txn::Txn;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("Cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Not an image archive: no oci-layout and index.json, and no manifest.json")]
    Unrecognised,
    #[error("The archive holds no container image")]
    NoImages,
    #[error("Invalid base name {name:?}")]
    BaseName {
        name: String,
        #[source]
        source: ReferenceError,
    },
    #[error("Blob {digest} is missing from the image")]
    Missing { digest: String },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T> = std::result::Result<T, ImportError>;

/// Choices for an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Repository for images that an OCI layout names only by a bare tag
    /// (`org.opencontainers.image.ref.name: "1.0"`), or not at all when it holds one image.
    /// Without it such images are imported untagged, reachable by ID.
    pub base_name: Option<String>,
}

/// Imports an OCI layout directory, or a file holding an OCI layout tar or a
/// `docker save` tar (possibly gzip or zstd compressed).
pub fn import_path(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<Vec<ImageRecord>> {
    let open_err = |source| ImportError::Open {
        path: path.to_path_buf(),
        source,
    };
    if path.metadata().map_err(open_err)?.is_dir() {
        let _guard = store.import_guard();
        let mut staging = Staging::for_dir(store.blobs(), path)?;
        return import_staged(store, &mut staging, options);
    }
    import_tar(store, File::open(path).map_err(open_err)?, options)
}

/// Imports an image tar from a stream (the body of `docker load`).
pub fn import_tar(
    store: &Store,
    reader: impl Read,
    options: &ImportOptions,
) -> Result<Vec<ImageRecord>> {
    let _guard = store.import_guard();
    let mut staging = Staging::new(store.blobs());
    archive::stage_tar(reader, &mut staging)?;
    import_staged(store, &mut staging, options)
}

fn import_staged(
    store: &Store,
    staging: &mut Staging<'_>,
    options: &ImportOptions,
) -> Result<Vec<ImageRecord>> {
    let base = match &options.base_name {
        Some(name) => Some(
            ImageRef::parse(name).map_err(|source| ImportError::BaseName {
                name: name.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let mut plan = Plan::default();
    let has_docker_manifest = staging.stat("manifest.json")?.is_some();
    if staging.stat("oci-layout")?.is_some() && staging.stat("index.json")?.is_some() {
        oci::plan(staging, base.as_ref(), &mut plan)?;
        if has_docker_manifest && plan.images.iter().any(|i| i.names.is_empty()) {
            let names = docker::names_by_config(staging)?;
            for image in plan.images.iter_mut().filter(|i| i.names.is_empty()) {
                image.names = names.get(&image.config).cloned().unwrap_or_default();
            }
        }
    } else if has_docker_manifest {
        docker::plan(staging, &mut plan)?;
    } else {
        return Err(ImportError::Unrecognised);
    }
    if plan.images.is_empty() {
        return Err(ImportError::NoImages);
    }
    commit(store, staging, plan)
}

fn commit(store: &Store, staging: &mut Staging<'_>, plan: Plan) -> Result<Vec<ImageRecord>> {
    let blobs = store.blobs();
    // Everything is checked before the first rename, so a bad blob anywhere in the
    // archive leaves the store exactly as it was.
    for (path, desc) in &plan.blobs {
        blobs.check_cap(desc)?;
        if !staging.verify(path, desc)? && !blobs.has(desc.digest()) {
            return Err(ImportError::Missing {
                digest: desc.digest().to_string(),
            });
        }
    }
    let mut txn = Txn::new(blobs);
    for (path, desc) in &plan.blobs {
        if staging.commit(path, desc)? {
            txn.added(desc.digest());
        }
    }
    for (desc, bytes) in &plan.generated {
        if blobs.put(&bytes[..], desc)? {
            txn.added(desc.digest());
        }
    }
    let mut images = store.add_images(plan.images)?;
    txn.finish();
    // index.json may list one image twice (once per name); report it once, with the
    // names of the last, merged record.
    let mut seen = std::collections::HashSet::new();
    images.reverse();
    images.retain(|i| seen.insert(i.target.digest().clone()));
    images.reverse();
    for image in &images {
        tracing::info!(id = %image.config, target = %image.target.digest(), names = ?image.names,
            "image imported");
    }
    Ok(images)
}
