//! `volumes/<name>/meta.json`: what docker keeps in its volume database, written as a temp
//! file then renamed over the old one (and synced), so a crash leaves the old or the new
//! version, never a torn one. It lives beside `_data`, out of every container's reach.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::error::{io_err, VolumeError};

pub(super) const META_FILE: &str = "meta.json";
const META_TMP: &str = "meta.json.tmp";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Meta {
    pub name: String,
    pub driver: String,
    pub created_at: SystemTime,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub anonymous: bool,
    /// Image content was copied into the volume once; it never is again.
    #[serde(default)]
    pub copied_up: bool,
}

pub(super) fn read(dir: &Path) -> Result<Meta, VolumeError> {
    let path = dir.join(META_FILE);
    let bytes = std::fs::read(&path).map_err(io_err("read", &path))?;
    serde_json::from_slice(&bytes).map_err(|source| VolumeError::BadMeta {
        path: path.display().to_string(),
        source,
    })
}

pub(super) fn write(dir: &Path, meta: &Meta) -> Result<(), VolumeError> {
    let tmp = dir.join(META_TMP);
    let path = dir.join(META_FILE);
    let json = serde_json::to_vec_pretty(meta).expect("volume metadata serialises");
    let mut file = File::create(&tmp).map_err(io_err("create", &tmp))?;
    file.write_all(&json).map_err(io_err("write", &tmp))?;
    file.sync_all().map_err(io_err("sync", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err("rename into place", &path))?;
    // The rename itself is durable once the directory is synced.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))
}
