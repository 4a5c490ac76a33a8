//! `stats`: CPU time, memory and pids of a container, read from its cgroup (v1: the
//! `cpuacct`, `memory` and `pids` hierarchies found in /proc/self/mountinfo; v2: the
//! unified hierarchy at /sys/fs/cgroup).

use std::path::{Path, PathBuf};

use super::{Engine, EngineError};
use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::container::record::Status;

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// One sample. `memory_limit` is `None` when unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub cpu_usage_ns: u64,
    pub memory_usage: u64,
    pub memory_limit: Option<u64>,
    pub pids: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("No cgroup v1 hierarchy has the {0} controller")]
    NoController(&'static str),
    #[error("Cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Unexpected content in {0}")]
    Parse(PathBuf),
}

impl From<EngineError> for StatsError {
    fn from(e: EngineError) -> Self {
        StatsError::Engine(Box::new(e))
    }
}

impl StatsError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StatsError::Engine(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

impl Engine {
    /// A sample of the running (or paused) container `reference`.
    pub fn stats(&self, reference: &str) -> Result<Stats, StatsError> {
        let cgroup = self.inner.locked(reference, |ctx, record| {
            match ctx.containers.status(&record.id)?.status {
                Status::Running | Status::Paused => {}
                _ => return Err(LifecycleError::NotRunning(record.id.clone())),
            }
            let container = berth_runtime::Container::load(ctx.runtime_root, &record.id)?;
            Ok(container.cgroup()?)
        })?;
        let relative = cgroup.path().strip_prefix("/").unwrap_or(cgroup.path());
        if cgroup.is_v2() {
            v2(&Path::new(CGROUP_MOUNT).join(relative))
        } else {
            let mountinfo = read(Path::new("/proc/self/mountinfo"))?;
            let dir = |controller| {
                v1_mountpoint(&mountinfo, controller)
                    .map(|m| m.join(relative))
                    .ok_or(StatsError::NoController(controller))
            };
            v1(&dir("cpuacct")?, &dir("memory")?, &dir("pids")?)
        }
    }
}

fn v1(cpuacct: &Path, memory: &Path, pids: &Path) -> Result<Stats, StatsError> {
    let limit = number(&memory.join("memory.limit_in_bytes"))?;
    Ok(Stats {
        cpu_usage_ns: number(&cpuacct.join("cpuacct.usage"))?,
        memory_usage: number(&memory.join("memory.usage_in_bytes"))?,
        // v1 writes "no limit" as the largest page-aligned i64.
        memory_limit: (limit < i64::MAX as u64 / 2).then_some(limit),
        pids: number(&pids.join("pids.current"))?,
    })
}

fn v2(dir: &Path) -> Result<Stats, StatsError> {
    let cpu_stat = dir.join("cpu.stat");
    let usage_usec = read(&cpu_stat)?
        .lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| StatsError::Parse(cpu_stat.clone()))?;
    let max = dir.join("memory.max");
    let limit = match read(&max)?.trim() {
        "max" => None,
        value => Some(value.parse().map_err(|_| StatsError::Parse(max))?),
    };
    Ok(Stats {
        cpu_usage_ns: usage_usec.saturating_mul(1000),
        memory_usage: number(&dir.join("memory.current"))?,
        memory_limit: limit,
        pids: number(&dir.join("pids.current"))?,
    })
}

/// Where the v1 hierarchy holding `controller` is mounted: mountinfo fields are `id parent
/// dev root mountpoint options [optional...] - fstype source superoptions`.
pub fn v1_mountpoint(mountinfo: &str, controller: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let mut after = after.split(' ');
        if after.next()? != "cgroup" {
            return None;
        }
        let options = after.nth(1)?;
        let mountpoint = before.split(' ').nth(4)?;
        options
            .split(',')
            .any(|o| o == controller)
            .then(|| PathBuf::from(mountpoint))
    })
}

fn read(path: &Path) -> Result<String, StatsError> {
    std::fs::read_to_string(path).map_err(|source| StatsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn number(path: &Path) -> Result<u64, StatsError> {
    read(path)?
        .trim()
        .parse()
        .map_err(|_| StatsError::Parse(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_hierarchy_of_a_controller_even_when_co_mounted() {
        let text = "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct\n\
                    31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                    32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            v1_mountpoint(text, "cpuacct"),
            Some(PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            v1_mountpoint(text, "memory"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert_eq!(v1_mountpoint(text, "pids"), None);
    }

    #[test]
    fn reads_v2_files() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
        write("memory.current", "4096\n");
        write("memory.max", "max\n");
        write("pids.current", "2\n");
        let stats = v2(dir.path()).unwrap();
        assert_eq!(
            stats,
            Stats {
                cpu_usage_ns: 1_500_000,
                memory_usage: 4096,
                memory_limit: None,
                pids: 2
            }
        );
    }
}
