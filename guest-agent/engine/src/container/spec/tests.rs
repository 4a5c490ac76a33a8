//! Table-driven tests of the spec's security defaults, limits and mounts, and the
//! helpers the other test modules share. No root needed.

use std::path::Path;

use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{Capability, LinuxNamespaceType, Mount, Spec};
use serde_json::json;

use super::*;
use crate::container::config::{ContainerConfig, Resources};

pub(super) fn image(config: serde_json::Value) -> ImageConfiguration {
    serde_json::from_value(json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [] },
        "config": config,
    }))
    .unwrap()
}

pub(super) fn request() -> ContainerConfig {
    ContainerConfig {
        image: "busybox".into(),
        ..Default::default()
    }
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Builds the spec of `config` over an image whose Cmd is `sh`, on an empty rootfs.
pub(super) fn spec_of(config: ContainerConfig) -> Spec {
    let merged = merge(&config, &image(json!({ "Cmd": ["sh"] }))).unwrap();
    let root = tempfile::tempdir().unwrap();
    let mut opts = BuildOptions::new("0123456789abcdef", root.path(), Path::new("/c"));
    opts.swap_limit = true;
    opts.bounding_mask = u64::MAX;
    build(&merged, &opts).unwrap()
}

fn mount_at<'a>(spec: &'a Spec, dest: &str) -> &'a Mount {
    let mounts = spec.mounts().as_ref().unwrap();
    mounts
        .iter()
        .find(|m| m.destination() == Path::new(dest))
        .unwrap_or_else(|| panic!("no mount at {dest}"))
}

fn options(m: &Mount) -> Vec<String> {
    m.options().clone().unwrap_or_default()
}

#[test]
fn default_spec_has_mobys_security_profile() {
    let spec = spec_of(request());
    let process = spec.process().as_ref().unwrap();
    let caps = process.capabilities().as_ref().unwrap();
    let bounding = caps.bounding().clone().unwrap();
    assert_eq!(bounding.len(), 14);
    assert!(DEFAULT_CAPS.iter().all(|c| bounding.contains(c)));
    assert_eq!(caps.effective(), caps.bounding());
    assert_eq!(process.no_new_privileges(), Some(false));
    assert_eq!(process.oom_score_adj(), Some(0));
    assert_eq!(process.args().clone().unwrap(), ["sh"]);
    assert_eq!(spec.hostname().as_deref(), Some("0123456789ab"));

    let linux = spec.linux().as_ref().unwrap();
    assert!(linux.seccomp().is_some());
    assert_eq!(linux.masked_paths().as_ref().unwrap().len(), 12);
    assert!(linux
        .readonly_paths()
        .as_ref()
        .unwrap()
        .contains(&"/proc/sys".to_string()));
    assert_eq!(
        linux.cgroups_path().as_deref(),
        Some(Path::new("/berth/0123456789abcdef"))
    );
    let kinds: Vec<_> = linux
        .namespaces()
        .as_ref()
        .unwrap()
        .iter()
        .map(|n| n.typ())
        .collect();
    for kind in [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
        LinuxNamespaceType::Network,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
    let devices = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert_eq!(devices.len(), 1);
    assert!(!devices[0].allow());

    let dests: Vec<_> = spec
        .mounts()
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| m.destination().display().to_string())
        .collect();
    assert_eq!(
        dests,
        strings(&[
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/dev/shm",
            "/etc/resolv.conf",
            "/etc/hostname",
            "/etc/hosts",
        ])
    );
    assert!(options(mount_at(&spec, "/sys")).contains(&"ro".to_string()));
    assert!(options(mount_at(&spec, "/dev/shm")).contains(&"size=67108864".to_string()));
    assert_eq!(
        mount_at(&spec, "/etc/hosts").source().as_deref(),
        Some(Path::new("/c/hosts"))
    );
}

#[test]
fn privileged_and_security_options() {
    let spec = spec_of(ContainerConfig {
        privileged: true,
        cap_drop: strings(&["ALL"]),
        ..request()
    });
    let linux = spec.linux().as_ref().unwrap();
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .clone()
        .unwrap();
    assert_eq!(caps.bounding().as_ref().unwrap().len(), 41);
    assert!(linux.seccomp().is_none());
    assert!(linux.masked_paths().is_none() && linux.readonly_paths().is_none());
    assert!(linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .as_ref()
        .unwrap()[0]
        .allow());
    assert!(linux
        .devices()
        .as_ref()
        .is_some_and(|d| d.iter().any(|d| d.path() == Path::new("/dev/null"))));
    assert!(!options(mount_at(&spec, "/sys")).contains(&"ro".to_string()));

    let spec = spec_of(ContainerConfig {
        cap_add: strings(&["SYS_ADMIN"]),
        security_opt: strings(&["seccomp=unconfined", "no-new-privileges"]),
        ..request()
    });
    let process = spec.process().as_ref().unwrap();
    assert!(process
        .capabilities()
        .as_ref()
        .unwrap()
        .bounding()
        .as_ref()
        .unwrap()
        .contains(&Capability::SysAdmin));
    assert_eq!(process.no_new_privileges(), Some(true));
    assert!(spec.linux().as_ref().unwrap().seccomp().is_none());
}

