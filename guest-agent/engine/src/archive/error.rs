//! What can go wrong copying into or out of a container. `NotFound` is the one the Docker
//! API turns into a 404 ("Could not find the file ... in container ...").

use std::io;

use crate::image::layer::LayerError;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("Could not find the file {path} in the container")]
    NotFound { path: String },

    #[error("Path {path} in the container is not a directory")]
    NotADirectory { path: String },

    #[error("Cannot open the container root {path}")]
    OpenRoot {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("Cannot {op} {path}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("Directory {path} is nested deeper than {max} levels")]
    TooDeep { path: String, max: usize },

    #[error("Cannot write the archive stream")]
    Write(#[source] io::Error),

    #[error("Cannot read the archive stream")]
    Read(#[source] io::Error),

    #[error("Cannot overwrite directory {path} with a non-directory")]
    DirWithNonDir { path: String },

    #[error("Cannot overwrite non-directory {path} with a directory")]
    NonDirWithDir { path: String },

    #[error("Cannot extract the archive")]
    Extract(#[source] LayerError),
}

/// `map_err` adapter for a failed filesystem operation on a path of the container.
pub(crate) fn io_err<'a, E: Into<io::Error>>(
    op: &'static str,
    path: &'a str,
) -> impl FnOnce(E) -> ArchiveError + 'a {
    move |e| ArchiveError::Io {
        op,
        path: path.to_string(),
        source: e.into(),
    }
}
