//! Unpacked layers shared between images, keyed by chain id, ready to be stacked by
//! overlayfs (`container::rootfs`).
//!
//! Layout under `<root>/layers/`:
//! `<chainid-hex>/diff` (one layer, whiteouts kept as overlayfs whiteouts),
//! `<chainid-hex>/layer.json` (see [`LayerRecord`]), `.tmp/` (unpacks in progress),
//! `.locks/<chainid-hex>` and `.lock` (see `lock`).
//!
//! A layer directory is keyed by chain id rather than diff_id because an overlay-mode diff
//! means something only on top of its parents; two images that share their bottom layers
//! share those directories and nothing is unpacked twice. A layer is unpacked into `.tmp`
//! and renamed into place only after its diff_id matched, so `layers/<hex>` is either
//! complete or absent, whatever fails or is killed on the way.

mod chain;
mod error;
mod lock;
mod prune;
mod record;
mod unpack;

#[cfg(test)]
pub(crate) mod test_images;
#[cfg(test)]
mod tests_root;

use std::fs::{self, DirBuilder};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use oci_spec::image::Digest;

pub use chain::chain_ids;
pub use error::{LayersError, Result};
pub use record::LayerRecord;

use crate::image::layer::Limits;
use crate::image::store::{ImageRecord, Store};
use error::io_err;

const TMP: &str = ".tmp";
const LOCKS: &str = ".locks";
const STORE_LOCK: &str = ".lock";

/// The unpacked layers under `<root>/layers`.
#[derive(Debug)]
pub struct LayerStore {
    dir: PathBuf,
    limits: Limits,
}

impl LayerStore {
    /// Opens (creating if needed) `<root>/layers` with the default unpack caps.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(root, Limits::default())
    }

    /// Opens `<root>/layers`, unpacking with the given caps. Leftovers of unpacks a killed
    /// engine did not finish are removed when no other user of the directory is active.
    pub fn open_with(root: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let dir = root.as_ref().join("layers");
        for d in [dir.join(TMP), dir.join(LOCKS)] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&d)
                .map_err(io_err("create", &d))?;
        }
        let store = LayerStore { dir, limits };
        if let Some(_idle) = lock::try_exclusive(&store.dir.join(STORE_LOCK))? {
            store.clear_tmp();
        }
        Ok(store)
    }

    /// `<root>/layers`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the layer with this chain id is (or would be) unpacked.
    pub fn diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layer_dir(chain_id).join("diff")
    }

    /// The record of an unpacked layer, `None` if it is not unpacked.
    pub fn get(&self, chain_id: &Digest) -> Result<Option<LayerRecord>> {
        let dir = self.layer_dir(chain_id);
        if !dir.join(record::RECORD).is_file() {
            return Ok(None);
        }
        LayerRecord::read(&dir).map(Some)
    }

    /// The chain ids of an image's layers, bottom first (what `remove_unused` takes).
    pub fn image_chain_ids(store: &Store, image: &ImageRecord) -> Result<Vec<Digest>> {
        let diff_ids: Vec<Digest> = store.layers(image)?.into_iter().map(|(_, d)| d).collect();
        chain_ids(&diff_ids)
    }

    /// Unpacks every layer of `image` that is not unpacked yet and returns the layers'
    /// diff directories top-most first, the order of overlayfs's `lowerdir`. An image
    /// without layers gives an empty list.
    pub fn ensure(&self, store: &Store, image: &ImageRecord) -> Result<Vec<PathBuf>> {
        let layers = store.layers(image)?;
        let diff_ids: Vec<Digest> = layers.iter().map(|(_, d)| d.clone()).collect();
        let chain = chain_ids(&diff_ids)?;
        // Held until the paths are returned: a concurrent prune waits instead of removing
        // a layer this call has just found present.
        let _shared = lock::lock(&self.dir.join(STORE_LOCK), lock::Kind::Shared)?;
        for (i, ((blob, diff_id), chain_id)) in layers.iter().zip(&chain).enumerate() {
            let job = unpack::Job {
                blob,
                diff_id,
                chain_id,
                parent: i.checked_sub(1).map(|p| &chain[p]),
                tmp: &self.dir.join(TMP),
                dest: &self.layer_dir(chain_id),
            };
            self.ensure_one(store, &job)?;
        }
        Ok(chain.iter().rev().map(|c| self.diff_dir(c)).collect())
    }

    fn ensure_one(&self, store: &Store, job: &unpack::Job<'_>) -> Result<()> {
        let present = || job.dest.join(record::RECORD).is_file();
        if present() {
            return Ok(());
        }
        let lock_path = self.dir.join(LOCKS).join(job.chain_id.digest());
        let _unpacking = lock::lock(&lock_path, lock::Kind::Exclusive)?;
        // Someone else may have unpacked it while this call waited for the lock.
        if present() {
            return Ok(());
        }
        let record = unpack::run(store, job, &self.limits)?;
        tracing::info!(chain_id = %record.chain_id, diff_id = %record.diff_id,
            size = record.size, "layer unpacked");
        Ok(())
    }

    fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        // chain ids are sha256 (see `chain_ids`): 64 hex digits, never a separator.
        self.dir.join(chain_id.digest())
    }

    /// Removes everything in `.tmp`; only called while no unpack can be running.
    fn clear_tmp(&self) {
        let tmp = self.dir.join(TMP);
        let Ok(entries) = fs::read_dir(&tmp) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let removed = match entry.file_type() {
                Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            if let Err(e) = removed {
                tracing::warn!(path = %path.display(), error = %e,
                    "cannot remove a leftover of an unfinished layer unpack");
            }
        }
    }
}
