//! `stats`: CPU time, memory, pids and block io of a container, read from its cgroup (v1:
//! the `cpuacct`, `memory`, `pids` and `blkio` hierarchies found in /proc/self/mountinfo;
//! v2: the unified hierarchy at /sys/fs/cgroup), and network bytes from
//! `/proc/<init pid>/net/dev`, which shows the init's (the container's) network namespace.
//!
//! Block io counts what reached a block device: v1's blkio throttle counters miss
//! buffered writes that the kernel flushes later outside the cgroup's context, and writes
//! to an overlay upper dir on tmpfs reach no device at all; both then show 0.

use std::path::{Path, PathBuf};

use super::{Engine, EngineError};
use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::container::record::Status;

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// One sample. `memory_limit` is `None` when unlimited. Network bytes are summed over
/// the container's interfaces except `lo`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub cpu_usage_ns: u64,
    pub memory_usage: u64,
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
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
        let (cgroup, pid) = self.inner.locked(reference, |ctx, record| {
            match ctx.containers.status(&record.id)?.status {
                Status::Running | Status::Paused => {}
                _ => return Err(LifecycleError::NotRunning(record.id.clone())),
            }
            let container = berth_runtime::Container::load(ctx.runtime_root, &record.id)?;
            Ok((container.cgroup()?, container.state.pid))
        })?;
        let relative = cgroup.path().strip_prefix("/").unwrap_or(cgroup.path());
        let mut stats = if cgroup.is_v2() {
            let dir = Path::new(CGROUP_MOUNT).join(relative);
            let (read, write) = block_io(&dir.join("io.stat"), IoFormat::V2)?;
            Stats {
                block_read_bytes: read,
                block_write_bytes: write,
                ..v2(&dir)?
            }
        } else {
            let mountinfo = read(Path::new("/proc/self/mountinfo"))?;
            let dir = |controller| {
                v1_mountpoint(&mountinfo, controller)
                    .map(|m| m.join(relative))
                    .ok_or(StatsError::NoController(controller))
            };
            let blkio = dir("blkio")?.join("blkio.throttle.io_service_bytes_recursive");
            let (read, write) = block_io(&blkio, IoFormat::V1)?;
            Stats {
                block_read_bytes: read,
                block_write_bytes: write,
                ..v1(&dir("cpuacct")?, &dir("memory")?, &dir("pids")?)?
            }
        };
        let net_dev = PathBuf::from(format!("/proc/{pid}/net/dev"));
        (stats.net_rx_bytes, stats.net_tx_bytes) = network(&net_dev)?;
        Ok(stats)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IoFormat {
    /// `<maj:min> Read <bytes>` and `<maj:min> Write <bytes>` lines (and others), then
    /// `Total <bytes>`.
    V1,
    /// `<maj:min> rbytes=<n> wbytes=<n> rios=<n> ...`, one line per device.
    V2,
}

/// Bytes read and written, summed over devices. A missing file (v2 without the io
/// controller enabled for the container) reads as none.
fn block_io(path: &Path, format: IoFormat) -> Result<(u64, u64), StatsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(source) => {
            let path = path.to_path_buf();
            return Err(StatsError::Read { path, source });
        }
    };
    let parse = |v: &str| {
        v.parse::<u64>()
            .map_err(|_| StatsError::Parse(path.to_path_buf()))
    };
    let (mut read, mut write) = (0u64, 0u64);
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if !fields.next().is_some_and(|device| device.contains(':')) {
            continue;
        }
        match format {
            IoFormat::V1 => match (fields.next(), fields.next()) {
                (Some("Read"), Some(v)) => read = read.saturating_add(parse(v)?),
                (Some("Write"), Some(v)) => write = write.saturating_add(parse(v)?),
                _ => {}
            },
            IoFormat::V2 => {
                for field in fields {
                    match field.split_once('=') {
                        Some(("rbytes", v)) => read = read.saturating_add(parse(v)?),
                        Some(("wbytes", v)) => write = write.saturating_add(parse(v)?),
                        _ => {}
                    }
                }
            }
        }
    }
    Ok((read, write))
}

/// Bytes received and sent, summed over the interfaces of a `/proc/<pid>/net/dev` except
/// `lo`: `<iface>: <rx bytes> <7 more rx fields> <tx bytes> ...` after two header lines.
fn network(path: &Path) -> Result<(u64, u64), StatsError> {
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in read(path)?.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            return Err(StatsError::Parse(path.to_path_buf()));
        };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<&str> = counters.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| StatsError::Parse(path.to_path_buf()))
        };
        rx = rx.saturating_add(field(0)?);
        tx = tx.saturating_add(field(8)?);
    }
    Ok((rx, tx))
}

fn v1(cpuacct: &Path, memory: &Path, pids: &Path) -> Result<Stats, StatsError> {
    let limit = number(&memory.join("memory.limit_in_bytes"))?;
    Ok(Stats {
        cpu_usage_ns: number(&cpuacct.join("cpuacct.usage"))?,
        memory_usage: number(&memory.join("memory.usage_in_bytes"))?,
        // v1 writes "no limit" as the largest page-aligned i64.
        memory_limit: (limit < i64::MAX as u64 / 2).then_some(limit),
        pids: number(&pids.join("pids.current"))?,
        ..Stats::default()
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
        ..Stats::default()
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
                pids: 2,
                ..Stats::default()
            }
        );
    }

    #[test]
    fn sums_block_io_of_every_device() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = dir.path().join("v1");
        std::fs::write(
            &v1,
            "8:0 Read 4096\n8:0 Write 1048576\n8:0 Sync 0\n8:16 Read 1\n8:16 Write 2\nTotal 1052675\n",
        )
        .unwrap();
        assert_eq!(block_io(&v1, IoFormat::V1).unwrap(), (4097, 1048578));
        let v2 = dir.path().join("v2");
        std::fs::write(
            &v2,
            "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n254:0 rbytes=1 wbytes=2\n",
        )
        .unwrap();
        assert_eq!(block_io(&v2, IoFormat::V2).unwrap(), (11, 22));
        assert_eq!(
            block_io(&dir.path().join("none"), IoFormat::V2).unwrap(),
            (0, 0)
        );
        std::fs::write(&v2, "8:0 rbytes=x\n").unwrap();
        assert!(block_io(&v2, IoFormat::V2).is_err());
    }

    #[test]
    fn sums_network_bytes_without_lo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev");
        std::fs::write(
            &path,
            "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
             lo: 9000      10    0    0    0     0          0         0     9000      10    0    0    0     0       0          0\n  \
             eth0: 1500      3    0    0    0     0          0         0      700       2    0    0    0     0       0          0\n  \
             eth1: 5      1    0    0    0     0          0         0      6       1    0    0    0     0       0          0\n",
        )
        .unwrap();
        assert_eq!(network(&path).unwrap(), (1505, 706));
    }
}
