//! Blob downloads in progress, under `<root>/ingest/`: `<hex>.partial` holds the first
//! bytes of the blob with that digest, as far as a download got. A download that the
//! engine's own death interrupted (SIGKILL, a crash, the VM going away) leaves its
//! partial behind and the next pull of that blob continues from its end with a Range
//! request; a transfer that failed on the network keeps it too. A pull the client
//! cancelled removes its partials, and a partial untouched for a day is removed by the
//! next pull. The content is hashed as a whole (the kept prefix is read again on
//! resume) and verified before it is renamed into the blob store, so a corrupt partial
//! is caught by the digest check and never committed.
//!
//! A partial is flock'ed by the download writing it; a second pull of the same blob at
//! the same time writes a private `<hex>.<random>.tmp` instead, which never outlives its
//! download (and which the next pull removes if the engine died).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use oci_spec::image::{Descriptor, Digest};
use sha2::{Digest as _, Sha256};

use crate::image::store::{BlobError, BlobStore};

/// A partial nobody resumed for this long is abandoned.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One blob being downloaded into `<root>/ingest`.
pub struct Ingest {
    file: Flock<File>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    want: Descriptor,
    /// Whether the file stays when this is dropped (a resumable interruption).
    keep: bool,
    /// Bytes that were already there when it was opened.
    resumed_from: u64,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("resumed_from", &self.resumed_from)
            .finish()
    }
}

/// The ingest directory of a store root.
pub fn dir(root: &Path) -> PathBuf {
    root.join("ingest")
}

fn write_err(path: &Path) -> impl Fn(io::Error) -> BlobError + '_ {
    move |source| BlobError::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl Ingest {
    /// Opens the partial download of `want` (created empty when there is none) and
    /// hashes what it holds; when another download holds it, a private file instead.
    pub fn open(root: &Path, want: &Descriptor) -> Result<Ingest, BlobError> {
        let dir = dir(root);
        fs::create_dir_all(&dir).map_err(write_err(&dir))?;
        let hex = want.digest().digest().to_string();
        let path = dir.join(format!("{hex}.partial"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(write_err(&path))?;
        let (file, path) = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(file) => (file, path),
            Err(_) => {
                let (file, path) = tempfile::Builder::new()
                    .prefix(&format!("{hex}."))
                    .suffix(".tmp")
                    .tempfile_in(&dir)
                    .map_err(write_err(&dir))?
                    .keep()
                    .map_err(|e| write_err(&dir)(e.error))?;
                let file = Flock::lock(file, FlockArg::LockExclusiveNonblock)
                    .map_err(|(_, e)| write_err(&path)(e.into()))?;
                (file, path)
            }
        };
        let mut ingest = Ingest {
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
            want: want.clone(),
            keep: false,
            resumed_from: 0,
        };
        ingest.rehash()?;
        Ok(ingest)
    }

    /// Hashes what the file holds; one longer than the blob starts over.
    fn rehash(&mut self) -> Result<(), BlobError> {
        let len = self.file.metadata().map_err(write_err(&self.path))?.len();
        if len > self.want.size() {
            return self.restart();
        }
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(BlobError::Read)?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::Read(e)),
            };
            self.hasher.update(&buf[..n]);
            size += n as u64;
        }
        self.size = size;
        self.resumed_from = size;
        Ok(())
    }

    /// Bytes held: where the download continues.
    pub fn offset(&self) -> u64 {
        self.size
    }

    /// Bytes that were there when the download began (0: a fresh download).
    pub fn resumed_from(&self) -> u64 {
        self.resumed_from
    }

    /// Appends bytes, refusing any past the blob's declared size.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        let size = self.size + bytes.len() as u64;
        if size > self.want.size() {
            return Err(BlobError::StreamTooLarge {
                cap: self.want.size(),
            });
        }
        self.file.write_all(bytes).map_err(write_err(&self.path))?;
        self.hasher.update(bytes);
        self.size = size;
        Ok(())
    }

    /// Throws away what is held (the registry answered a Range request with the whole
    /// blob).
    pub fn restart(&mut self) -> Result<(), BlobError> {
        self.file.set_len(0).map_err(write_err(&self.path))?;
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(write_err(&self.path))?;
        self.hasher = Sha256::new();
        self.size = 0;
        Ok(())
    }

    /// Leaves the partial for a later pull (the transfer broke on the network). A
    /// private file goes anyway.
    pub fn keep(mut self) {
        self.keep = self.path.extension().is_some_and(|e| e == "partial");
    }

    /// Verifies the whole content against the descriptor and moves it into the store.
    /// Returns whether the blob is new; on a mismatch the file is removed.
    pub fn finish(mut self, blobs: &BlobStore) -> Result<bool, BlobError> {
        let found = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        if found != self.want.digest().to_string() {
            return Err(BlobError::DigestMismatch {
                expected: self.want.digest().to_string(),
                found,
            });
        }
        if self.size != self.want.size() {
            return Err(BlobError::SizeMismatch {
                digest: self.want.digest().to_string(),
                expected: self.want.size(),
                found: self.size,
            });
        }
        blobs.check_cap(&self.want)?;
        let dest = blobs.path(self.want.digest())?;
        if dest.is_file() {
            return Ok(false);
        }
        let err = write_err(&dest);
        // Read-only: nothing should ever modify content-addressed data in place.
        self.file
            .set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(&err)?;
        self.file.sync_all().map_err(&err)?;
        match fs::rename(&self.path, &dest) {
            Ok(()) => {}
            // The ingest directory on another filesystem than the blobs: copy.
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                let file = File::open(&self.path).map_err(BlobError::Read)?;
                return blobs.put(file, &self.want);
            }
            Err(e) => return Err(err(e)),
        }
        self.keep = true;
        if let Some(parent) = dest.parent() {
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(&err)?;
        }
        Ok(true)
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = fs::remove_file(&self.path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e,
                        "cannot remove a partial download");
                }
            }
        }
    }
}

