//! Pure translations from OCI resource values to the strings cgroup files accept.
//!
//! Nothing here touches the filesystem, so every rule is unit-tested on any host.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// The CFS period the kernel uses when none is given (100 ms).
pub(crate) const DEFAULT_CPU_PERIOD_US: u64 = 100_000;

/// Why a value cannot be written; the caller adds the name of the limit.
pub(crate) type Invalid = String;

/// cgroup v2 `cpu.weight` from v1-style `cpu.shares`; `None` when shares are unset (0).
///
/// Maps the v1 range [2, 262144] linearly onto the v2 range [1, 10000], the formula every
/// runtime uses so a container gets the same weight whichever runtime starts it.
pub(crate) fn shares_to_weight(shares: u64) -> Option<u64> {
    if shares == 0 {
        return None;
    }
    let shares = shares.clamp(2, 262_144);
    Some(1 + ((shares - 2) * 9999) / 262_142)
}

/// cgroup v2 `cpu.max` ("quota period" or "max period"); `None` when neither is set.
pub(crate) fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    if quota.is_none() && period.is_none() {
        return None;
    }
    let period = period.filter(|p| *p > 0).unwrap_or(DEFAULT_CPU_PERIOD_US);
    Some(match quota {
        Some(q) if q > 0 => format!("{q} {period}"),
        _ => format!("max {period}"),
    })
}

/// A memory byte count for v2 files: -1 means unlimited ("max").
pub(crate) fn memory_v2(bytes: i64) -> Result<String, Invalid> {
    match bytes {
        -1 => Ok("max".to_owned()),
        b if b >= 0 => Ok(b.to_string()),
        b => Err(format!("{b} is negative and not -1 (unlimited)")),
    }
}

/// A memory byte count for v1 files, which take -1 for unlimited themselves.
pub(crate) fn memory_v1(bytes: i64) -> Result<String, Invalid> {
    if bytes < -1 {
        return Err(format!("{bytes} is negative and not -1 (unlimited)"));
    }
    Ok(bytes.to_string())
}

/// cgroup v2 `memory.swap.max` from OCI `swap` (memory + swap, runc semantics).
///
/// v1 limits memory+swap together while v2 limits swap alone, so the v2 value is the
/// difference. Swap 0 means unset (as in runc); swap -1, or an unlimited memory with
/// swap unset, means unlimited swap.
pub(crate) fn swap_v2(limit: Option<i64>, swap: Option<i64>) -> Result<Option<String>, Invalid> {
    match (limit, swap.filter(|s| *s != 0)) {
        (Some(-1), None) | (_, Some(-1)) => Ok(Some("max".to_owned())),
        (_, None) => Ok(None),
        (None | Some(-1) | Some(0), Some(_)) => {
            Err("a swap limit needs a memory limit as well".to_owned())
        }
        (Some(mem), Some(swap)) if swap < mem => Err(format!(
            "memory+swap ({swap}) must not be lower than the memory limit ({mem})"
        )),
        (Some(mem), Some(_)) if mem < 0 => Err(format!("memory limit {mem} is negative")),
        (Some(mem), Some(swap)) => Ok(Some((swap - mem).to_string())),
    }
}

/// `pids.max`: a positive count, anything else is unlimited (0 is "unset" in OCI).
pub(crate) fn pids_max(limit: i64) -> String {
    if limit > 0 {
        limit.to_string()
    } else {
        "max".to_owned()
    }
}

/// cgroup v2 `io.weight` [1, 10000] from the v1 blkio weight [10, 1000].
pub(crate) fn blkio_to_io_weight(weight: u16) -> u64 {
    let weight = u64::from(weight.clamp(10, 1000));
    1 + ((weight - 10) * 9999) / 990
}

/// "major:minor", refusing negative numbers (they would be wildcards in a device rule).
pub(crate) fn device_number(major: i64, minor: i64) -> Result<String, Invalid> {
    if major < 0 || minor < 0 {
        return Err(format!("device {major}:{minor} has a negative number"));
    }
    Ok(format!("{major}:{minor}"))
}

/// Device access bits, valued as the kernel's `DEVCG_ACC_*` (and `BPF_DEVCG_ACC_*`).
pub(crate) const ACCESS_MKNOD: u32 = 1;
pub(crate) const ACCESS_READ: u32 = 2;
pub(crate) const ACCESS_WRITE: u32 = 4;
pub(crate) const ACCESS_ALL: u32 = ACCESS_READ | ACCESS_WRITE | ACCESS_MKNOD;

/// Which device nodes a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// Type "a": every device, whatever the numbers; resets the rule list.
    All,
    Block,
    Char,
}

/// A spec device rule, checked and with defaults filled in, shared by v1 (kernel files)
/// and v2 (eBPF program) so both read a rule the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceRule {
    pub allow: bool,
    pub kind: DeviceKind,
    /// `None` is the wildcard (unset or -1 in the spec).
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// `ACCESS_*` bits, never empty.
    pub access: u32,
}

