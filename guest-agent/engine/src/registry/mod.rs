//! Talking to OCI distribution registries: pulling images into the store, checking
//! credentials for `docker login`. The HTTP side (auth challenges, bearer tokens, blob
//! requests, uploads) is `oci-client`'s, except manifests, which [`manifest`] fetches
//! with oci-client's token so their size is capped before they are read; this module
//! decides what to fetch, where it goes (resumable partials in [`ingest`], verified
//! before they enter the store) and what the user is told.
//!
//! Unlike the rest of the engine this module is async: transfers are network-bound and
//! run concurrently; only the disk writes go to blocking threads.

pub mod auth;
pub mod client;
pub mod config;
pub mod ingest;
pub mod login;
pub mod manifest;
pub mod platform;
pub mod pull;
pub mod push;

pub use auth::Credentials;
pub use config::RegistryConfig;
pub use pull::StoreAccess;
pub use pull::{pull, resolve, PullOptions, PullProgress, Resolved};

use crate::image::reference::ReferenceError;
use crate::image::store::{BlobError, StoreError};

/// What went wrong talking to a registry; [`RegistryError::kind`] says whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("manifest for {reference} not found: manifest unknown: {message}")]
    ManifestUnknown { reference: String, message: String },
    #[error("pull access denied for {repository}, repository does not exist or may require 'docker login': {message}")]
    Unauthorized { repository: String, message: String },
    #[error("Cannot reach the registry {registry} after {attempts} attempts: {message}")]
    Unreachable {
        registry: String,
        attempts: u32,
        message: String,
    },
    #[error("The registry {registry} answered: {message}")]
    Registry { registry: String, message: String },
    #[error("{reference} has a schema 1 manifest ({media_type}), which Berth does not support: push the image again with a current docker or build tool")]
    Schema1 {
        reference: String,
        media_type: String,
    },
    /// `size`: "N bytes", or "more than N bytes" when the registry did not say.
    #[error("The manifest of {reference} is {size}, over the 4 MiB limit")]
    ManifestTooLarge { reference: String, size: String },
    #[error("Malformed manifest for {reference}: {message}")]
    Malformed { reference: String, message: String },
    #[error("Unsupported manifest media type {media_type} for {reference}")]
    MediaType {
        reference: String,
        media_type: String,
    },
    #[error("no matching manifest for {platform} in the manifest list entries")]
    NoPlatform { platform: String },
    #[error("Invalid platform {0:?}: expected os[/arch[/variant]]")]
    BadPlatform(String),
    #[error("Invalid registry credentials: {0}")]
    BadCredentials(String),
    #[error("Cannot get credentials for {registry} from docker-credential-{helper}: {message}")]
    Helper {
        registry: String,
        helper: String,
        message: String,
    },
    #[error("Cannot read the engine configuration {path}: {message}")]
    Config { path: String, message: String },
    #[error("Cannot download {digest}: {message}")]
    Download { digest: String, message: String },
    #[error("Layer {digest} was rejected")]
    Blob {
        digest: String,
        #[source]
        source: BlobError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("login attempt to {url} failed with status: {status}{message}")]
    LoginFailed {
        url: String,
        status: String,
        message: String,
    },
    #[error("The pull was cancelled")]
    Cancelled,
}

/// Whose fault an error is, for the API's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: reference, platform, credentials format.
    Invalid,
    /// The image or tag does not exist.
    NotFound,
    /// The registry refused the credentials.
    Unauthorized,
    /// The registry or the network failed, or served bad content.
    Upstream,
    /// The engine itself failed (disk, store).
    Internal,
}

impl RegistryError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Reference(_) | Self::BadPlatform(_) | Self::BadCredentials(_) => {
                ErrorKind::Invalid
            }
            Self::ManifestUnknown { .. } | Self::NoPlatform { .. } => ErrorKind::NotFound,
            Self::Unauthorized { .. } | Self::LoginFailed { .. } => ErrorKind::Unauthorized,
            Self::Store(_) | Self::Config { .. } | Self::Cancelled => ErrorKind::Internal,
            Self::Blob {
                source: BlobError::Write { .. },
                ..
            } => ErrorKind::Internal,
            _ => ErrorKind::Upstream,
        }
    }
}

pub type Result<T> = std::result::Result<T, RegistryError>;
