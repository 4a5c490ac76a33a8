//! What can go wrong while keeping unpacked layers. Messages name the layer or path so a
//! failure can be diagnosed from the message alone; the cause is the `#[source]`.

use std::io;
use std::path::PathBuf;

use crate::image::layer::LayerError;
use crate::image::store::{BlobError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LayersError {
    #[error("Cannot {op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("Only sha256 diff_ids are supported, not {digest}")]
    UnsupportedDigest { digest: String },

    #[error("Cannot unpack layer {diff_id}")]
    Unpack {
        diff_id: String,
        #[source]
        source: LayerError,
    },

    #[error("Layer record {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(transparent)]
    Blob(#[from] BlobError),

    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T> = std::result::Result<T, LayersError>;

/// `map_err` adapter for a failed filesystem operation on `path`.
pub(super) fn io_err<E: Into<io::Error>>(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(E) -> LayersError {
    let path = path.into();
    move |e| LayersError::Io {
        op,
        path,
        source: e.into(),
    }
}
