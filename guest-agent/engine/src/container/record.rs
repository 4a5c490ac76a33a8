//! What the engine remembers about a container: its configuration (written once, at
//! create, and on rename) and its lifecycle state (rewritten on every transition). Both are
//! written to a temporary file and renamed, so an engine killed at any moment leaves the old
//! or the new version.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::ContainerConfig;

/// The container as created. `name` has no leading '/'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The image's ID (its config digest) at create time.
    pub image_id: String,
    pub config: ContainerConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

/// Docker's State object, as the engine tracks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerStatus {
    pub status: Status,
    /// Pid of the container's init on the engine's host, 0 when not running.
    pub pid: i32,
    pub exit_code: i32,
    pub oom_killed: bool,
    pub error: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub restart_count: u32,
    /// Set by an explicit stop, so `unless-stopped` and `always` know not to restart it
    /// after an engine restart.
    pub stopped_by_user: bool,
}

/// temp + fsync + rename, then fsync of the directory: the rename itself survives a crash.
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state")
    ));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec(value).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}