/// Checks a spec device rule: no FIFO type, numbers -1 (wildcard) or within u32 as the
/// kernel parses them, access made of r, w and m (empty or unset means all three).
pub(crate) fn parse_device_rule(rule: &LinuxDeviceCgroup) -> Result<DeviceRule, Invalid> {
    let kind = match rule.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => DeviceKind::All,
        LinuxDeviceType::B => DeviceKind::Block,
        // Unbuffered character devices are character devices to the kernel.
        LinuxDeviceType::C | LinuxDeviceType::U => DeviceKind::Char,
        LinuxDeviceType::P => return Err("FIFO devices cannot be in a device rule".to_owned()),
    };
    let number = |n: Option<i64>| match n {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| format!("device number {n} is not -1 or within 0..=4294967295")),
    };
    let access = rule.access().as_deref().unwrap_or("");
    let mut bits = 0;
    for c in access.chars() {
        bits |= match c {
            'r' => ACCESS_READ,
            'w' => ACCESS_WRITE,
            'm' => ACCESS_MKNOD,
            _ => {
                return Err(format!(
                    "device access {access:?} is not made of r, w and m"
                ))
            }
        };
    }
    Ok(DeviceRule {
        allow: rule.allow(),
        kind,
        major: number(rule.major())?,
        minor: number(rule.minor())?,
        access: if bits == 0 { ACCESS_ALL } else { bits },
    })
}

/// One v1 devices-controller rule, "type major:minor access", e.g. "c 1:3 rwm".
pub(crate) fn device_rule(rule: &LinuxDeviceCgroup) -> Result<String, Invalid> {
    let rule = parse_device_rule(rule)?;
    let kind = match rule.kind {
        DeviceKind::All => 'a',
        DeviceKind::Block => 'b',
        DeviceKind::Char => 'c',
    };
    let number = |n: Option<u32>| n.map_or("*".to_owned(), |n| n.to_string());
    let access: String = [(ACCESS_READ, 'r'), (ACCESS_WRITE, 'w'), (ACCESS_MKNOD, 'm')]
        .iter()
        .filter(|(bit, _)| rule.access & bit != 0)
        .map(|(_, c)| c)
        .collect();
    let (major, minor) = (number(rule.major), number(rule.minor));
    Ok(format!("{kind} {major}:{minor} {access}"))
}

/// Checks a hugepage size such as "2MB" or "1GB"; it becomes part of a file name.
pub(crate) fn hugepage_size(size: &str) -> Result<&str, Invalid> {
    let digits = size.trim_end_matches(['K', 'M', 'G', 'B']);
    let unit = &size[digits.len()..];
    let valid_unit = matches!(unit, "KB" | "MB" | "GB");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !valid_unit {
        return Err(format!("page size {size:?} is not like 2MB or 1GB"));
    }
    Ok(size)
}

/// cgroup v2 core files a `unified` entry must not write: they move or kill processes or
/// change the tree, which the runtime manages itself.
const RESERVED_UNIFIED_KEYS: &[&str] = &[
    "cgroup.procs",
    "cgroup.threads",
    "cgroup.kill",
    "cgroup.freeze",
    "cgroup.subtree_control",
    "cgroup.type",
];

/// Checks a `unified` key, which names a file inside the container's cgroup.
pub(crate) fn unified_key(key: &str) -> Result<&str, Invalid> {
    if key.is_empty() || key.contains('/') || key.contains("..") || key.contains('\0') {
        return Err(format!("key {key:?} is not a plain cgroup file name"));
    }
    if RESERVED_UNIFIED_KEYS.contains(&key) {
        return Err(format!("key {key:?} is managed by the runtime"));
    }
    Ok(key)
}

