//! Content-addressed blobs under `<root>/blobs/sha256/<hex>`.
//!
//! Every blob is written to a temporary file in `<root>/blobs/.tmp` (same filesystem),
//! hashed and counted while it streams, checked against its descriptor, fsync'd and only
//! then renamed into place, so a visible blob is always a verified one; a crash leaves at
//! most a stray temporary file.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, Digest, DigestAlgorithm};
use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

use super::media::{Kind, JSON_CAP};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("Unsupported digest algorithm in {digest} (only sha256 is supported)")]
    Algorithm { digest: String },
    #[error("Blob {digest} not found")]
    NotFound { digest: String },
    #[error("Blob {digest} has {size} bytes, over the {cap}-byte limit for {media_type}")]
    TooLarge {
        digest: String,
        size: u64,
        cap: u64,
        media_type: String,
    },
    #[error("Blob {expected} failed verification: content has digest {found}")]
    DigestMismatch { expected: String, found: String },
    #[error("Blob {digest} failed verification: expected {expected} bytes, found {found}")]
    SizeMismatch {
        digest: String,
        expected: u64,
        found: u64,
    },
    #[error("Content exceeds the {cap}-byte limit")]
    StreamTooLarge { cap: u64 },
    #[error("Cannot read blob content")]
    Read(#[source] io::Error),
    #[error("Cannot write blob storage at {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, BlobError>;

/// The blob directory of a store.
#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
    layer_cap: u64,
}

/// Content that has been written to a temporary file and hashed, but not yet committed.
#[derive(Debug)]
pub struct Pending {
    file: NamedTempFile,
    digest: Digest,
    size: u64,
}

impl Pending {
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// A fresh read handle on the content, from its start.
    pub fn reopen(&self) -> Result<File> {
        self.file.reopen().map_err(BlobError::Read)
    }
}

impl BlobStore {
    /// Opens (creating if needed) `<root>/blobs`.
    pub fn new(root: &Path, layer_cap: u64) -> Result<Self> {
        let dir = root.join("blobs");
        let tmp = dir.join(".tmp");
        for d in [dir.join("sha256"), tmp.clone()] {
            fs::create_dir_all(&d).map_err(|source| BlobError::Write { path: d, source })?;
        }
        remove_stale(&tmp);
        Ok(Self {
            dir,
            tmp,
            layer_cap,
        })
    }

    /// The directory for temporary files on the blobs' filesystem (also used by imports).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The size limit for a blob of this media type.
    pub fn cap_for(&self, desc: &Descriptor) -> u64 {
        if Kind::of(desc.media_type()).is_json() {
            JSON_CAP
        } else {
            self.layer_cap
        }
    }

    /// The largest blob of any kind this store accepts.
    pub fn max_cap(&self) -> u64 {
        self.layer_cap.max(JSON_CAP)
    }

