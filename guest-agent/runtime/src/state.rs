//! The per-container state directory under `--root`: `state.json` (written atomically) and
//! `exec.fifo`, whose existence means "created, not started yet".

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::kill;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::error::{Context, Result, RuntimeError};

pub const STATE_FILE: &str = "state.json";
pub const EXEC_FIFO: &str = "exec.fifo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        };
        f.pad(text)
    }
}

/// What `state` prints: the OCI state plus the fields runc adds (podman reads them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    #[serde(default)]
    pub pid: i32,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// Start time of the init process (field 22 of /proc/PID/stat), so a recycled pid is
    /// never mistaken for the container.
    #[serde(default)]
    pub init_start_time: u64,
    /// The cgroup path relative to the hierarchy root, as the cgroup manager resolved it.
    #[serde(default)]
    pub cgroup_path: PathBuf,
}

impl ContainerState {
    pub fn dir(root: &Path, id: &str) -> PathBuf {
        root.join(id)
    }

    pub fn load(root: &Path, id: &str) -> Result<Self> {
        let path = Self::dir(root, id).join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RuntimeError::NotFound(id.to_string()))
            }
            Err(source) => return Err(RuntimeError::State { path, source }),
        };
        let mut state: Self = serde_json::from_slice(&bytes).map_err(|e| RuntimeError::State {
            path: path.clone(),
            source: e.into(),
        })?;
        state.status = state.current_status(root);
        Ok(state)
    }

    /// Write to a temporary file and rename it over the old one: a crash at any moment
    /// leaves either the old or the new state, never a torn one. No fsync: the state root
    /// is meant to be a tmpfs (/run), whose content does not outlive a reboot anyway.
    pub fn save(&self, root: &Path) -> Result<()> {
        let dir = Self::dir(root, &self.id);
        let tmp = dir.join(".state.json.tmp");
        let json = serde_json::to_vec(self).expect("state serialises");
        let mut file = fs::File::create(&tmp)
            .context(|| format!("Cannot write container state in {}", dir.display()))?;
        file.write_all(&json)
            .context(|| format!("Cannot write container state in {}", dir.display()))?;
        fs::rename(&tmp, dir.join(STATE_FILE))
            .context(|| format!("Cannot write container state in {}", dir.display()))
    }

    /// The status the container really has now: a dead (or recycled) init pid means
    /// stopped; an init still waiting on the exec fifo means created.
    pub fn current_status(&self, root: &Path) -> Status {
        if self.status == Status::Creating || self.status == Status::Stopped {
            return self.status;
        }
        if self.pid <= 0 || !self.init_alive() {
            return Status::Stopped;
        }
        if Self::dir(root, &self.id).join(EXEC_FIFO).exists() {
            Status::Created
        } else {
            Status::Running
        }
    }

    pub fn init_alive(&self) -> bool {
        if kill(Pid::from_raw(self.pid), None).is_err() {
            return false;
        }
        // A zombie has exited; only its parent has not reaped it yet.
        if matches!(process_state_char(self.pid), Some('Z' | 'X') | None) {
            return false;
        }
        match process_start_time(self.pid) {
            Some(start) => self.init_start_time == 0 || start == self.init_start_time,
            None => false,
        }
    }

    /// The OCI `state` JSON as runc prints it.
    pub fn to_oci_json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({
            "ociVersion": self.oci_version,
            "id": self.id,
            "status": self.status.to_string(),
            "pid": if self.status == Status::Stopped { 0 } else { self.pid },
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
        });
        if !self.annotations.is_empty() {
            value["annotations"] = serde_json::json!(self.annotations);
        }
        value
    }
}

/// Field 22 of /proc/PID/stat (start time in clock ticks). The command name (field 2) may
/// contain spaces and parentheses, so parse from the last ')'.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    // rest starts at field 3 (state); start time is field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The state of a process from /proc/PID/stat: 'Z' zombie, 'X' dead, ...
pub fn process_state_char(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_self_is_stable_and_dead_pids_have_none() {
        let me = std::process::id() as i32;
        let a = process_start_time(me).unwrap();
        assert_eq!(Some(a), process_start_time(me));
        assert_eq!(process_start_time(i32::MAX), None);
    }

    #[test]
    fn state_survives_a_save_and_load_round_trip() {
        let root = std::env::temp_dir().join(format!("berth-state-test-{}", std::process::id()));
        fs::create_dir_all(root.join("c1")).unwrap();
        let state = ContainerState {
            oci_version: "1.2.0".into(),
            id: "c1".into(),
            status: Status::Created,
            pid: std::process::id() as i32,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: now_rfc3339(),
            owner: "root".into(),
            annotations: HashMap::new(),
            init_start_time: process_start_time(std::process::id() as i32).unwrap(),
            cgroup_path: "/berth/c1".into(),
        };
        state.save(&root).unwrap();
        // No exec.fifo and a live pid: running.
        assert_eq!(
            ContainerState::load(&root, "c1").unwrap().status,
            Status::Running
        );
        fs::write(root.join("c1").join(EXEC_FIFO), b"").unwrap();
        assert_eq!(
            ContainerState::load(&root, "c1").unwrap().status,
            Status::Created
        );
        let mut dead = state.clone();
        dead.init_start_time += 1; // a recycled pid
        dead.save(&root).unwrap();
        assert_eq!(
            ContainerState::load(&root, "c1").unwrap().status,
            Status::Stopped
        );
        assert!(matches!(
            ContainerState::load(&root, "nope"),
            Err(RuntimeError::NotFound(_))
        ));
        fs::remove_dir_all(&root).unwrap();
    }
}
