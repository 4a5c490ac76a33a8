//! What an import will commit, decided entirely before the first blob moves: the staged
//! blobs (by archive path), the blobs the importer generated, and the image records.

use std::collections::HashSet;

use oci_spec::image::{Descriptor, Digest, DigestAlgorithm, ImageConfiguration, MediaType};

use crate::image::store::content::{self, ContentError};
use crate::image::store::ImageRecord;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("Layer {layer} is an uncompressed tar, so it must equal its diff_id {diff_id} (config {config})")]
    DiffId {
        layer: String,
        diff_id: String,
        config: String,
    },
    #[error("Unsupported digest algorithm in {digest} (only sha256 is supported)")]
    Algorithm { digest: String },
    #[error(transparent)]
    Content(#[from] ContentError),
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Staged files to commit, content before the documents that name it.
    pub blobs: Vec<(String, Descriptor)>,
    /// Documents the importer wrote itself (manifests for `docker save` images).
    pub generated: Vec<(Descriptor, Vec<u8>)>,
    pub images: Vec<ImageRecord>,
    seen: HashSet<Digest>,
}

impl Plan {
    pub fn add_blob(&mut self, path: String, desc: &Descriptor) {
        if self.seen.insert(desc.digest().clone()) {
            self.blobs.push((path, desc.clone()));
        }
    }

    pub fn add_generated(&mut self, desc: &Descriptor, bytes: Vec<u8>) {
        if self.seen.insert(desc.digest().clone()) {
            self.generated.push((desc.clone(), bytes));
        }
    }
}

/// Checks that a runnable image's config agrees with its layers: one diff_id per layer,
/// and an uncompressed layer's digest is its diff_id (compressed ones are checked when
/// the layer is unpacked).
pub fn check_image(
    config: &ImageConfiguration,
    config_digest: &Digest,
    layers: &[Descriptor],
) -> Result<(), PlanError> {
    let diff_ids = content::diff_ids(config, config_digest)?;
    if diff_ids.len() != layers.len() {
        return Err(ContentError::LayerCount {
            config: config_digest.to_string(),
            diff_ids: diff_ids.len(),
            layers: layers.len(),
        }
        .into());
    }
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        let uncompressed = match layer.media_type() {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => true,
            MediaType::Other(s) => s == "application/vnd.docker.image.rootfs.diff.tar",
            _ => false,
        };
        if uncompressed && *layer.digest() != diff_id {
            return Err(PlanError::DiffId {
                layer: layer.digest().to_string(),
                diff_id: diff_id.to_string(),
                config: config_digest.to_string(),
            });
        }
    }
    Ok(())
}

/// Refuses a descriptor whose digest the store cannot address, before its content is
/// compared with a sha256 and reported as "tampered".
pub fn sha256_only(desc: &Descriptor) -> Result<(), PlanError> {
    if *desc.digest().algorithm() != DigestAlgorithm::Sha256 {
        return Err(PlanError::Algorithm {
            digest: desc.digest().to_string(),
        });
    }
    Ok(())
}

/// `blobs/<algorithm>/<encoded>`, the OCI layout path of a blob.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.digest())
}