/// One `rdma.max` line, "device hca_handle=N hca_object=M".
pub(crate) fn rdma_line(
    device: &str,
    handles: Option<u32>,
    objects: Option<u32>,
) -> Result<Option<String>, Invalid> {
    if device.is_empty() || device.contains(|c: char| c.is_whitespace() || c == '\0') {
        return Err(format!("RDMA device name {device:?} is not a single word"));
    }
    let mut line = device.to_owned();
    if let Some(h) = handles {
        line.push_str(&format!(" hca_handle={h}"));
    }
    if let Some(o) = objects {
        line.push_str(&format!(" hca_object={o}"));
    }
    Ok((handles.is_some() || objects.is_some()).then_some(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    #[test]
    fn shares_map_onto_the_weight_range() {
        let cases = [(0, None), (2, Some(1)), (1, Some(1)), (1024, Some(39))];
        for (shares, weight) in cases {
            assert_eq!(shares_to_weight(shares), weight, "shares {shares}");
        }
        assert_eq!(shares_to_weight(262_144), Some(10_000));
        assert_eq!(shares_to_weight(u64::MAX), Some(10_000));
    }

    #[test]
    fn cpu_max_formats_quota_and_period() {
        assert_eq!(cpu_max(None, None), None);
        assert_eq!(cpu_max(Some(50_000), None).unwrap(), "50000 100000");
        assert_eq!(cpu_max(Some(20_000), Some(50_000)).unwrap(), "20000 50000");
        assert_eq!(cpu_max(Some(-1), Some(50_000)).unwrap(), "max 50000");
        assert_eq!(cpu_max(None, Some(10_000)).unwrap(), "max 10000");
        assert_eq!(cpu_max(Some(0), Some(0)).unwrap(), "max 100000");
    }

    #[test]
    fn memory_values() {
        assert_eq!(memory_v2(-1).unwrap(), "max");
        assert_eq!(memory_v2(67_108_864).unwrap(), "67108864");
        assert!(memory_v2(-2).is_err());
        assert_eq!(memory_v1(-1).unwrap(), "-1");
        assert!(memory_v1(-5).is_err());
    }

    #[test]
    fn swap_follows_runc_semantics() {
        let mib = |n: i64| n << 20;
        let max = Some("max".to_owned());
        assert_eq!(swap_v2(None, None).unwrap(), None);
        assert_eq!(swap_v2(Some(mib(64)), None).unwrap(), None);
        assert_eq!(swap_v2(Some(mib(64)), Some(0)).unwrap(), None);
        assert_eq!(swap_v2(Some(-1), None).unwrap(), max);
        assert_eq!(swap_v2(Some(mib(64)), Some(-1)).unwrap(), max);
        let both = swap_v2(Some(mib(64)), Some(mib(96))).unwrap();
        assert_eq!(both, Some(mib(32).to_string()));
        assert_eq!(swap_v2(Some(mib(64)), Some(mib(64))).unwrap().unwrap(), "0");
        assert!(swap_v2(Some(mib(64)), Some(mib(32))).is_err());
        assert!(swap_v2(None, Some(mib(32))).is_err());
        assert!(swap_v2(Some(-1), Some(mib(32))).is_err());
    }

    #[test]
    fn pids_and_io_weight() {
        assert_eq!(pids_max(20), "20");
        assert_eq!(pids_max(0), "max");
        assert_eq!(pids_max(-1), "max");
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(500), 4950);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert_eq!(blkio_to_io_weight(5), 1);
    }

    fn rule(typ: LinuxDeviceType, major: Option<i64>, minor: Option<i64>, access: &str) -> String {
        let mut b = LinuxDeviceCgroupBuilder::default().typ(typ).access(access);
        if let Some(m) = major {
            b = b.major(m);
        }
        if let Some(m) = minor {
            b = b.minor(m);
        }
        device_rule(&b.build().unwrap()).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn device_rules() {
        use LinuxDeviceType::*;
        assert_eq!(rule(A, None, None, "rwm"), "a *:* rwm");
        assert_eq!(rule(C, Some(1), Some(3), "rwm"), "c 1:3 rwm");
        assert_eq!(rule(U, Some(5), None, "rw"), "c 5:* rw");
        assert_eq!(rule(B, Some(8), Some(-1), "r"), "b 8:* r");
        assert_eq!(rule(C, Some(1), Some(3), ""), "c 1:3 rwm");
        assert!(rule(P, None, None, "rwm").starts_with("error"));
        assert!(rule(C, Some(1), Some(3), "rwx\n").starts_with("error"));
        assert!(rule(C, Some(-4), Some(3), "r").starts_with("error"));
        assert!(rule(C, Some(1 << 32), Some(3), "r").starts_with("error"));
        assert_eq!(rule(B, Some(8), Some(0), "mwr"), "b 8:0 rwm");
        assert_eq!(device_number(8, 0).unwrap(), "8:0");
        assert!(device_number(-1, 0).is_err());
    }

    #[test]
    fn hugepage_sizes_are_checked() {
        for good in ["2MB", "1GB", "64KB"] {
            assert_eq!(hugepage_size(good).unwrap(), good);
        }
        for bad in ["", "MB", "2mb", "2M", "../2MB", "2MB/x", "2 MB", "2BB"] {
            assert!(hugepage_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unified_keys_are_checked() {
        assert_eq!(unified_key("memory.high").unwrap(), "memory.high");
        for bad in [
            "",
            "../memory.max",
            "a/b",
            "..",
            "x\0",
            "cgroup.procs",
            "cgroup.kill",
        ] {
            assert!(unified_key(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rdma_lines() {
        assert_eq!(rdma_line("mlx5_0", None, None).unwrap(), None);
        let line = rdma_line("mlx5_0", Some(3), Some(9)).unwrap().unwrap();
        assert_eq!(line, "mlx5_0 hca_handle=3 hca_object=9");
        assert!(rdma_line("a b", Some(1), None).is_err());
    }
}
