//! Layer unpacking: a layer blob (a tar changeset, plain, gzip or zstd) streamed into a
//! directory, following the OCI image-spec's changeset rules.
//!
//! Layers are hostile input. Nothing an entry says can create, write, chmod, chown, link or
//! delete anything outside dest: every operation is fd-relative below an fd of dest, parents
//! are resolved inside it with openat2(RESOLVE_IN_ROOT), final components are never followed
//! (see `root`). What that means for the classic attack shapes (containerd's TestBreakouts):
//!
//! - absolute names, `..` components, empty names, NUL bytes: refused with an error;
//! - a name passing through a symlink (`dir -> /`, `dir -> ../..`, chains, symlinks of lower
//!   layers): confined, resolved as if dest were `/`; a dangling one is an error;
//! - hard links: the target is resolved inside dest the same way; a symlink target is linked
//!   as the symlink itself; a directory, missing or self target is an error;
//! - an entry replacing a symlink (file, directory, whiteout): the symlink is removed, never
//!   followed; files are always created anew, so a hard-linked inode is never rewritten;
//! - invalid whiteouts (`.wh.`, `.wh..`, `.wh...`, `.wh..wh.X`, a whiteout name used as a
//!   directory), unrepresentable entry types (GNU sparse, volume labels...), overlayfs
//!   xattrs in PAX records: refused with an error.
//!
//! Caps: the uncompressed stream is counted as it is read (`Limits::max_uncompressed`, so a
//! decompression bomb stops at the cap), as are entries (`max_entries`) and the extension
//! headers before one entry (1 MiB of PAX or long-name data, like Go's archive/tar).
//!
//! Metadata: owner, mode (setuid/setgid/sticky included), mtime (directories after their
//! content) and PAX `SCHILY.xattr.*` records on files and directories, best effort: one the
//! filesystem or an LSM refuses is logged and skipped (see `meta`). A `./` entry is skipped:
//! dest's own owner and mode are the caller's.
//!
//! Atomicity is the caller's: unpack into a fresh directory and rename it into place only on
//! success (an error may leave part of the layer in dest, never anything outside it).
//! Creating devices and changing owners need root.

mod compression;
mod entry;
mod error;
mod meta;
mod name;
mod root;
mod stream;
mod unpack;
mod whiteout;

#[cfg(test)]
mod test_tars;
#[cfg(test)]
mod tests_root_basic;
#[cfg(test)]
mod tests_root_breakouts;
#[cfg(test)]
mod tests_root_breakouts_links;
#[cfg(test)]
mod tests_root_limits;
#[cfg(test)]
mod tests_root_whiteouts;

use std::io::Read;
use std::path::Path;

use oci_spec::image::{Digest, DigestAlgorithm};

pub use compression::Compression;
pub use error::LayerError;

/// What whiteouts become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Delete the lower content now: dest holds the lower layers' merged content (or is
    /// empty) and becomes the merged result.
    Apply,
    /// Keep them as overlayfs does (`.wh.NAME` -> 0:0 char device NAME, opaque -> xattr
    /// `trusted.overlay.opaque=y`): dest is this layer's own empty directory, to be stacked
    /// with overlayfs later.
    Overlay,
}

/// Caps on one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the uncompressed tar stream.
    pub max_uncompressed: u64,
    /// Tar entries (headers describing a file, directory, link, whiteout...).
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_uncompressed: 32 << 30,
            max_entries: 1 << 20,
        }
    }
}

/// The outcome of an unpack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    /// sha256 of the uncompressed tar stream (the image config's `rootfs.diff_ids` entry).
    pub diff_id: Digest,
    /// Length of the uncompressed tar stream.
    pub size: u64,
}

/// Streams `layer` (compressed as given) into `dest`, an existing directory: empty, or
/// holding the lower layers' merged content when applying on top (`WhiteoutMode::Apply`).
pub fn unpack(
    layer: impl Read,
    compression: Compression,
    dest: &Path,
    whiteouts: WhiteoutMode,
    limits: &Limits,
) -> Result<Unpacked, LayerError> {
    unpack::run(layer, compression, dest, whiteouts, limits)
}

/// `unpack`, then checks the diff_id against `expected` (sha256 only). On a mismatch dest
/// holds content that must be discarded, like after any other error.
pub fn unpack_verified(
    layer: impl Read,
    compression: Compression,
    dest: &Path,
    whiteouts: WhiteoutMode,
    limits: &Limits,
    expected: &Digest,
) -> Result<Unpacked, LayerError> {
    // Refused before reading anything: an unverifiable layer is not unpacked at all.
    if *expected.algorithm() != DigestAlgorithm::Sha256 {
        return Err(LayerError::UnsupportedDigest(expected.clone()));
    }
    let unpacked = unpack(layer, compression, dest, whiteouts, limits)?;
    if unpacked.diff_id != *expected {
        return Err(LayerError::DiffIdMismatch {
            expected: expected.clone(),
            found: unpacked.diff_id,
        });
    }
    Ok(unpacked)
}
