//! What can go wrong while unpacking a layer. Every variant names what was wrong (the entry,
//! the cap, the digests) so a refused layer can be diagnosed from the message alone.

use std::io;

use oci_spec::image::Digest;

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("Unsupported layer media type {0}")]
    UnknownMediaType(String),

    #[error("Cannot open the unpack destination {path}")]
    OpenDest {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("Cannot read the layer stream")]
    Read(#[source] io::Error),

    #[error("Layer is larger than the uncompressed size cap of {max} bytes")]
    TooLarge { max: u64 },

    #[error("Layer has more entries than the cap of {max}")]
    TooManyEntries { max: u64 },

    #[error("Tar extension headers before one entry exceed the cap of {max} bytes")]
    HeaderTooLarge { max: u64 },

    #[error("Entry {name:?} {reason}")]
    InvalidName { name: String, reason: &'static str },

    #[error("Entry {name:?} is an invalid whiteout: {reason}")]
    InvalidWhiteout { name: String, reason: &'static str },

    #[error("Entry {name:?} has the unsupported tar type {kind:?}")]
    UnsupportedType { name: String, kind: char },

    #[error("Hard link {name:?} to {target:?}: the target {reason}")]
    BadHardlink {
        name: String,
        target: String,
        reason: &'static str,
    },

    #[error("Symlink {name:?} has an empty or NUL-containing target")]
    BadSymlink { name: String },

    #[error("Entry {name:?} has an invalid {field} in its header")]
    BadHeader { name: String, field: &'static str },

    #[error("Entry {name:?} sets the overlayfs attribute {key}, which a layer may not carry")]
    OverlayXattr { name: String, key: String },

    #[error("Entry {name:?} is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        name: String,
        expected: u64,
        found: u64,
    },

    #[error("Entry {name:?}: parent {parent:?} {reason}")]
    BadParent {
        name: String,
        parent: String,
        reason: &'static str,
    },

    #[error("Cannot {op} for entry {name:?}")]
    Io {
        op: &'static str,
        name: String,
        #[source]
        source: io::Error,
    },

    #[error("Only sha256 diff_ids can be verified, not {0}")]
    UnsupportedDigest(Digest),

    #[error("Layer diff_id mismatch: expected {expected}, found {found}")]
    DiffIdMismatch { expected: Digest, found: Digest },
}

/// `map_err` adapter for a failed filesystem operation on an entry.
pub(super) fn io_err<'a, E: Into<io::Error>>(
    op: &'static str,
    name: &'a str,
) -> impl FnOnce(E) -> LayerError + 'a {
    move |e| LayerError::Io {
        op,
        name: name.to_string(),
        source: e.into(),
    }
}