#[test]
fn nano_cpus_become_a_quota_over_100ms() {
    // (nano_cpus, quota in µs per 100 ms)
    let cases: &[(i64, i64)] = &[
        (10_000_000, 1_000),
        (500_000_000, 50_000),
        (1_000_000_000, 100_000),
        (1_500_000_000, 150_000),
        (4_000_000_000, 400_000),
    ];
    for &(nano, quota) in cases {
        let spec = spec_of(ContainerConfig {
            resources: Resources {
                nano_cpus: Some(nano),
                memory: Some(64 << 20),
                pids_limit: Some(100),
                ..Default::default()
            },
            ..request()
        });
        let res = spec.linux().as_ref().unwrap().resources().clone().unwrap();
        let cpu = res.cpu().clone().unwrap();
        assert_eq!(
            (cpu.quota(), cpu.period()),
            (Some(quota), Some(100_000)),
            "{nano}"
        );
        let memory = res.memory().unwrap();
        assert_eq!(
            (memory.limit(), memory.swap()),
            (Some(64 << 20), Some(128 << 20))
        );
        assert_eq!(res.pids().as_ref().unwrap().limit(), 100);
    }
}

#[test]
fn user_mounts_get_docker_options_and_parents_first() {
    let named = [("vol".to_string(), "/var/lib/berth/volumes/vol/_data".into())].into();
    let anonymous = [(
        "/data".to_string(),
        "/var/lib/berth/volumes/anon/_data".into(),
    )]
    .into();
    let config = ContainerConfig {
        mounts: vec![
            MountConfig::Bind {
                source: "/h/sub".into(),
                target: "/srv/sub".into(),
                readonly: true,
                propagation: Propagation::Rslave,
            },
            MountConfig::Bind {
                source: "/h".into(),
                target: "/srv".into(),
                readonly: false,
                propagation: Default::default(),
            },
            MountConfig::Volume {
                name: "vol".into(),
                target: "/v".into(),
                readonly: true,
            },
            MountConfig::Tmpfs {
                target: "/dev/shm".into(),
                size: Some(1 << 20),
                mode: Some(0o1777),
            },
        ],
        ..request()
    };
    let mut merged = merge(&config, &image(json!({ "Cmd": ["sh"] }))).unwrap();
    merged.image_volumes = strings(&["/data"]);
    let root = tempfile::tempdir().unwrap();
    let mut opts = BuildOptions::new("c1", root.path(), Path::new("/c"));
    opts.volumes = VolumeDirs {
        named: &named,
        anonymous: &anonymous,
    };
    let spec = build(&merged, &opts).unwrap();

    // (destination, type, options)
    let cases: &[(&str, &str, &[&str])] = &[
        ("/srv/sub", "bind", &["rbind", "rslave", "ro"]),
        ("/srv", "bind", &["rbind", "rprivate"]),
        ("/v", "bind", &["rbind", "rprivate", "ro"]),
        ("/data", "bind", &["rbind", "rprivate"]),
        (
            "/dev/shm",
            "tmpfs",
            &["nosuid", "nodev", "noexec", "size=1048576", "mode=1777"],
        ),
    ];
    for (dest, typ, opts) in cases {
        let m = mount_at(&spec, dest);
        assert_eq!(m.typ().as_deref(), Some(*typ), "{dest}");
        assert_eq!(options(m), strings(opts), "{dest}");
    }
    let mounts = spec.mounts().as_ref().unwrap();
    let pos = |d: &str| {
        mounts
            .iter()
            .position(|m| m.destination() == Path::new(d))
            .unwrap()
    };
    assert!(pos("/srv") < pos("/srv/sub"));
    assert_eq!(
        mounts
            .iter()
            .filter(|m| m.destination() == Path::new("/dev/shm"))
            .count(),
        1
    );
    assert_eq!(
        spec.linux()
            .as_ref()
            .unwrap()
            .rootfs_propagation()
            .as_deref(),
        Some("rslave")
    );

    merged.config.mounts.push(MountConfig::Volume {
        name: "missing".into(),
        target: "/m".into(),
        readonly: false,
    });
    assert!(matches!(build(&merged, &opts), Err(SpecError::MissingVolume(v)) if v == "missing"));
}
