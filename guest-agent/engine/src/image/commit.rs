//! `commit`: a container's upper directory becomes a new layer on top of its image, and a
//! new image (config + manifest) is stored and named.
//!
//! The layer is an OCI changeset tar: overlayfs whiteouts (0:0 character devices) become
//! `.wh.NAME` files, opaque directories get a `.wh..wh..opq` entry. It is stored
//! uncompressed, so its digest is its diff_id, through the blob store (which verifies the
//! digest before the blob becomes visible). The layer store unpacks it (once, by chain id)
//! when a container first uses the new image.
//!
//! The upper directory is walked with `container::changes::walk` (fd-relative, nothing
//! followed) and files are opened with `O_NOFOLLOW` below their directory's fd, so a
//! running container cannot make the commit read a host file.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, major, minor, Mode, SFlag};
use oci_spec::image::{
    Config, Descriptor, Digest, History, ImageConfiguration, ImageManifestBuilder, MediaType,
};
use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use super::store::{blobs::digest_of, ImageRecord, Store, StoreError};
use crate::container::changes::{self, Node};

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Cannot write the new layer from {path}")]
    Layer {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Cannot encode the image {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("Cannot build the image manifest: {0}")]
    Manifest(String),
}

type Result<T> = std::result::Result<T, CommitError>;

/// What the new image is.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The runtime config of the new image (Cmd, Env...).
    pub config: Option<Config>,
    /// History: what made this layer (`/bin/sh -c ...`).
    pub created_by: String,
    pub comment: Option<String>,
    pub author: Option<String>,
    /// Full names to give the image; empty: dangling.
    pub names: Vec<String>,
}

/// Stores a new image: `parent`'s layers (none for `FROM scratch`) plus, when `upper` is
/// given, a layer made of its content. Without `upper` the image differs only in its
/// config (an "empty layer" in the history).
pub fn commit(
    store: &Store,
    parent: Option<&ImageRecord>,
    upper: Option<&Path>,
    options: CommitOptions,
) -> Result<ImageRecord> {
    // Held while blobs are added and recorded, so a concurrent collection cannot remove a
    // blob this commit has just decided to reuse.
    let _guard = store.import_guard();
    let (mut layers, mut config) = match parent {
        Some(image) => (
            store.manifest(image)?.layers().clone(),
            store.config(image)?,
        ),
        None => (Vec::new(), scratch_config()),
    };
    let now = crate::logs::format_rfc3339_nano(std::time::SystemTime::now());
    let mut history = config.history().clone().unwrap_or_default();
    let mut entry = History::default();
    entry.set_created(Some(now.clone()));
    entry.set_created_by(Some(options.created_by.clone()));
    entry.set_comment(options.comment.clone());
    entry.set_author(options.author.clone());
    if let Some(upper) = upper {
        let layer = write_layer(store, upper)?;
        config
            .rootfs_mut()
            .diff_ids_mut()
            .push(layer.digest().to_string());
        layers.push(layer);
    } else {
        entry.set_empty_layer(Some(true));
    }
    history.push(entry);
    config.set_history(Some(history));
    config.set_created(Some(now));
    if options.author.is_some() {
        config.set_author(options.author.clone());
    }
    if options.config.is_some() {
        config.set_config(options.config.clone());
    }
    let config_bytes = serde_json::to_vec(&config).map_err(|source| CommitError::Encode {
        what: "config",
        source,
    })?;
    let config_desc = put_json(store, MediaType::ImageConfig, &config_bytes)?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config_desc.clone())
        .layers(layers)
        .build()
        .map_err(|e| CommitError::Manifest(e.to_string()))?;
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|source| CommitError::Encode {
        what: "manifest",
        source,
    })?;
    let manifest_desc = put_json(store, MediaType::ImageManifest, &manifest_bytes)?;
    let record = ImageRecord {
        target: manifest_desc.clone(),
        manifest: manifest_desc,
        config: config_desc.digest().clone(),
        names: options.names,
    };
    let mut added = store.add_images(vec![record])?;
    Ok(added.remove(0))
}

/// The config of an image with nothing in it, for `FROM scratch`.
pub fn scratch_config() -> ImageConfiguration {
    let mut config = ImageConfiguration::default();
    config.set_architecture(super::store::platform::host_arch());
    config.set_os(oci_spec::image::Os::Linux);
    config.set_config(Some(Config::default()));
    config
}

fn put_json(store: &Store, media_type: MediaType, bytes: &[u8]) -> Result<Descriptor> {
    let desc = Descriptor::new(media_type, bytes.len() as u64, digest_of(bytes));
    store.blobs().put(bytes, &desc).map_err(StoreError::from)?;
    Ok(desc)
}

