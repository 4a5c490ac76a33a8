//! `rmi`: removing an image, refused while a container uses it (docker's rules: a stopped
//! container's image goes only with `force`; a running container's never). Removing one of
//! several names of an image only untags it. Deleting an image collects the blobs and
//! unpacked layers no remaining image (nor a container's image) needs (`image::gc`).
//! `prune_images`: docker's `image prune` (dangling images, or with `all` every image no
//! container uses), then a collection.

use std::collections::HashSet;

use oci_spec::image::Digest;

use super::{Engine, EngineError};
use crate::container::lifecycle::{self, ErrorKind, LifecycleError};
use crate::image::gc::{self, GcError, GcReport};
use crate::image::reference::ImageRef;
use crate::image::store::StoreError;

/// What a removal did, in docker's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageDeleted {
    Untagged(String),
    Deleted(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ImageRemoveError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("conflict: unable to delete {image} (must be forced) - image is being used by container {container}")]
    InUse { image: String, container: String },
    #[error(transparent)]
    Gc(#[from] GcError),
    #[error("conflict: unable to delete {image} (cannot be forced) - image is being used by running container {container}")]
    InUseRunning { image: String, container: String },
}

impl From<EngineError> for ImageRemoveError {
    fn from(e: EngineError) -> Self {
        ImageRemoveError::Engine(Box::new(e))
    }
}

impl ImageRemoveError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImageRemoveError::Engine(e) => e.kind(),
            ImageRemoveError::Gc(_) => ErrorKind::Internal,
            ImageRemoveError::InUse { .. } | ImageRemoveError::InUseRunning { .. } => {
                ErrorKind::Conflict
            }
        }
    }
}

impl From<StoreError> for ImageRemoveError {
    fn from(e: StoreError) -> Self {
        EngineError::from(LifecycleError::from(e)).into()
    }
}

impl Engine {
    /// Removes the image `reference` (name, ID or ID prefix), or only that name when the
    /// image has others.
    pub fn remove_image(
        &self,
        reference: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleted>, ImageRemoveError> {
        let images = &self.inner.images;
        let guard = images.import_guard();
        let image = images.resolve(reference)?;
        let id: &str = image.config.as_ref();
        let name = ImageRef::parse(reference)
            .ok()
            .map(|r| r.full())
            .filter(|n| image.names.contains(n));
        if let Some(name) = name.filter(|_| image.names.len() > 1) {
            images.untag(&name)?;
            return Ok(vec![ImageDeleted::Untagged(name)]);
        }
        for record in self.inner.containers.list() {
            if record.image_id != id {
                continue;
            }
            let Some(status) = self.inner.refresh(&record) else {
                continue;
            };
            let (image, container) = (reference.to_string(), record.id.clone());
            if lifecycle::is_active(status.status) {
                return Err(ImageRemoveError::InUseRunning { image, container });
            }
            if !force {
                return Err(ImageRemoveError::InUse { image, container });
            }
        }
        let removed = images.remove_image(id)?;
        let mut out: Vec<ImageDeleted> = removed
            .names
            .into_iter()
            .map(ImageDeleted::Untagged)
            .collect();
        out.push(ImageDeleted::Deleted(id.to_string()));
        // The image is gone whatever the collection does; a failed one is retried by the
        // next removal or prune.
        if let Err(e) = gc::collect(images, &self.inner.layers, &self.images_in_use(), &guard) {
            tracing::warn!(error = %e, "cannot collect the data of a removed image");
        }
        Ok(out)
    }

    /// Removes dangling (untagged) images, or with `all` every image, that no container
    /// uses; then collects their blobs and layers.
    pub fn prune_images(&self, all: bool) -> Result<ImagesPruned, ImageRemoveError> {
        let images = &self.inner.images;
        let guard = images.import_guard();
        let in_use = self.images_in_use();
        let used: HashSet<&str> = in_use.iter().map(|d| d.as_ref()).collect();
        let mut deleted = Vec::new();
        for record in images.images()? {
            if !(all || record.names.is_empty()) || used.contains(record.config.as_ref()) {
                continue;
            }
            // By target digest: several records may share one image ID.
            let removed = images.remove_image(record.target.digest().as_ref())?;
            deleted.extend(removed.names.into_iter().map(ImageDeleted::Untagged));
            deleted.push(ImageDeleted::Deleted(removed.config.to_string()));
        }
        let collected = gc::collect(images, &self.inner.layers, &in_use, &guard)?;
        Ok(ImagesPruned { deleted, collected })
    }

    /// The image IDs of every container, whatever its state.
    fn images_in_use(&self) -> Vec<Digest> {
        self.inner
            .containers
            .list()
            .into_iter()
            .filter_map(|r| Digest::try_from(r.image_id.as_str()).ok())
            .collect()
    }
}

/// What `prune_images` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagesPruned {
    pub deleted: Vec<ImageDeleted>,
    pub collected: GcReport,
}
