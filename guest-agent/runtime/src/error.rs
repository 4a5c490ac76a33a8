//! The runtime's error type. Each module has its own enum; this one aggregates them so the
//! builder API returns one type and the CLI prints the whole chain at its edge.

use std::path::PathBuf;

use crate::{cgroups::CgroupError, seccomp::SeccompError};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("Invalid container id {0:?}: use letters, digits, '_', '-' and '.', 1 to 1024 characters, not starting with '.'")]
    InvalidId(String),
    #[error("Container {0:?} already exists")]
    AlreadyExists(String),
    #[error("Container {0:?} does not exist")]
    NotFound(String),
    #[error("Container {id:?} is {status}; {action} needs it to be {expected}")]
    WrongState {
        id: String,
        status: String,
        action: &'static str,
        expected: &'static str,
    },
    #[error("Cannot read the bundle's config at {path}")]
    ReadSpec {
        path: PathBuf,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("Invalid spec: {0}")]
    InvalidSpec(String),
    #[error("Unsupported: {0}")]
    Unsupported(String),
    #[error("Container state at {path} is unreadable")]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Sys {
        context: String,
        #[source]
        source: nix::Error,
    },
    /// Reported by the parent: what the container's set-up process said went wrong.
    #[error("Container init failed: {0}")]
    Init(String),
    /// Raised inside the set-up process; the parent wraps it into `Init`.
    #[error("{0}")]
    Setup(String),
    #[error("Hook {path} failed: {reason}")]
    Hook { path: PathBuf, reason: String },
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

/// Adds a human context to low-level errors, like anyhow's `.context()` but typed.
pub trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| RuntimeError::Io {
            context: context(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, nix::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| RuntimeError::Sys {
            context: context(),
            source,
        })
    }
}

/// The error and all its sources on one line, as the CLI and the init child report them.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}
