//! `rmi`: removing an image, refused while a container uses it (docker's rules: a stopped
//! container's image goes only with `force`; a running container's never). Removing one of
//! several names of an image only untags it. The image's blobs and unpacked layers stay
//! (other images share them).

use super::{Engine, EngineError};
use crate::container::lifecycle::{self, ErrorKind, LifecycleError};
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
        let _guard = images.import_guard();
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
        Ok(out)
    }
}