    /// Where the blob lives (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> Result<PathBuf> {
        if *digest.algorithm() != DigestAlgorithm::Sha256 {
            return Err(BlobError::Algorithm {
                digest: digest.to_string(),
            });
        }
        // Digest parsing guarantees 64 lowercase hex characters for sha256: no separators.
        Ok(self.dir.join("sha256").join(digest.digest()))
    }

    pub fn has(&self, digest: &Digest) -> bool {
        self.path(digest).is_ok_and(|p| p.is_file())
    }

    pub fn size(&self, digest: &Digest) -> Result<u64> {
        let meta = fs::metadata(self.path(digest)?).map_err(|e| self.not_found(digest, e))?;
        Ok(meta.len())
    }

    pub fn open(&self, digest: &Digest) -> Result<File> {
        File::open(self.path(digest)?).map_err(|e| self.not_found(digest, e))
    }

    /// Reads a JSON document blob into memory, refusing one over [`JSON_CAP`].
    pub fn read_json(&self, digest: &Digest) -> Result<Vec<u8>> {
        let size = self.size(digest)?;
        if size > JSON_CAP {
            return Err(BlobError::TooLarge {
                digest: digest.to_string(),
                size,
                cap: JSON_CAP,
                media_type: "a JSON document".into(),
            });
        }
        let mut buf = Vec::with_capacity(size as usize);
        self.open(digest)?
            .take(JSON_CAP)
            .read_to_end(&mut buf)
            .map_err(BlobError::Read)?;
        Ok(buf)
    }

    /// Removes a blob; returns whether it existed.
    pub fn remove(&self, digest: &Digest) -> Result<bool> {
        let path = self.path(digest)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(BlobError::Write { path, source }),
        }
    }

    /// Streams `reader` into the store as the blob `desc` describes, verifying size and
    /// digest. Returns whether the blob is new (false: it was already present).
    pub fn put(&self, reader: impl Read, desc: &Descriptor) -> Result<bool> {
        self.check_cap(desc)?;
        // One byte past the declared size is enough to prove a size mismatch, so an
        // endless stream never gets further than that.
        let pending = self.stage(reader, desc.size().saturating_add(1))?;
        self.commit(pending, desc)
    }

    /// Writes `reader` to a temporary file while hashing it, refusing more than `cap` bytes.
    pub fn stage(&self, mut reader: impl Read, cap: u64) -> Result<Pending> {
        let write_err = |source| BlobError::Write {
            path: self.tmp.clone(),
            source,
        };
        let mut file = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(&self.tmp)
            .map_err(write_err)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::Read(e)),
            };
            size += n as u64;
            if size > cap {
                return Err(BlobError::StreamTooLarge { cap });
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(write_err)?;
        }
        let digest = sha256_digest(&hex::encode(hasher.finalize()));
        Ok(Pending { file, digest, size })
    }

    /// Moves verified content into place as the blob `desc` describes. Returns whether
    /// the blob is new; when it already exists the pending copy is simply dropped.
    pub fn commit(&self, pending: Pending, desc: &Descriptor) -> Result<bool> {
        verify(&pending, desc)?;
        self.check_cap(desc)?;
        let path = self.path(desc.digest())?;
        if path.is_file() {
            return Ok(false);
        }
        let write_err = |source| BlobError::Write {
            path: path.clone(),
            source,
        };
        let file = pending.file.as_file();
        // Read-only: nothing should ever modify content-addressed data in place.
        file.set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(write_err)?;
        file.sync_all().map_err(write_err)?;
        pending
            .file
            .persist(&path)
            .map_err(|e| write_err(e.error))?;
        // The rename is durable only once the directory entry is.
        File::open(path.parent().unwrap_or(&self.dir))
            .and_then(|d| d.sync_all())
            .map_err(write_err)?;
        Ok(true)
    }

    /// Refuses a descriptor whose declared size is over the cap for its kind.
    pub fn check_cap(&self, desc: &Descriptor) -> Result<()> {
        let cap = self.cap_for(desc);
        if desc.size() > cap {
            return Err(BlobError::TooLarge {
                digest: desc.digest().to_string(),
                size: desc.size(),
                cap,
                media_type: desc.media_type().to_string(),
            });
        }
        Ok(())
    }

    fn not_found(&self, digest: &Digest, e: io::Error) -> BlobError {
        if e.kind() == io::ErrorKind::NotFound {
            BlobError::NotFound {
                digest: digest.to_string(),
            }
        } else {
            BlobError::Read(e)
        }
    }
}

/// Temporary files a killed engine left behind. Only old ones go: a file still being
/// written (an import streaming a large archive) is recent.
fn remove_stale(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|a| a > STALE_AFTER) {
            if let Err(e) = fs::remove_file(entry.path()) {
                tracing::warn!(path = %entry.path().display(), error = %e,
                    "cannot remove a stale temporary blob");
            }
        }
    }
}

const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Checks hashed content against a descriptor.
pub fn verify(pending: &Pending, desc: &Descriptor) -> Result<()> {
    if pending.digest != *desc.digest() {
        if *desc.digest().algorithm() != DigestAlgorithm::Sha256 {
            return Err(BlobError::Algorithm {
                digest: desc.digest().to_string(),
            });
        }
        return Err(BlobError::DigestMismatch {
            expected: desc.digest().to_string(),
            found: pending.digest.to_string(),
        });
    }
    if pending.size != desc.size() {
        return Err(BlobError::SizeMismatch {
            digest: desc.digest().to_string(),
            expected: desc.size(),
            found: pending.size,
        });
    }
    Ok(())
}

/// The sha256 digest of in-memory bytes.
pub fn digest_of(bytes: &[u8]) -> Digest {
    sha256_digest(&hex::encode(Sha256::digest(bytes)))
}

fn sha256_digest(hex: &str) -> Digest {
    // A freshly encoded sha256 is always 64 lowercase hex digits, which Digest accepts.
    Digest::try_from(format!("sha256:{hex}")).expect("sha256 hex is a valid digest")
}
