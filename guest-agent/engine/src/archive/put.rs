//! `PUT /containers/{id}/archive`: a tar stream (plain, gzip or zstd) extracted into a
//! directory of the container.
//!
//! The destination is resolved inside the root, following symlinks (docker follows the last
//! component too, so a link to a directory is a valid destination), and the stream goes to
//! the layer unpacker through `/proc/self/fd/N` of that directory: the very inode resolved,
//! whatever is renamed or swapped afterwards. The unpacker refuses absolute names, `..` and
//! NUL bytes, and resolves every name inside the destination, so a symlink in the container
//! (or one the archive itself creates) can neither lead a write to the host nor elsewhere in
//! the container. That is stricter than docker, which resolves such links inside the whole
//! container root: an entry passing through a link to `/etc` lands in `<dest>/etc`, or fails
//! when that does not exist.
//!
//! Differences kept from layer semantics: `.wh.NAME` entries delete NAME (docker would create
//! a file of that name) and malformed whiteout names are refused; a `./` entry leaves the
//! destination's own owner and mode alone. Owners, modes, times and xattrs are applied from
//! the archive, as docker does without `copyUIDGID`.

use std::io::Read;
use std::path::Path;

use berth_runtime::rootfs::safe_path::fd_path;

use super::error::ArchiveError;
use super::gate::{read_full, Gate};
use super::resolve::{abs_path, open_root, resolve_dir};
use crate::image::layer::{self, Compression, Limits, WhiteoutMode};

/// docker puts no cap on `cp`; the disk is the limit, as with any write by the container.
const LIMITS: Limits = Limits {
    max_uncompressed: u64::MAX,
    max_entries: u64::MAX,
};

/// Extracts `archive` into `dest_dir` of the container root `root`. With
/// `no_overwrite_dir_non_dir`, an entry that would replace a directory with a non-directory
/// or the reverse is refused (docker's `noOverwriteDirNonDir`, which the CLI always sets).
pub fn put(
    root: &Path,
    dest_dir: &Path,
    mut archive: impl Read,
    no_overwrite_dir_non_dir: bool,
) -> Result<(), ArchiveError> {
    let rootfs = open_root(root)?;
    let dest = resolve_dir(&rootfs, dest_dir)?;
    let dest_abs = abs_path(dest_dir);
    let mut magic = [0u8; 4];
    let n = read_full(&mut archive, &mut magic).map_err(ArchiveError::Read)?;
    let compression = Compression::sniff(&magic[..n]);
    let input = compression
        .decoder((&magic[..n]).chain(archive))
        .map_err(ArchiveError::Read)?;
    let mut gate = Gate::new(input, &dest, &dest_abs, no_overwrite_dir_non_dir);
    let dest_path = fd_path(&dest);
    let unpacked = layer::unpack(
        &mut gate,
        Compression::None,
        Path::new(&dest_path),
        WhiteoutMode::Apply,
        &LIMITS,
    );
    match unpacked {
        Ok(_) => Ok(()),
        Err(e) => Err(gate.take_refusal().unwrap_or(ArchiveError::Extract(e))),
    }
}
