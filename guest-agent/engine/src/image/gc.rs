//! Garbage collection: removing the blobs no image record reaches and the unpacked layers
//! no remaining image needs (`rmi`, `image prune`).
//!
//! What stays: every blob a record of the image table reaches (its target, and through an
//! index every manifest present, each manifest's config and layers) and every layer in a
//! record's chain; for the image IDs containers use (which `rmi -f` may have taken out of
//! the table) the config blob and the layers its diff_ids name. Everything else under
//! `blobs/sha256` and `layers/` goes.
//!
//! The caller holds `Store::import_guard` (the `_import` argument): an import commits its
//! blobs before it writes its records, and must not see them collected in between.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::MutexGuard;

use oci_spec::image::{Descriptor, Digest};

use crate::image::layers::{chain_ids, LayerStore, LayersError};
use crate::image::store::content::{self, ContentError};
use crate::image::store::media::Kind;
use crate::image::store::{BlobError, ImageRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error("Cannot collect unused image data: {op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Cannot collect unused image data: image {image} cannot be read")]
    Record {
        image: String,
        #[source]
        source: Box<GcError>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Layers(#[from] LayersError),
}

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub blobs_removed: Vec<Digest>,
    pub layers_removed: Vec<Digest>,
    /// Blob sizes plus the unpacked layers' disk usage.
    pub bytes_freed: u64,
}

/// Nested indexes deeper than this are not followed (their blobs are kept anyway: the
/// walk only adds).
const MAX_INDEX_DEPTH: usize = 4;

/// Removes what no record of `store` and no image ID in `in_use_images` needs.
pub fn collect(
    store: &Store,
    layers: &LayerStore,
    in_use_images: &[Digest],
    _import: &MutexGuard<'_, ()>,
) -> Result<GcReport, GcError> {
    let mut keep = Keep::default();
    for record in store.images()? {
        keep.record(store, &record)
            .map_err(|source| GcError::Record {
                image: record.config.to_string(),
                source: Box::new(source),
            })?;
    }
    for id in in_use_images {
        keep.config(store, id)?;
    }
    let mut report = GcReport::default();
    remove_blobs(store, &keep.blobs, &mut report)?;
    let sizes: HashMap<Digest, u64> = layers
        .list()?
        .into_iter()
        .map(|r| (r.chain_id, r.disk_size))
        .collect();
    for chain_id in layers.remove_unused(&keep.chains)? {
        report.bytes_freed += sizes.get(&chain_id).copied().unwrap_or(0);
        report.layers_removed.push(chain_id);
    }
    if !report.blobs_removed.is_empty() || !report.layers_removed.is_empty() {
        tracing::info!(
            blobs = report.blobs_removed.len(),
            layers = report.layers_removed.len(),
            bytes = report.bytes_freed,
            "unused image data collected"
        );
    }
    Ok(report)
}

#[derive(Default)]
struct Keep {
    blobs: HashSet<String>,
    chains: Vec<Digest>,
}

impl Keep {
    fn record(&mut self, store: &Store, record: &ImageRecord) -> Result<(), GcError> {
        self.descriptor(store, &record.target, 0)?;
        self.descriptor(store, &record.manifest, 0)?;
        self.blobs.insert(record.config.to_string());
        self.chains
            .extend(LayerStore::image_chain_ids(store, record)?);
        Ok(())
    }

    /// Keeps `desc` and what it reaches: an index's manifests (those present: an image
    /// pulled for one platform has only its own), a manifest's config and layers.
    fn descriptor(
        &mut self,
        store: &Store,
        desc: &Descriptor,
        depth: usize,
    ) -> Result<(), GcError> {
        if !self.blobs.insert(desc.digest().to_string()) && depth > 0 {
            return Ok(());
        }
        match Kind::of(desc.media_type()) {
            Kind::Index if depth < MAX_INDEX_DEPTH => {
                let bytes = store.blobs().read_json(desc.digest())?;
                let index = content::parse_index(&bytes, || desc.digest().to_string())?;
                for child in index.manifests() {
                    if store.blobs().has(child.digest()) {
                        self.descriptor(store, child, depth + 1)?;
                    }
                }
            }
            Kind::Manifest => {
                let manifest = content::manifest(store.blobs(), desc)?;
                self.blobs.insert(manifest.config().digest().to_string());
                for layer in manifest.layers() {
                    self.blobs.insert(layer.digest().to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// An image ID a container uses: its config and the layers it names, if the config is
    /// still there.
    fn config(&mut self, store: &Store, id: &Digest) -> Result<(), GcError> {
        self.blobs.insert(id.to_string());
        if !store.blobs().has(id) {
            return Ok(());
        }
        let config = content::config(store.blobs(), id)?;
        let diff_ids = content::diff_ids(&config, id)?;
        self.chains.extend(chain_ids(&diff_ids)?);
        Ok(())
    }
}

fn remove_blobs(
    store: &Store,
    keep: &HashSet<String>,
    report: &mut GcReport,
) -> Result<(), GcError> {
    let dir = store.root().join("blobs").join("sha256");
    let io_err = |op, path: &PathBuf| {
        let path = path.clone();
        move |source| GcError::Io { op, path, source }
    };
    for entry in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
        let entry = entry.map_err(io_err("read", &dir))?;
        let Some(digest) = entry
            .file_name()
            .to_str()
            .and_then(|hex| Digest::try_from(format!("sha256:{hex}")).ok())
        else {
            continue;
        };
        if keep.contains(digest.as_ref()) {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if store.blobs().remove(&digest)? {
            report.bytes_freed += size;
            report.blobs_removed.push(digest);
        }
    }
    Ok(())
}
