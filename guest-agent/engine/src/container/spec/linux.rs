//! The `linux` section: namespaces, cgroup limits and device rules, moby's masked and
//! read-only paths, the seccomp profile and sysctls.

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capabilities, LinuxCpu, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, LinuxMemory,
    LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources, LinuxSeccomp,
};

use crate::container::config::Resources;

/// Moby's masked paths: kernel information a container has no business reading.
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

/// Moby's read-only paths: kernel knobs that would change the host.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The CFS period docker uses with `--cpus`, in microseconds.
pub const CPU_PERIOD: u64 = 100_000;

/// The container's network namespace, decided by the network module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkNamespace {
    /// A new, empty one (only loopback): `--network none`, or before a network attaches.
    Private,
    /// Join an existing one (a bridge network's, or another container's).
    Join(PathBuf),
    /// Share the engine host's.
    Host,
}

/// pid, ipc, uts, mount, cgroup and network namespaces.
pub fn namespaces(network: &NetworkNamespace) -> Vec<LinuxNamespace> {
    let mut out: Vec<LinuxNamespace> = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ]
    .into_iter()
    .map(|typ| namespace(typ, None))
    .collect();
    match network {
        NetworkNamespace::Private => out.push(namespace(LinuxNamespaceType::Network, None)),
        NetworkNamespace::Join(path) => {
            out.push(namespace(LinuxNamespaceType::Network, Some(path.clone())))
        }
        NetworkNamespace::Host => {}
    }
    out
}

fn namespace(typ: LinuxNamespaceType, path: Option<PathBuf>) -> LinuxNamespace {
    let mut ns = LinuxNamespace::default();
    ns.set_typ(typ).set_path(path);
    ns
}

/// cgroup limits and device rules. `swap_limit`: whether the host accounts swap
/// (without it moby drops swap limits with a warning, and so does this).
pub fn resources(r: &Resources, privileged: bool, swap_limit: bool) -> LinuxResources {
    let mut out = LinuxResources::default();
    if let Some(limit) = r.memory {
        let mut memory = LinuxMemory::default();
        memory.set_limit(Some(limit));
        if swap_limit {
            // Docker's default: as much swap as memory, i.e. memory+swap = 2 x memory.
            let swap = match r.memory_swap {
                None | Some(0) => limit.saturating_mul(2),
                Some(swap) => swap,
            };
            memory.set_swap(Some(swap));
        } else if r.memory_swap.is_some_and(|s| s != 0) {
            tracing::warn!("the host does not account swap: the memory swap limit is ignored");
        }
        out.set_memory(Some(memory));
    }
    if r.nano_cpus.is_some() || r.cpu_shares.is_some() || r.cpuset_cpus.is_some() {
        let mut cpu = LinuxCpu::default();
        if let Some(nano) = r.nano_cpus {
            let quota = i128::from(nano) * i128::from(CPU_PERIOD) / 1_000_000_000;
            cpu.set_quota(Some(quota.try_into().unwrap_or(i64::MAX)))
                .set_period(Some(CPU_PERIOD));
        }
        if let Some(shares) = r.cpu_shares.filter(|s| *s > 0) {
            cpu.set_shares(Some(shares.unsigned_abs()));
        }
        cpu.set_cpus(r.cpuset_cpus.clone());
        out.set_cpu(Some(cpu));
    }
    if let Some(limit) = r.pids_limit.filter(|l| *l > 0) {
        let mut pids = LinuxPids::default();
        pids.set_limit(limit);
        out.set_pids(Some(pids));
    }
    // Deny everything; the runtime appends runc's default allow-list and the spec's
    // devices. Privileged containers may use every device.
    let mut all = LinuxDeviceCgroup::default();
    all.set_allow(privileged)
        .set_typ(Some(LinuxDeviceType::A))
        .set_access(Some("rwm".to_string()));
    out.set_devices(Some(vec![all]));
    out
}

/// Whether this host can limit swap (cgroup v1 `memsw`, or v2 `memory.swap.max`).
pub fn host_swap_limit() -> bool {
    Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
        || Path::new("/sys/fs/cgroup/init.scope/memory.swap.max").exists()
        || Path::new("/sys/fs/cgroup/system.slice/memory.swap.max").exists()
}

/// Berth's default seccomp profile for `caps`, or none (privileged, `seccomp=unconfined`).
pub fn seccomp(caps: &Capabilities, confined: bool) -> Option<LinuxSeccomp> {
    confined.then(|| berth_runtime::seccomp::default_profile_for(caps))
}

pub fn sysctls(
    map: &std::collections::BTreeMap<String, String>,
) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.clone().into_iter().collect())
}

/// Every device node of the host, for privileged containers (as moby passes them).
/// Directories whose nodes the runtime makes itself are skipped, and so is anything
/// that cannot be read.
pub fn host_devices() -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    walk_devices(Path::new("/dev"), 0, &mut out);
    out
}

fn walk_devices(dir: &Path, depth: usize, out: &mut Vec<LinuxDevice>) {
    const SKIP: [&str; 9] = [
        "pts",
        "shm",
        "fd",
        "mqueue",
        ".lxc",
        ".lxd-mounts",
        ".udev",
        "console",
        "ptmx",
    ];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if SKIP.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        // symlink_metadata: a symlink in /dev names a device listed elsewhere.
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let kind = meta.file_type();
        let typ = if kind.is_char_device() {
            LinuxDeviceType::C
        } else if kind.is_block_device() {
            LinuxDeviceType::B
        } else {
            if kind.is_dir() && depth < 4 {
                walk_devices(&entry.path(), depth + 1, out);
            }
            continue;
        };
        let rdev = meta.rdev();
        let mut device = LinuxDevice::default();
        device
            .set_path(entry.path())
            .set_typ(typ)
            .set_major(nix::sys::stat::major(rdev) as i64)
            .set_minor(nix::sys::stat::minor(rdev) as i64)
            .set_file_mode(Some(meta.permissions().mode() & 0o7777))
            .set_uid(Some(meta.uid()))
            .set_gid(Some(meta.gid()));
        out.push(device);
    }
}