/// Removes what dead downloads left: private files nobody holds, and partials nobody
/// holds that are over a day old.
pub fn sweep(root: &Path) {
    let Ok(entries) = fs::read_dir(dir(root)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let private = path.extension().is_some_and(|e| e == "tmp");
        let stale = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !private && !stale {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        // Held: a download is writing it right now.
        if Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err() {
            continue;
        }
        if let Err(e) = fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a dead download");
        }
    }
}

/// The digest of a partial's name, for tests and diagnostics.
pub fn partials(root: &Path) -> Vec<Digest> {
    let Ok(entries) = fs::read_dir(dir(root)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hex = name.strip_suffix(".partial")?;
            Digest::try_from(format!("sha256:{hex}").as_str()).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::MediaType;

    fn desc(data: &[u8]) -> Descriptor {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(data)));
        Descriptor::new(
            MediaType::ImageLayer,
            data.len() as u64,
            Digest::try_from(digest.as_str()).unwrap(),
        )
    }

    #[test]
    fn a_kept_partial_resumes_and_commits_verified() {
        let root = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(root.path(), 1 << 20).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let want = desc(&data);
        let mut first = Ingest::open(root.path(), &want).unwrap();
        first.write(&data[..40_000]).unwrap();
        first.keep();
        assert_eq!(partials(root.path()), [want.digest().clone()]);

        let mut second = Ingest::open(root.path(), &want).unwrap();
        assert_eq!((second.offset(), second.resumed_from()), (40_000, 40_000));
        second.write(&data[40_000..]).unwrap();
        assert!(second.write(b"x").is_err(), "past the declared size");
        assert!(second.finish(&blobs).unwrap());
        assert!(blobs.has(want.digest()));
        assert!(partials(root.path()).is_empty());
    }

    #[test]
    fn a_corrupt_partial_fails_the_digest_and_goes() {
        let root = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(root.path(), 1 << 20).unwrap();
        let data = vec![7u8; 5000];
        let want = desc(&data);
        let mut first = Ingest::open(root.path(), &want).unwrap();
        first.write(&[9u8; 2000]).unwrap();
        first.keep();
        let mut second = Ingest::open(root.path(), &want).unwrap();
        second.write(&data[2000..]).unwrap();
        let e = second.finish(&blobs).unwrap_err();
        assert!(matches!(e, BlobError::DigestMismatch { .. }), "{e}");
        assert!(!blobs.has(want.digest()));
        assert!(partials(root.path()).is_empty());
    }

    #[test]
    fn a_held_partial_gives_a_private_file_and_a_dropped_one_goes() {
        let root = tempfile::tempdir().unwrap();
        let want = desc(b"abc");
        let mut held = Ingest::open(root.path(), &want).unwrap();
        held.write(b"a").unwrap();
        let other = Ingest::open(root.path(), &want).unwrap();
        assert_eq!(other.offset(), 0);
        assert!(other.path.extension().is_some_and(|e| e == "tmp"));
        other.keep();
        sweep(root.path());
        drop(held);
        let left: Vec<_> = fs::read_dir(dir(root.path())).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
