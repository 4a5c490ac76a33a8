//! Disk usage as `docker images` and `docker system df` report it. An image's size is
//! counted as docker's containerd image store does: its content (manifest, config and
//! compressed layer blobs) plus the layers unpacked for it so far. Each part is named, so
//! a caller can tell what images share.

use std::collections::BTreeSet;

use super::Engine;
use crate::image::layers::{LayerStore, LayersError};
use crate::image::store::{ImageRecord, StoreError};
use crate::volume::{tree_size, VolumeError};

/// One piece of an image on disk: a blob (`sha256:...`) or an unpacked layer
/// (`layer:sha256:<chain id>`), and its bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImagePart {
    pub key: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Layers(#[from] LayersError),
}

impl Engine {
    /// The blobs and unpacked layers `image` occupies, each once.
    pub fn image_parts(&self, image: &ImageRecord) -> Result<Vec<ImagePart>, UsageError> {
        let store = &self.inner.images;
        let manifest = store.manifest(image)?;
        let mut blobs: BTreeSet<(String, u64)> = BTreeSet::new();
        blobs.insert((image.target.digest().to_string(), image.target.size()));
        blobs.insert((image.manifest.digest().to_string(), image.manifest.size()));
        for desc in manifest.layers().iter().chain([manifest.config()]) {
            blobs.insert((desc.digest().to_string(), desc.size()));
        }
        let mut parts: Vec<ImagePart> = blobs
            .into_iter()
            .map(|(key, size)| ImagePart { key, size })
            .collect();
        for chain_id in LayerStore::image_chain_ids(store, image)? {
            if let Some(layer) = self.inner.layers.get(&chain_id)? {
                parts.push(ImagePart {
                    key: format!("layer:{chain_id}"),
                    size: layer.disk_size,
                });
            }
        }
        Ok(parts)
    }

    /// Bytes `image` occupies (see the module's comment).
    pub fn image_size(&self, image: &ImageRecord) -> Result<u64, UsageError> {
        Ok(self.image_parts(image)?.iter().map(|p| p.size).sum())
    }

    /// Bytes of a container's writable layer (docker's `SizeRw`); 0 when it has none yet.
    pub fn container_size_rw(&self, id: &str) -> Result<u64, VolumeError> {
        let upper = self.inner.containers.container_dir(id).join("upper");
        if !upper.is_dir() {
            return Ok(0);
        }
        tree_size(&upper)
    }
}
