//! `monitor.json`: which process is a container's monitor. A pid can be reused once its
//! process is gone, so the start time from /proc/PID/stat is kept with it: a process with
//! that pid and another start time is not our monitor.

use std::path::Path;

use berth_runtime::state::{process_start_time, process_state_char};
use serde::{Deserialize, Serialize};

use crate::container::record::{read_json, write_json_atomic};
use crate::monitor::Started;

const FILE: &str = "monitor.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorIdentity {
    pub pid: i32,
    /// Field 22 of /proc/PID/stat; 0 when the monitor was gone before it could be read
    /// (a container that exited at once), which never matches a live process.
    pub start_time: u64,
    /// The container's init, as the monitor reported it.
    pub container_pid: i32,
}

impl MonitorIdentity {
    /// Reads the start time of the monitor `started` names, right after it reported.
    pub fn of(started: &Started) -> MonitorIdentity {
        MonitorIdentity {
            pid: started.monitor_pid,
            start_time: process_start_time(started.monitor_pid).unwrap_or(0),
            container_pid: started.container_pid,
        }
    }

    pub fn load(container_dir: &Path) -> Option<MonitorIdentity> {
        read_json(&container_dir.join(FILE)).ok()
    }

    pub fn save(&self, container_dir: &Path) -> std::io::Result<()> {
        write_json_atomic(&container_dir.join(FILE), self)
    }

    pub fn clear(container_dir: &Path) {
        let _ = std::fs::remove_file(container_dir.join(FILE));
    }

    /// Whether the monitor still runs: same pid, same start time, not a zombie.
    pub fn alive(&self) -> bool {
        self.pid > 0
            && self.start_time != 0
            && !matches!(process_state_char(self.pid), None | Some('Z' | 'X'))
            && process_start_time(self.pid) == Some(self.start_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_matches_only_with_its_own_start_time() {
        let me = std::process::id() as i32;
        let started = Started {
            monitor_pid: me,
            container_pid: 1,
        };
        let identity = MonitorIdentity::of(&started);
        assert!(identity.alive());
        let recycled = MonitorIdentity {
            start_time: identity.start_time + 1,
            ..identity
        };
        assert!(!recycled.alive());
        let gone = MonitorIdentity {
            pid: i32::MAX,
            ..identity
        };
        assert!(!gone.alive());

        let dir = tempfile::tempdir().unwrap();
        assert_eq!(MonitorIdentity::load(dir.path()), None);
        identity.save(dir.path()).unwrap();
        assert_eq!(MonitorIdentity::load(dir.path()), Some(identity));
        MonitorIdentity::clear(dir.path());
        assert_eq!(MonitorIdentity::load(dir.path()), None);
    }
}
