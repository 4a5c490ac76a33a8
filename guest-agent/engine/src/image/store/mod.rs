//! The image content store: verified blobs plus the table of images and their names.
//!
//! Layout under the root (default `/var/lib/berth`):
//! `blobs/sha256/<hex>` (content, read-only files), `blobs/.tmp/` (uncommitted writes),
//! `images.json` (the image table, see [`refs`]).

pub mod blobs;
pub mod content;
pub mod media;
pub mod platform;
pub mod refs;
pub mod resolve;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use oci_spec::image::{Descriptor, Digest, ImageConfiguration, ImageManifest};

pub use blobs::{BlobError, BlobStore, Pending};
pub use content::ContentError;
pub use refs::{ImageRecord, RefError};
pub use resolve::ResolveError;

use crate::image::reference::{ImageRef, ReferenceError};

pub const DEFAULT_ROOT: &str = "/var/lib/berth";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Refs(#[from] RefError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("Cannot tag with a digest reference {name}")]
    TagWithDigest { name: String },
    #[error("No such image: {name}")]
    NoSuchName { name: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Tunables of a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Largest accepted layer (or other non-JSON blob), in bytes.
    pub layer_cap: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            layer_cap: media::DEFAULT_LAYER_CAP,
        }
    }
}

/// An image store rooted at a directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    blobs: BlobStore,
    refs: refs::RefStore,
    // Imports roll back the blobs they added; holding this while importing keeps one
    // import from deleting a blob another import has just decided to reuse.
    import_lock: Mutex<()>,
}

impl Store {
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(root, StoreOptions::default())
    }

    pub fn open_with(root: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        let blobs = BlobStore::new(&root, options.layer_cap)?;
        Ok(Self {
            refs: refs::RefStore::open(&root),
            blobs,
            root,
            import_lock: Mutex::new(()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// All images, named and dangling.
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.refs.list()?)
    }

    /// Finds an image by full or short name, `name@digest`, ID or unambiguous ID prefix.
    pub fn resolve(&self, input: &str) -> Result<ImageRecord> {
        let images = self.refs.list()?;
        let i = resolve::find(&images, input)?;
        Ok(images[i].clone())
    }

    /// Adds the name `new_name` to the image `source` designates (moving it from any
    /// other image). Returns the normalised name.
    pub fn tag(&self, source: &str, new_name: &str) -> Result<String> {
        let name = ImageRef::parse(new_name)?;
        if name.digest().is_some() {
            return Err(StoreError::TagWithDigest {
                name: new_name.to_owned(),
            });
        }
        let full = name.full();
        self.refs.update(|images| {
            let i = resolve::find(images, source)?;
            let mut record = images[i].clone();
            record.names = vec![full.clone()];
            refs::insert(images, record);
            Ok::<_, StoreError>(())
        })?;
        Ok(full)
    }

    /// Removes a name; the image stays (dangling if that was its last name) and is
    /// returned.
    pub fn untag(&self, name: &str) -> Result<ImageRecord> {
        let full = ImageRef::parse(name)?.full();
        self.refs.update(|images| {
            let record = images
                .iter_mut()
                .find(|r| r.names.contains(&full))
                .ok_or_else(|| StoreError::NoSuchName {
                    name: name.to_owned(),
                })?;
            record.names.retain(|n| *n != full);
            Ok(record.clone())
        })
    }

    /// Forgets an image and all its names. Its blobs stay (other images may share them).
    pub fn remove_image(&self, input: &str) -> Result<ImageRecord> {
        self.refs.update(|images| {
            let i = resolve::find(images, input)?;
            Ok::<_, StoreError>(images.remove(i))
        })
    }

    /// Records imported images in one atomic update; see [`refs::insert`].
    pub fn add_images(&self, new: Vec<ImageRecord>) -> Result<Vec<ImageRecord>> {
        self.refs.update(|images| {
            Ok::<_, StoreError>(new.into_iter().map(|r| refs::insert(images, r)).collect())
        })
    }

    /// Taken by imports for their whole duration.
    pub fn import_guard(&self) -> MutexGuard<'_, ()> {
        self.import_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The platform manifest of an image.
    pub fn manifest(&self, image: &ImageRecord) -> Result<ImageManifest> {
        Ok(content::manifest(&self.blobs, &image.manifest)?)
    }

    /// The image configuration (Entrypoint, Env, diff_ids, ...).
    pub fn config(&self, image: &ImageRecord) -> Result<ImageConfiguration> {
        Ok(content::config(&self.blobs, &image.config)?)
    }

    /// The image's layers, bottom first, each with the diff_id (digest of the
    /// uncompressed tar) its config declares; the layer unpacker verifies against it.
    pub fn layers(&self, image: &ImageRecord) -> Result<Vec<(Descriptor, Digest)>> {
        let manifest = self.manifest(image)?;
        let config = self.config(image)?;
        Ok(content::pair_layers(&manifest, &config, &image.config)?)
    }
}
