//! Volumes of the local driver: `<root>/volumes/<name>/_data` holds the content (bind-mounted
//! into containers), `<root>/volumes/<name>/meta.json` what docker keeps about it (labels,
//! creation time, whether it is anonymous, whether image content was copied in).
//!
//! A volume appears whole or not at all: it is built in a `.tmp-*` directory and renamed to
//! its name; removal renames it to `.rm-*` before deleting, so a crash never leaves half a
//! volume under a valid name. Names starting with `.` are never valid volume names, so those
//! leftovers are told apart and cleaned when the store is opened.
//!
//! Which volumes are in use is the container store's knowledge: `remove` and `prune` take a
//! predicate from the caller.

mod copy_up;
mod error;
mod meta;
mod name;
mod store;
mod usage;

#[cfg(test)]
mod tests_root;
#[cfg(test)]
mod tests_root_copy_up;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

pub use error::VolumeError;
pub use store::VolumeStore;
pub use usage::tree_size;

/// The label docker 23+ puts on anonymous volumes (and prunes by default).
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// The only driver there is.
pub const LOCAL_DRIVER: &str = "local";

/// A volume as `docker volume inspect` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    /// `<root>/volumes/<name>/_data`.
    pub mountpoint: PathBuf,
    pub created_at: SystemTime,
    pub labels: BTreeMap<String, String>,
    /// Created without a name (for an image VOLUME or `-v /path`).
    pub anonymous: bool,
}

/// A `label=KEY` or `label=KEY=VALUE` filter of `volume ls` and `volume prune`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelFilter {
    Has(String),
    Equals(String, String),
}

impl LabelFilter {
    /// Parses the value of a `label` filter.
    pub fn parse(filter: &str) -> LabelFilter {
        match filter.split_once('=') {
            Some((key, value)) => LabelFilter::Equals(key.to_string(), value.to_string()),
            None => LabelFilter::Has(filter.to_string()),
        }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            LabelFilter::Has(key) => labels.contains_key(key),
            LabelFilter::Equals(key, value) => labels.get(key) == Some(value),
        }
    }
}

/// What `prune` removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub deleted: Vec<String>,
    /// Bytes the removed volumes held.
    pub space_reclaimed: u64,
}