/// Writes the layer tar of `upper` into the blob store; its descriptor.
fn write_layer(store: &Store, upper: &Path) -> Result<Descriptor> {
    let layer_err = |source| CommitError::Layer {
        path: upper.to_path_buf(),
        source,
    };
    let file = tempfile::tempfile_in(store.blobs().tmp_dir()).map_err(layer_err)?;
    let mut hashing = Hashing {
        inner: file,
        hasher: Sha256::new(),
        size: 0,
    };
    write_tar(upper, &mut hashing).map_err(layer_err)?;
    let Hashing {
        inner: mut file,
        hasher,
        size,
    } = hashing;
    let digest = Digest::try_from(format!("sha256:{}", hex::encode(hasher.finalize())))
        .expect("sha256 hex is a valid digest");
    file.seek(SeekFrom::Start(0)).map_err(layer_err)?;
    let desc = Descriptor::new(MediaType::ImageLayer, size, digest);
    store
        .blobs()
        .put(io::BufReader::new(file), &desc)
        .map_err(StoreError::from)?;
    Ok(desc)
}

/// The changeset tar of an upper directory.
pub fn write_tar(upper: &Path, out: impl Write) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    changes::walk(upper, &mut |v| {
        let name = v.rel;
        match v.node {
            Node::Whiteout => {
                let mut header = base_header(v.st, EntryType::Regular);
                header.set_mode(0o644);
                let (dir, base) = (name.parent().unwrap_or(Path::new("")), v.name);
                let mut wh = std::ffi::OsString::from(".wh.");
                wh.push(base);
                tar.append_data(&mut header, dir.join(wh), io::empty())
            }
            Node::Dir { opaque } => {
                let mut header = base_header(v.st, EntryType::Directory);
                tar.append_data(&mut header, name, io::empty())?;
                if opaque {
                    let mut header = base_header(v.st, EntryType::Regular);
                    header.set_mode(0o644);
                    tar.append_data(&mut header, name.join(".wh..wh..opq"), io::empty())?;
                }
                Ok(())
            }
            Node::Other => append_other(&mut tar, v),
        }
    })?;
    tar.into_inner()?.flush()
}

fn append_other<W: Write>(tar: &mut tar::Builder<W>, v: &changes::Visit<'_>) -> io::Result<()> {
    match changes::kind(v.st) {
        SFlag::S_IFREG => {
            let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
            let fd = match openat(Some(v.parent), v.name, flags, Mode::empty()) {
                // SAFETY: openat returned a fresh descriptor that nothing else owns.
                Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
                // Removed or swapped for something else since the walk saw it.
                Err(_) => return Ok(()),
            };
            let st = fstat(std::os::fd::AsRawFd::as_raw_fd(&fd))?;
            let mut header = base_header(&st, EntryType::Regular);
            let size = u64::try_from(st.st_size).unwrap_or(0);
            header.set_size(size);
            // A file that changes size while read is cut or padded to the header's size,
            // so the tar stays valid.
            let file = File::from(fd);
            let reader = io::Read::take(
                io::Read::chain(io::Read::take(file, size), io::repeat(0)),
                size,
            );
            tar.append_data(&mut header, v.rel, reader)
        }
        SFlag::S_IFLNK => {
            let target = match readlinkat(Some(v.parent), v.name) {
                Ok(t) => PathBuf::from(std::ffi::OsString::from_vec(t.into_vec())),
                Err(_) => return Ok(()),
            };
            let mut header = base_header(v.st, EntryType::Symlink);
            tar.append_link(&mut header, v.rel, target)
        }
        t @ (SFlag::S_IFCHR | SFlag::S_IFBLK) => {
            let kind = if t == SFlag::S_IFCHR {
                EntryType::Char
            } else {
                EntryType::Block
            };
            let mut header = base_header(v.st, kind);
            header.set_device_major(major(v.st.st_rdev) as u32)?;
            header.set_device_minor(minor(v.st.st_rdev) as u32)?;
            tar.append_data(&mut header, v.rel, io::empty())
        }
        SFlag::S_IFIFO => {
            let mut header = base_header(v.st, EntryType::Fifo);
            tar.append_data(&mut header, v.rel, io::empty())
        }
        // Sockets cannot be archived.
        _ => Ok(()),
    }
}

fn base_header(st: &nix::sys::stat::FileStat, entry_type: EntryType) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(st.st_mode & 0o7777);
    header.set_uid(u64::from(st.st_uid));
    header.set_gid(u64::from(st.st_gid));
    header.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    header.set_size(0);
    header
}

/// A writer that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
