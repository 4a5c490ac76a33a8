//! The base `config.json` every test bundle starts from.
//!
//! Kept equal to tests/fixtures/busybox-bundle.sh at the repo root: moby's 14
//! default capabilities, moby's masked and read-only paths, and the mounts of
//! `runc spec` (proc, /dev tmpfs, devpts, shm, mqueue, sysfs, read-only cgroup).

use serde_json::{json, Value};

/// Moby's default capability set, as (name, bit number in the kernel's mask).
pub const MOBY_CAPS: [(&str, u32); 14] = [
    ("CAP_CHOWN", 0),
    ("CAP_DAC_OVERRIDE", 1),
    ("CAP_FOWNER", 3),
    ("CAP_FSETID", 4),
    ("CAP_KILL", 5),
    ("CAP_SETGID", 6),
    ("CAP_SETUID", 7),
    ("CAP_SETPCAP", 8),
    ("CAP_NET_BIND_SERVICE", 10),
    ("CAP_NET_RAW", 13),
    ("CAP_SYS_CHROOT", 18),
    ("CAP_MKNOD", 27),
    ("CAP_AUDIT_WRITE", 29),
    ("CAP_SETFCAP", 31),
];

/// Moby's default masked paths (bind-mounted over with /dev/null or an empty tmpfs).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Moby's default read-only paths.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The PATH a container process gets.
pub const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The kernel's capability mask for the named capabilities (as printed, in hex,
/// by /proc/self/status). Panics on a name not in [`MOBY_CAPS`] or [`EXTRA_CAPS`].
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |mask, name| mask | 1 << cap_bit(name))
}

/// Capabilities outside moby's default set that tests request.
pub const EXTRA_CAPS: [(&str, u32); 3] = [
    ("CAP_NET_ADMIN", 12),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_SYS_PTRACE", 19),
];

fn cap_bit(name: &str) -> u32 {
    MOBY_CAPS
        .iter()
        .chain(EXTRA_CAPS.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, bit)| *bit)
        .unwrap_or_else(|| panic!("unknown capability {name}"))
}

/// Names of moby's default capabilities.
pub fn moby_cap_names() -> Vec<&'static str> {
    MOBY_CAPS.iter().map(|(name, _)| *name).collect()
}

/// The `process.capabilities` object granting exactly `names` (no ambient or inheritable).
pub fn capabilities(names: &[&str]) -> Value {
    json!({ "bounding": names, "effective": names, "permitted": names })
}

/// The base spec; `cgroups_path` keeps each container in its own cgroup.
pub fn base(cgroups_path: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": [PATH_ENV, "HOME=/root"],
            "cwd": "/",
            "capabilities": capabilities(&moby_cap_names()),
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": false },
        "hostname": "berth",
        "mounts": base_mounts(),
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
            "namespaces": [
                { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
                { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
            ],
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS
        }
    })
}

fn base_mounts() -> Value {
    json!([
        { "destination": "/proc", "type": "proc", "source": "proc",
          "options": ["nosuid", "noexec", "nodev"] },
        { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
          "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
          "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
          "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
        { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
          "options": ["nosuid", "noexec", "nodev"] },
        { "destination": "/sys", "type": "sysfs", "source": "sysfs",
          "options": ["nosuid", "noexec", "nodev", "ro"] },
        { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
          "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
    ])
}
