//! The engine's error: a lifecycle error (typed, see [`ErrorKind`]) or a store that could
//! not be opened.

use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::image::layers::LayersError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Layers(#[from] LayersError),
    #[error("Cannot start the engine's supervisor thread")]
    Supervisor(#[source] std::io::Error),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// What the API layer answers: 404, 409, 400, 304 or 500.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Lifecycle(e) => e.kind(),
            EngineError::Layers(_) | EngineError::Supervisor(_) => ErrorKind::Internal,
        }
    }
}
