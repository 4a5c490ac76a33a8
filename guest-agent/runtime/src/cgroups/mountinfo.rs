//! Finds the cgroup v1 hierarchies from `/proc/self/mountinfo` (see proc(5)) rather than
//! assuming `/sys/fs/cgroup/<controller>`: distributions co-mount controllers
//! (`cpu,cpuacct`) and containers see other layouts.

use std::path::PathBuf;

/// The v1 controllers the kernel can mount (Documentation/admin-guide/cgroup-v1).
const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// One mounted v1 hierarchy: its controllers (or `name=...` for a named hierarchy with
/// none, like `name=systemd`) and where it is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    pub controllers: Vec<String>,
    pub mountpoint: PathBuf,
}

impl Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// Every v1 hierarchy in `mountinfo`, each once (a hierarchy bind-mounted twice keeps its
/// first mountpoint). `cgroup2` mounts are skipped: on a hybrid host the unified mount
/// carries no controllers worth managing.
pub(crate) fn v1_hierarchies(mountinfo: &str) -> Vec<Hierarchy> {
    let mut found: Vec<Hierarchy> = Vec::new();
    for line in mountinfo.lines() {
        let Some(hierarchy) = parse_line(line) else {
            continue;
        };
        if !found.iter().any(|h| h.controllers == hierarchy.controllers) {
            found.push(hierarchy);
        }
    }
    found
}

/// Fields: id parent dev root mountpoint options [optional...] - fstype source superopts.
fn parse_line(line: &str) -> Option<Hierarchy> {
    let (before, after) = line.split_once(" - ")?;
    let mountpoint = before.split(' ').nth(4)?;
    let mut after = after.split(' ');
    if after.next()? != "cgroup" {
        return None;
    }
    let super_options = after.nth(1)?;
    let controllers: Vec<String> = super_options
        .split(',')
        .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
        .map(str::to_owned)
        .collect();
    if controllers.is_empty() {
        return None;
    }
    Some(Hierarchy {
        controllers,
        mountpoint: PathBuf::from(unescape(mountpoint)),
    })
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
52 35 0:32 / /mnt/my\\040mem rw,relatime - cgroup cgroup rw,memory
";

    #[test]
    fn finds_v1_hierarchies_and_skips_cgroup2() {
        let found = v1_hierarchies(HYBRID);
        let summary: Vec<(String, String)> = found
            .iter()
            .map(|h| (h.controllers.join(","), h.mountpoint.display().to_string()))
            .collect();
        let expected = [
            ("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct"),
            ("memory", "/sys/fs/cgroup/memory"),
            ("name=systemd", "/sys/fs/cgroup/systemd"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(c, m)| (c.to_string(), m.to_string()))
            .collect();
        assert_eq!(summary, expected);
        assert!(found[0].has("cpuacct") && !found[0].has("memory"));
    }

    #[test]
    fn unescapes_octal_and_tolerates_junk() {
        assert_eq!(unescape("/mnt/my\\040mem"), "/mnt/my mem");
        assert_eq!(unescape("/a\\134b"), "/a\\b");
        assert_eq!(unescape("/trailing\\04"), "/trailing\\04");
        assert!(v1_hierarchies("garbage\n\n1 2 3\n").is_empty());
    }
}
