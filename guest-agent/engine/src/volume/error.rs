//! What can go wrong with volumes. `NotFound` maps to a 404, `InUse` to a 409 (docker says
//! "volume is in use"), `InvalidName` and `UnsupportedDriver` to a 400.

use std::io;

use crate::archive::ArchiveError;
use crate::image::layer::LayerError;

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("Volume name {name:?} {reason}")]
    InvalidName { name: String, reason: &'static str },

    #[error("Volume driver {0:?} is not supported: only \"local\" is")]
    UnsupportedDriver(String),

    #[error("No such volume: {0}")]
    NotFound(String),

    #[error("Cannot remove volume {name}: volume is in use")]
    InUse { name: String },

    #[error("Cannot {op} {path}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("Volume metadata {path} is invalid")]
    BadMeta {
        path: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("Cannot read {target} of the image to copy it into volume {name}")]
    CopyRead {
        name: String,
        target: String,
        #[source]
        source: Box<ArchiveError>,
    },

    #[error("Cannot write the image's {target} into volume {name}")]
    CopyWrite {
        name: String,
        target: String,
        #[source]
        source: Box<LayerError>,
    },
}

/// `map_err` adapter for a failed filesystem operation.
pub(super) fn io_err<'a, E: Into<io::Error>>(
    op: &'static str,
    path: &'a std::path::Path,
) -> impl FnOnce(E) -> VolumeError + 'a {
    move |e| VolumeError::Io {
        op,
        path: path.display().to_string(),
        source: e.into(),
    }
}
