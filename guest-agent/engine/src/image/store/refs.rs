//! The image table: which images the store holds and the names that point at them.
//!
//! Everything lives in one JSON file, `<root>/images.json`, rewritten through a temporary
//! file, fsync and rename: an update (an import tagging ten images, a retag moving a
//! name) is all or nothing, and a SIGKILL leaves either the old or the new table.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use oci_spec::image::{Descriptor, Digest};
use serde::{Deserialize, Serialize};

use super::media::JSON_CAP;

#[derive(Debug, thiserror::Error)]
pub enum RefError {
    #[error("Cannot read the image table {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("The image table {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("The image table {path} is over {JSON_CAP} bytes")]
    TooLarge { path: PathBuf },
    #[error("Cannot write the image table {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, RefError>;

/// One image the store holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// What the names point at: an image manifest, or an index for multi-platform images.
    pub target: Descriptor,
    /// The manifest that runs on this host: `target` itself, or the index entry chosen
    /// for this platform.
    pub manifest: Descriptor,
    /// The config digest, which is the image ID (as `docker images` shows it).
    pub config: Digest,
    /// Normalised full references (`docker.io/library/busybox:latest`); empty for a
    /// dangling image that only its ID reaches.
    #[serde(default)]
    pub names: Vec<String>,
}

impl ImageRecord {
    pub fn id(&self) -> &Digest {
        &self.config
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Table {
    version: u32,
    images: Vec<ImageRecord>,
}

const VERSION: u32 = 1;

/// The persistent image table.
#[derive(Debug)]
pub struct RefStore {
    path: PathBuf,
    // Serialises read-modify-write cycles within the engine process, the table's only writer.
    lock: Mutex<()>,
}

impl RefStore {
    pub fn open(root: &Path) -> Self {
        Self {
            path: root.join("images.json"),
            lock: Mutex::new(()),
        }
    }

    /// A snapshot of all images.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.load()?.images)
    }

    /// Runs `f` on the image list and saves the result atomically; nothing is written
    /// when `f` fails.
    pub fn update<T, E: From<RefError>>(
        &self,
        f: impl FnOnce(&mut Vec<ImageRecord>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = self.load()?;
        let out = f(&mut table.images)?;
        table.version = VERSION;
        self.save(&table)?;
        Ok(out)
    }

    fn load(&self) -> Result<Table> {
        let read_err = |source| RefError::Read {
            path: self.path.clone(),
            source,
        };
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Table::default()),
            Err(e) => return Err(read_err(e)),
        };
        if bytes.len() as u64 > JSON_CAP * 16 {
            return Err(RefError::TooLarge {
                path: self.path.clone(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|source| RefError::Corrupt {
            path: self.path.clone(),
            source,
        })
    }

    fn save(&self, table: &Table) -> Result<()> {
        let write_err = |source| RefError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".images.json-")
            .tempfile_in(dir)
            .map_err(write_err)?;
        let json = serde_json::to_vec_pretty(table).map_err(io::Error::other);
        tmp.write_all(&json.map_err(write_err)?)
            .map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(write_err)
    }
}

/// Adds `image` to the list: names move to it from whichever image held them (that image
/// stays, possibly dangling), and an image already present gains the new names.
pub fn insert(images: &mut Vec<ImageRecord>, image: ImageRecord) -> ImageRecord {
    for other in images.iter_mut() {
        if other.target.digest() != image.target.digest() {
            other.names.retain(|n| !image.names.contains(n));
        }
    }
    if let Some(existing) = images
        .iter_mut()
        .find(|r| r.target.digest() == image.target.digest())
    {
        for name in image.names {
            if !existing.names.contains(&name) {
                existing.names.push(name);
            }
        }
        return existing.clone();
    }
    images.push(image.clone());
    image
}
