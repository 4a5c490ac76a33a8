//! What can go wrong with a container's lifecycle, and the kind of each failure, which the
//! API layer turns into a status code (404, 409, 400, 304, 500) without matching on text.

use berth_runtime::RuntimeError;

use crate::container::config::ConfigError;
use crate::container::prepare::PrepareError;
use crate::container::spec::MergeError;
use crate::container::store::StoreError;
use crate::image::store::{ResolveError, StoreError as ImageError};
use crate::logs::LogError;
use crate::monitor::MonitorError;
use crate::volume::VolumeError;

/// How a caller should treat an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No such container or image (404).
    NotFound,
    /// The container's state or a name forbids the request (409).
    Conflict,
    /// The request itself is wrong (400).
    InvalidArgument,
    /// Nothing to do: start of a running container, stop of a stopped one (304).
    NotModified,
    /// Everything else (500).
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("Container {0} is already started")]
    AlreadyStarted(String),
    #[error("Container {0} is already stopped")]
    AlreadyStopped(String),
    #[error("Container {0} is not running")]
    NotRunning(String),
    #[error("Container {0} is paused, unpause the container first")]
    Paused(String),
    #[error("Container {0} is not paused")]
    NotPaused(String),
    #[error("Container {id} is {status}")]
    Busy { id: String, status: &'static str },
    #[error("You cannot remove a running container {0}. Stop the container before attempting removal or force remove")]
    RemoveRunning(String),
    #[error("Container {0} did not exit after SIGKILL")]
    DidNotExit(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
    #[error(transparent)]
    Logs(#[from] LogError),
}

pub type Result<T, E = LifecycleError> = std::result::Result<T, E>;

impl LifecycleError {
    pub fn kind(&self) -> ErrorKind {
        use LifecycleError as E;
        match self {
            E::AlreadyStarted(_) | E::AlreadyStopped(_) => ErrorKind::NotModified,
            E::NotRunning(_)
            | E::Paused(_)
            | E::NotPaused(_)
            | E::Busy { .. }
            | E::RemoveRunning(_) => ErrorKind::Conflict,
            E::DidNotExit(_) => ErrorKind::Internal,
            E::Store(e) => store_kind(e),
            E::Image(e) => image_kind(e),
            E::Config(_) | E::Merge(_) => ErrorKind::InvalidArgument,
            E::Prepare(e) => prepare_kind(e),
            E::Volume(VolumeError::NotFound(_)) => ErrorKind::NotFound,
            E::Volume(VolumeError::InUse { .. }) => ErrorKind::Conflict,
            E::Monitor(_) | E::Runtime(_) | E::Volume(_) | E::Logs(_) => ErrorKind::Internal,
        }
    }
}

fn store_kind(e: &StoreError) -> ErrorKind {
    match e {
        StoreError::NotFound(_) => ErrorKind::NotFound,
        StoreError::NameInUse { .. } => ErrorKind::Conflict,
        StoreError::Ambiguous(_) | StoreError::InvalidName(_) => ErrorKind::InvalidArgument,
        StoreError::Io { .. } => ErrorKind::Internal,
    }
}

fn image_kind(e: &ImageError) -> ErrorKind {
    match e {
        ImageError::Resolve(ResolveError::NotFound { .. }) | ImageError::NoSuchName { .. } => {
            ErrorKind::NotFound
        }
        ImageError::Resolve(_) | ImageError::Reference(_) => ErrorKind::InvalidArgument,
        _ => ErrorKind::Internal,
    }
}

fn prepare_kind(e: &PrepareError) -> ErrorKind {
    match e {
        PrepareError::Image(e) => image_kind(e),
        PrepareError::Config(_) | PrepareError::Merge(_) => ErrorKind::InvalidArgument,
        PrepareError::Volume(VolumeError::InvalidName { .. }) => ErrorKind::InvalidArgument,
        _ => ErrorKind::Internal,
    }
}

/// The whole chain on one line, for the `error` field of a container's status.
pub fn chain(err: &dyn std::error::Error) -> String {
    crate::monitor::chain(err)
}
