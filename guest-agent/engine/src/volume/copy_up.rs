//! Copy-up: when an empty volume is first mounted over a path of an image, the image's
//! content at that path is copied into it (docker's default, without `nocopy`), owners,
//! modes, symlinks, hard links, devices and xattrs included (xattrs best effort), and the
//! volume's root takes the owner and mode of the image directory.
//!
//! The path is resolved inside the image rootfs with openat2(RESOLVE_IN_ROOT), so an image
//! whose `/data` is a symlink to `/etc` copies the image's `/etc`, never the host's. The copy
//! is the archive module's fd-relative tree walk streamed through a pipe into the layer
//! unpacker, which writes only below the volume's `_data`; symlinks are copied as links.
//!
//! It happens once: a marker in the volume's metadata records it, and a volume that already
//! has content is left alone. A lock on the volume directory keeps two containers starting at
//! once from copying twice. A failed copy empties `_data` again and sets no marker.
//! `image_rootfs` is a merged view of the image (overlay whiteout devices would be copied as
//! devices).

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use berth_runtime::rootfs::safe_path::{fd_path, RootFs};
use nix::errno::Errno;
use nix::fcntl::{open, Flock, FlockArg, OFlag};
use nix::sys::stat::{fchmod, fstat, Mode};
use nix::unistd::{fchown, pipe2, Gid, Uid};

use super::error::{io_err, VolumeError};
use super::meta;
use super::name::validate;
use super::store::{VolumeStore, DATA_DIR};
use crate::archive::tree::{list_dir, TreeWriter};
use crate::archive::xattr::XattrPolicy;
use crate::archive::ArchiveError;
use crate::image::layer::{self, Compression, Limits, WhiteoutMode};

/// Image content is trusted to be as large as the image is; no cap beyond the disk.
const LIMITS: Limits = Limits {
    max_uncompressed: u64::MAX,
    max_entries: u64::MAX,
};

impl VolumeStore {
    /// Copies `target` of the image rootfs into volume `name` if the volume is empty and was
    /// never filled this way. Returns whether a copy was made; a `target` that is missing or
    /// not a directory in the image copies nothing.
    pub fn copy_up(
        &self,
        name: &str,
        image_rootfs: &Path,
        target: &Path,
    ) -> Result<bool, VolumeError> {
        validate(name).map_err(|_| VolumeError::NotFound(name.to_string()))?;
        let dir = self.volume_dir(name);
        let lock = File::open(&dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => VolumeError::NotFound(name.to_string()),
            _ => io_err("open", &dir)(e),
        })?;
        // Held until the copy is recorded: a second copy_up waits, then finds the marker.
        let _lock = Flock::lock(lock, FlockArg::LockExclusive)
            .map_err(|(_, errno)| io_err("lock", &dir)(errno))?;
        let mut meta = meta::read(&dir)?;
        if meta.copied_up {
            return Ok(false);
        }
        let data_path = dir.join(DATA_DIR);
        let data = open_dir(&data_path, OFlag::O_NOFOLLOW).map_err(io_err("open", &data_path))?;
        if !list_dir(&data)
            .map_err(io_err("list", &data_path))?
            .is_empty()
        {
            return Ok(false);
        }
        let shown = target.display().to_string();
        let read_err = |source| VolumeError::CopyRead {
            name: name.to_string(),
            target: shown.clone(),
            source,
        };
        let rootfs = RootFs::open(image_rootfs).map_err(|e| {
            read_err(Box::new(ArchiveError::OpenRoot {
                path: image_rootfs.display().to_string(),
                source: std::io::Error::other(e),
            }))
        })?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let source = match rootfs.resolve(target, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => return Ok(false),
            Err(e) => return Err(io_err("open", &rootfs.path().join(target))(e)),
        };
        if let Err(e) = copy(&source, &data, name, &shown) {
            empty_dir(&data_path);
            return Err(e);
        }
        // Docker's copyOwnership: the volume root looks like the image directory.
        let st = fstat(source.as_raw_fd()).map_err(io_err("stat", &rootfs.path().join(target)))?;
        fchown(
            data.as_raw_fd(),
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
        )
        .map_err(io_err("chown", &data_path))?;
        fchmod(
            data.as_raw_fd(),
            Mode::from_bits_truncate(st.st_mode & 0o7777),
        )
        .map_err(io_err("chmod", &data_path))?;
        meta.copied_up = true;
        meta::write(&dir, &meta)?;
        Ok(true)
    }
}

/// Streams the content of `source` as a tar through a pipe into the unpacker at `data`.
fn copy(source: &OwnedFd, data: &OwnedFd, name: &str, target: &str) -> Result<(), VolumeError> {
    let (reader, writer) =
        pipe2(OFlag::O_CLOEXEC).map_err(io_err("create a pipe", Path::new(target)))?;
    let (reader, writer) = (File::from(reader), File::from(writer));
    let dest = fd_path(data);
    let (produced, unpacked) = std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut tar = TreeWriter::new(writer, XattrPolicy::All);
            tar.append_dir(source, None, 0)?;
            tar.finish().map(drop)
        });
        // The reader is dropped when unpack returns, so a producer still writing after an
        // unpack error gets EPIPE instead of blocking.
        let unpacked = layer::unpack(
            reader,
            Compression::None,
            Path::new(&dest),
            WhiteoutMode::Apply,
            &LIMITS,
        );
        let produced = producer.join().expect("the tar producer does not panic");
        (produced, unpacked)
    });
    // The producer's own failure explains a truncated stream better than the unpacker's;
    // a write failure of the producer is the consequence of the unpacker stopping.
    match (produced, unpacked) {
        (Err(e), _) if !matches!(e, ArchiveError::Write(_)) => Err(VolumeError::CopyRead {
            name: name.to_string(),
            target: target.to_string(),
            source: Box::new(e),
        }),
        (_, Err(e)) => Err(VolumeError::CopyWrite {
            name: name.to_string(),
            target: target.to_string(),
            source: Box::new(e),
        }),
        (Err(e), Ok(_)) => Err(VolumeError::CopyRead {
            name: name.to_string(),
            target: target.to_string(),
            source: Box::new(e),
        }),
        (Ok(()), Ok(_)) => Ok(()),
    }
}

fn open_dir(path: &Path, extra: OFlag) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | extra;
    let fd = open(path, flags, Mode::empty())?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Best effort: what a failed copy left in `_data` is removed, so the next mount tries again.
fn empty_dir(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let child = entry.path();
        // symlink_metadata and remove_dir_all never follow a symlink.
        let removed = match std::fs::symlink_metadata(&child) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&child),
            Ok(_) => std::fs::remove_file(&child),
            Err(e) => Err(e),
        };
        if let Err(e) = removed {
            tracing::warn!(path = %child.display(), error = %e, "cannot clean up a failed copy");
        }
    }
}
