//! The container's capability set, computed as moby does: its 14 defaults, minus
//! `cap_drop`, plus `cap_add` (an add wins over a drop of the same name); `cap_add ALL`
//! starts from every capability and then drops; `cap_drop ALL` keeps only the adds;
//! privileged means every capability whatever was asked.
//!
//! "Every capability" is the engine's own bounding set: a container can never hold a
//! capability its runtime lacks, and asking for one would only make the runtime fail
//! (this machine's root, for one, has no CAP_SYS_RESOURCE).

use oci_spec::runtime::{Capabilities, Capability};

use crate::container::config::{parse_capability, ConfigError, ContainerConfig};

/// Moby's default capabilities (the runtime's list, so the two can never drift apart).
pub const DEFAULT_CAPS: [Capability; 14] = berth_runtime::seccomp::DEFAULT_CAPABILITIES;

/// Every capability with its bit number (linux/capability.h).
const ALL_CAPS: [(Capability, u32); 41] = [
    (Capability::Chown, 0),
    (Capability::DacOverride, 1),
    (Capability::DacReadSearch, 2),
    (Capability::Fowner, 3),
    (Capability::Fsetid, 4),
    (Capability::Kill, 5),
    (Capability::Setgid, 6),
    (Capability::Setuid, 7),
    (Capability::Setpcap, 8),
    (Capability::LinuxImmutable, 9),
    (Capability::NetBindService, 10),
    (Capability::NetBroadcast, 11),
    (Capability::NetAdmin, 12),
    (Capability::NetRaw, 13),
    (Capability::IpcLock, 14),
    (Capability::IpcOwner, 15),
    (Capability::SysModule, 16),
    (Capability::SysRawio, 17),
    (Capability::SysChroot, 18),
    (Capability::SysPtrace, 19),
    (Capability::SysPacct, 20),
    (Capability::SysAdmin, 21),
    (Capability::SysBoot, 22),
    (Capability::SysNice, 23),
    (Capability::SysResource, 24),
    (Capability::SysTime, 25),
    (Capability::SysTtyConfig, 26),
    (Capability::Mknod, 27),
    (Capability::Lease, 28),
    (Capability::AuditWrite, 29),
    (Capability::AuditControl, 30),
    (Capability::Setfcap, 31),
    (Capability::MacOverride, 32),
    (Capability::MacAdmin, 33),
    (Capability::Syslog, 34),
    (Capability::WakeAlarm, 35),
    (Capability::BlockSuspend, 36),
    (Capability::AuditRead, 37),
    (Capability::Perfmon, 38),
    (Capability::Bpf, 39),
    (Capability::CheckpointRestore, 40),
];

/// The capabilities in `bounding_mask` (bit n = capability n).
pub fn all_in(bounding_mask: u64) -> Capabilities {
    ALL_CAPS
        .iter()
        .filter(|(_, bit)| bounding_mask & (1 << bit) != 0)
        .map(|(cap, _)| *cap)
        .collect()
}

/// The engine's own bounding set, from /proc/self/status (every known capability if
/// that cannot be read).
pub fn engine_bounding_mask() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

/// The container's capabilities; `all` is what "every capability" means here
/// (see [`all_in`] and [`engine_bounding_mask`]).
pub fn for_container(
    config: &ContainerConfig,
    all: &Capabilities,
) -> Result<Capabilities, ConfigError> {
    if config.privileged {
        return Ok(all.clone());
    }
    let parse = |names: &[String]| -> Result<(bool, Vec<Capability>), ConfigError> {
        let mut has_all = false;
        let mut caps = Vec::new();
        for name in names {
            match parse_capability(name)? {
                Some(cap) => caps.push(cap),
                None => has_all = true,
            }
        }
        Ok((has_all, caps))
    };
    let (add_all, add) = parse(&config.cap_add)?;
    let (drop_all, drop) = parse(&config.cap_drop)?;
    let caps = if add_all {
        all.iter().filter(|c| !drop.contains(c)).copied().collect()
    } else if drop_all {
        add.into_iter().collect()
    } else {
        DEFAULT_CAPS
            .iter()
            .filter(|c| !drop.contains(c))
            .copied()
            .chain(add)
            .collect()
    };
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    #[test]
    fn add_drop_all_and_privileged_follow_moby() {
        let all = all_in(u64::MAX);
        let defaults: Capabilities = DEFAULT_CAPS.into_iter().collect();
        let with = |extra: &[Capability]| -> Capabilities {
            defaults.iter().chain(extra).copied().collect()
        };
        let without = |gone: &[Capability]| -> Capabilities {
            defaults
                .iter()
                .filter(|c| !gone.contains(c))
                .copied()
                .collect()
        };
        // (cap_add, cap_drop, privileged, expected)
        let cases: Vec<(&[&str], &[&str], bool, Capabilities)> = vec![
            (&[], &[], false, defaults.clone()),
            (&["NET_ADMIN"], &[], false, with(&[NetAdmin])),
            (
                &["cap_sys_ptrace"],
                &["MKNOD"],
                false,
                with(&[SysPtrace])
                    .into_iter()
                    .filter(|c| *c != Mknod)
                    .collect(),
            ),
            (&[], &["CAP_CHOWN", "kill"], false, without(&[Chown, Kill])),
            (&["NET_RAW"], &["NET_RAW"], false, defaults.clone()),
            (&[], &["ALL"], false, Capabilities::new()),
            (&["CHOWN"], &["ALL"], false, [Chown].into_iter().collect()),
            (&["ALL"], &[], false, all.clone()),
            (
                &["ALL"],
                &["SYS_ADMIN"],
                false,
                all.iter().filter(|c| **c != SysAdmin).copied().collect(),
            ),
            (&[], &["ALL"], true, all.clone()),
        ];
        for (add, drop, privileged, want) in cases {
            let config = ContainerConfig {
                cap_add: add.iter().map(|s| s.to_string()).collect(),
                cap_drop: drop.iter().map(|s| s.to_string()).collect(),
                privileged,
                ..Default::default()
            };
            assert_eq!(
                for_container(&config, &all).unwrap(),
                want,
                "add {add:?} drop {drop:?}"
            );
        }
        let bad = ContainerConfig {
            cap_add: vec!["CAP_FLY".into()],
            ..Default::default()
        };
        assert!(
            matches!(for_container(&bad, &all), Err(ConfigError::Capability(c)) if c == "CAP_FLY")
        );
    }

    #[test]
    fn all_is_bounded_by_the_mask() {
        // This machine's root: everything up to CAP_CHECKPOINT_RESTORE except SYS_RESOURCE.
        let all = all_in(0x01ff_feff_ffff);
        assert_eq!(all.len(), 40);
        assert!(!all.contains(&SysResource));
        assert!(all.contains(&CheckpointRestore));
        assert_eq!(all_in(u64::MAX).len(), 41);
    }
}
