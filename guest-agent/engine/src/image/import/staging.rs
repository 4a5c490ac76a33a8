//! The files of an image being imported, by archive path, each staged as a hashed
//! temporary file on the store's filesystem.
//!
//! A tar is staged entry by entry as it streams (docker writes manifest.json last, so
//! nothing can be decided before the end). A layout directory is staged lazily, file by
//! file as the importer asks, through `openat2(RESOLVE_BENEATH)` so no path or symlink in
//! it reaches outside the directory. Committing a staged file into the store is a rename.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use oci_spec::image::{Descriptor, Digest};

use super::names::{self, BadName};
use crate::image::store::blobs::{BlobError, BlobStore, Pending};

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error(transparent)]
    Name(#[from] BadName),
    #[error("Archive entry {name} is a chain of more than {MAX_HOPS} links")]
    LinkChain { name: String },
    #[error("{path}: blob {expected} failed verification, content has digest {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("{path}: blob {digest} should have {expected} bytes, has {found}")]
    SizeMismatch {
        path: String,
        digest: String,
        expected: u64,
        found: u64,
    },
    #[error("{path} is larger than {cap} bytes")]
    TooLarge { path: String, cap: u64 },
    #[error("{path} is not a regular file")]
    NotRegular { path: String },
    #[error("Too many files in the archive (limit {MAX_FILES})")]
    TooManyFiles,
    #[error("Cannot open the image directory {path}")]
    OpenDir {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("Cannot open {path} in the image directory")]
    Open {
        path: String,
        #[source]
        source: Errno,
    },
    #[error("Cannot stage {path}")]
    Blob {
        path: String,
        #[source]
        source: BlobError,
    },
}

type Result<T> = std::result::Result<T, StagingError>;

const MAX_HOPS: usize = 16;
/// Far beyond any real archive (one file per blob), low enough to bound memory and inodes.
const MAX_FILES: usize = 100_000;

enum Slot {
    Staged(Pending),
    /// Already renamed into the store; reads go to the blob.
    Committed(Digest, u64),
}

pub struct Staging<'s> {
    blobs: &'s BlobStore,
    files: HashMap<String, Slot>,
    links: HashMap<String, String>,
    dir: Option<OwnedFd>,
}

impl std::fmt::Debug for Staging<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging")
            .field("files", &self.files.len())
            .field("links", &self.links)
            .finish()
    }
}

impl<'s> Staging<'s> {
    /// An empty staging area, filled from a tar with `add_file` and `add_link`.
    pub fn new(blobs: &'s BlobStore) -> Self {
        Self {
            blobs,
            files: HashMap::new(),
            links: HashMap::new(),
            dir: None,
        }
    }

