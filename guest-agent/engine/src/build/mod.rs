//! The legacy (non-BuildKit) builder: a Dockerfile run step by step, each step committed
//! as an image (metadata-only steps as an "empty layer"), with a cache of steps by parent
//! image and instruction (and, for COPY and ADD, the content copied).
//!
//! - `dockerfile`: parsing; `words`: ARG/ENV substitution and quoting;
//! - `context`: the build context, extracted safely, `.dockerignore`, globs;
//! - `metadata`: the instructions that only change the image config (also `commit -c`);
//! - `copy`: COPY and ADD assembled into one tar applied to a container's root;
//! - `cache`: the step cache index (`<root>/build-cache.json`);
//! - `executor`: running the steps on the engine (containers for RUN, COPY, WORKDIR).

pub mod cache;
pub mod context;
mod copy;
pub mod dockerfile;
mod executor;
pub mod metadata;
pub mod words;

use std::collections::BTreeMap;

pub use executor::{run, Progress, Report};

use crate::engine::{CopyError, EngineError};
use crate::image::commit::CommitError;
use crate::image::store::StoreError;

/// What `POST /build` asked for.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Names for the result (`t`, repeatable).
    pub tags: Vec<String>,
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    /// `--build-arg NAME=value`; `None`: take the value from the environment (the CLI
    /// resolves that already, so a `None` is simply unset).
    pub build_args: BTreeMap<String, Option<String>>,
    pub no_cache: bool,
    /// Remove intermediate containers after a successful step.
    pub rm: bool,
    /// Remove intermediate containers even after a failed one.
    pub force_rm: bool,
    /// Labels added to the final image.
    pub labels: BTreeMap<String, String>,
    /// The stage to stop at.
    pub target: Option<String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            tags: Vec::new(),
            dockerfile: "Dockerfile".into(),
            build_args: BTreeMap::new(),
            no_cache: false,
            rm: true,
            force_rm: false,
            labels: BTreeMap::new(),
            target: None,
        }
    }
}

/// The outcome of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// `sha256:...`.
    pub id: String,
    /// The full names given.
    pub tags: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] dockerfile::ParseError),
    #[error("Cannot read the build context: {0}")]
    Context(String),
    #[error("Cannot locate specified Dockerfile: {0}")]
    NoDockerfile(String),
    /// A step failed; the message is what the user sees (docker's wording).
    #[error("{0}")]
    Step(String),
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error(transparent)]
    Copy(Box<CopyError>),
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Image(#[from] StoreError),
    #[error("Cannot {action}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("The build was cancelled")]
    Cancelled,
}

impl From<EngineError> for BuildError {
    fn from(e: EngineError) -> Self {
        BuildError::Engine(Box::new(e))
    }
}

impl From<CopyError> for BuildError {
    fn from(e: CopyError) -> Self {
        BuildError::Copy(Box::new(e))
    }
}

impl BuildError {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
        let action = action.into();
        move |source| BuildError::Io { action, source }
    }

    /// What the API answers when the build fails before its stream starts.
    pub fn kind(&self) -> crate::engine::ErrorKind {
        use crate::engine::ErrorKind;
        match self {
            BuildError::Parse(_) | BuildError::Context(_) | BuildError::NoDockerfile(_) => {
                ErrorKind::InvalidArgument
            }
            BuildError::Engine(e) => e.kind(),
            BuildError::Copy(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

/// The first 12 hex digits of an ID, as docker shows them.
pub fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}
