//! How a container ended, as the monitor records it in `exit.json` for the engine (also for
//! an engine that was not running at the time), and the atomic writes of the monitor's
//! files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{MonitorError, EXIT_FILE};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// The exit code, or 128 + N for a process killed by signal N (as a shell reports it).
    pub exit_code: i32,
    /// The signal that killed the container's init, if one did.
    pub signal: Option<i32>,
    /// RFC 3339 with nanoseconds.
    pub finished_at: String,
    /// Whether the kernel's OOM killer killed a process of the container; absent when the
    /// container's memory cgroup could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_killed: Option<bool>,
    /// Problems of the monitor itself (a log it could not write, a runtime delete that
    /// failed), so they are not lost with its stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ExitRecord {
    /// From a wait status: exited with `code`, or killed by `signal`, at `finished`.
    pub fn new(code: Option<i32>, signal: Option<i32>, finished: SystemTime) -> ExitRecord {
        ExitRecord {
            exit_code: match (code, signal) {
                (_, Some(sig)) => 128 + sig,
                (Some(code), None) => code,
                (None, None) => -1,
            },
            signal,
            finished_at: crate::logs::format_rfc3339_nano(finished),
            oom_killed: None,
            error: None,
        }
    }

    /// The record of the container in `container_dir`; `Ok(None)` while it has not ended.
    pub fn load(container_dir: &Path) -> Result<Option<ExitRecord>, MonitorError> {
        let path = container_dir.join(EXIT_FILE);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(MonitorError::sys(format!("read {}", path.display()))(e)),
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(MonitorError::Config)
    }

    pub(super) fn save(&self, container_dir: &Path) -> Result<(), MonitorError> {
        let json = serde_json::to_vec(self).map_err(MonitorError::Config)?;
        write_atomic(&container_dir.join(EXIT_FILE), &json)
    }
}

/// Temp file, fsync, rename: a reader (or a crash) sees the old content or the new, never
/// a torn file. These files are written once or twice per container, so the fsync is cheap.
pub(super) fn write_atomic(path: &Path, content: &[u8]) -> Result<(), MonitorError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(content)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(MonitorError::sys(format!("write {}", path.display())))
}

/// The file counting OOM kills in the memory cgroup of `pid` (read while it lives), so the
/// count can be read after it exits: `memory.events` on cgroup v2, `memory.oom_control` on
/// v1. Both have an `oom_kill N` line (kernel 4.13+). Paths in /proc/PID/cgroup are relative
/// to our cgroup namespace, which is the one /sys/fs/cgroup shows.
pub(super) fn oom_counter(pid: i32) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if unified && controllers.is_empty() {
            return Some(Path::new("/sys/fs/cgroup").join(path).join("memory.events"));
        }
        if controllers.split(',').any(|c| c == "memory") {
            let dir = Path::new("/sys/fs/cgroup/memory").join(path);
            return Some(dir.join("memory.oom_control"));
        }
    }
    None
}

/// Whether the counter file says a process was OOM-killed; `None` when it cannot tell.
pub(super) fn oom_killed(counter: Option<&Path>) -> Option<bool> {
    let text = fs::read_to_string(counter?).ok()?;
    let count = text
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(count > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_shell_convention_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ExitRecord::load(dir.path()).unwrap(), None);
        let killed = ExitRecord::new(None, Some(9), SystemTime::now());
        assert_eq!((killed.exit_code, killed.signal), (137, Some(9)));
        let exited = ExitRecord::new(Some(3), None, SystemTime::now());
        assert_eq!((exited.exit_code, exited.signal), (3, None));
        exited.save(dir.path()).unwrap();
        assert_eq!(ExitRecord::load(dir.path()).unwrap(), Some(exited));
        assert!(!dir.path().join("exit.json.tmp").exists());
    }

    #[test]
    fn oom_counters_are_read_from_either_cgroup_version() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = dir.path().join("memory.oom_control");
        fs::write(&v1, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").unwrap();
        assert_eq!(oom_killed(Some(&v1)), Some(true));
        let v2 = dir.path().join("memory.events");
        fs::write(&v2, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").unwrap();
        assert_eq!(oom_killed(Some(&v2)), Some(false));
        assert_eq!(oom_killed(Some(&dir.path().join("missing"))), None);
        assert_eq!(oom_killed(None), None);
    }
}