    /// A staging area that stages files of the layout directory `dir` on demand.
    pub fn for_dir(blobs: &'s BlobStore, dir: &Path) -> Result<Self> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = open(dir, flags, Mode::empty()).map_err(|source| StagingError::OpenDir {
            path: dir.to_path_buf(),
            source,
        })?;
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self {
            dir: Some(fd),
            ..Self::new(blobs)
        })
    }

    /// The store the staged files are committed to.
    pub fn blobs(&self) -> &'s BlobStore {
        self.blobs
    }

    /// Stages a regular file of the archive.
    pub fn add_file(&mut self, name: String, reader: impl Read) -> Result<()> {
        if self.files.len() >= MAX_FILES {
            return Err(StagingError::TooManyFiles);
        }
        let pending = self.stage(&name, reader)?;
        self.links.remove(&name);
        self.files.insert(name, Slot::Staged(pending));
        Ok(())
    }

    /// Records a symlink (target relative to the link's directory) or a hard link
    /// (target relative to the archive root). Legacy `docker save` links duplicate layers.
    pub fn add_link(&mut self, name: String, target: &Path, symlink: bool) -> Result<()> {
        let resolved = if symlink {
            names::symlink_target(&name, target)?
        } else {
            names::clean_name(target)?
        };
        if self.links.len() >= MAX_FILES {
            return Err(StagingError::TooManyFiles);
        }
        self.files.remove(&name);
        self.links.insert(name, resolved);
        Ok(())
    }

    /// Digest and size of the file at `path`, or None when there is none.
    pub fn stat(&mut self, path: &str) -> Result<Option<(Digest, u64)>> {
        Ok(self.slot(path)?.map(|s| match s {
            Slot::Staged(p) => (p.digest().clone(), p.size()),
            Slot::Committed(d, n) => (d.clone(), *n),
        }))
    }

    /// Reads a small file whole, refusing one over `cap` bytes; None when absent.
    pub fn read(&mut self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        let Some((digest, size)) = self.stat(path)? else {
            return Ok(None);
        };
        if size > cap {
            return Err(StagingError::TooLarge {
                path: path.to_owned(),
                cap,
            });
        }
        let mut buf = Vec::with_capacity(size as usize);
        self.reader(path, &digest)?
            .take(cap)
            .read_to_end(&mut buf)
            .map_err(|e| self.blob_err(path, BlobError::Read(e)))?;
        Ok(Some(buf))
    }

    /// The first bytes of a file (to recognise compression).
    pub fn head(&mut self, path: &str, len: u64) -> Result<Vec<u8>> {
        let Some((digest, _)) = self.stat(path)? else {
            return Ok(Vec::new());
        };
        let mut buf = Vec::new();
        self.reader(path, &digest)?
            .take(len)
            .read_to_end(&mut buf)
            .map_err(|e| self.blob_err(path, BlobError::Read(e)))?;
        Ok(buf)
    }

    /// Checks the file at `path` is exactly the blob `desc` describes. Returns false when
    /// there is no such file.
    pub fn verify(&mut self, path: &str, desc: &Descriptor) -> Result<bool> {
        let Some((digest, size)) = self.stat(path)? else {
            return Ok(false);
        };
        if digest != *desc.digest() {
            return Err(StagingError::Mismatch {
                path: path.to_owned(),
                expected: desc.digest().to_string(),
                found: digest.to_string(),
            });
        }
        if size != desc.size() {
            return Err(StagingError::SizeMismatch {
                path: path.to_owned(),
                digest: digest.to_string(),
                expected: desc.size(),
                found: size,
            });
        }
        Ok(true)
    }

    /// Moves the verified file at `path` into the store as `desc`. Returns whether the
    /// store gained a blob.
    pub fn commit(&mut self, path: &str, desc: &Descriptor) -> Result<bool> {
        if !self.verify(path, desc)? {
            return Ok(false);
        }
        let key = self.canonical(path)?;
        let Some(Slot::Staged(_)) = self.files.get(&key) else {
            return Ok(false);
        };
        let slot = Slot::Committed(desc.digest().clone(), desc.size());
        let Some(Slot::Staged(pending)) = self.files.insert(key, slot) else {
            return Ok(false);
        };
        self.blobs
            .commit(pending, desc)
            .map_err(|e| self.blob_err(path, e))
    }

    fn reader(&self, path: &str, digest: &Digest) -> Result<File> {
        let key = self.canonical(path)?;
        match self.files.get(&key) {
            Some(Slot::Staged(p)) => p.reopen(),
            _ => self.blobs.open(digest),
        }
        .map_err(|e| self.blob_err(path, e))
    }

    fn slot(&mut self, path: &str) -> Result<Option<&Slot>> {
        let key = self.canonical(path)?;
        if !self.files.contains_key(&key) {
            match self.stage_from_dir(&key)? {
                Some(pending) => {
                    self.files.insert(key.clone(), Slot::Staged(pending));
                }
                None => return Ok(None),
            }
        }
        Ok(self.files.get(&key))
    }

    fn canonical(&self, path: &str) -> Result<String> {
        let mut name = names::clean_name(Path::new(path))?;
        for _ in 0..MAX_HOPS {
            match self.links.get(&name) {
                Some(target) => name = target.clone(),
                None => return Ok(name),
            }
        }
        Err(StagingError::LinkChain { name })
    }

    fn stage_from_dir(&self, name: &str) -> Result<Option<Pending>> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let how = OpenHow::new()
            // O_NONBLOCK: opening a FIFO planted in the layout must not hang the import.
            .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let open_err = |source| StagingError::Open {
            path: name.to_owned(),
            source,
        };
        let fd = match openat2(std::os::fd::AsRawFd::as_raw_fd(dir), name, how) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(open_err(e)),
        };
        // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let meta = file
            .metadata()
            .map_err(|e| self.blob_err(name, BlobError::Read(e)))?;
        if !meta.is_file() {
            return Err(StagingError::NotRegular {
                path: name.to_owned(),
            });
        }
        self.stage(name, file).map(Some)
    }

    fn stage(&self, name: &str, reader: impl Read) -> Result<Pending> {
        let cap = self.blobs.max_cap();
        self.blobs.stage(reader, cap).map_err(|e| match e {
            BlobError::StreamTooLarge { cap } => StagingError::TooLarge {
                path: name.to_owned(),
                cap,
            },
            e => self.blob_err(name, e),
        })
    }

    fn blob_err(&self, path: &str, source: BlobError) -> StagingError {
        StagingError::Blob {
            path: path.to_owned(),
            source,
        }
    }
}
