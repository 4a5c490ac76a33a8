//! The spec's mounts, in moby's order: the kernel filesystems every container gets,
//! then the engine's /etc files, then the request's mounts (and the image's anonymous
//! volumes) sorted so that a parent is mounted before anything below it. A request
//! mount on the same target as a default replaces that default (`-v x:/dev/shm`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Mount;

use super::SpecError;
use crate::container::config::{clean_target, MountConfig};
use crate::container::etc_files::EtcPaths;

/// Docker's /dev/shm size.
pub const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

/// Options of a fresh tmpfs from the request (docker's `--tmpfs` defaults).
const TMPFS_OPTIONS: [&str; 3] = ["nosuid", "nodev", "noexec"];

/// Host directories for the request's volumes.
#[derive(Debug, Clone, Copy)]
pub struct VolumeDirs<'a> {
    /// Named volume -> its host directory.
    pub named: &'a BTreeMap<String, PathBuf>,
    /// Image VOLUME target (as in `MergedConfig::image_volumes`) -> anonymous volume dir.
    pub anonymous: &'a BTreeMap<String, PathBuf>,
}

/// Every mount of the spec.
pub fn all(
    requested: &[MountConfig],
    image_volumes: &[String],
    volumes: VolumeDirs,
    etc: &EtcPaths,
    privileged: bool,
    read_only_rootfs: bool,
    shm_size: i64,
) -> Result<Vec<Mount>, SpecError> {
    let user = user_mounts(requested, image_volumes, volumes)?;
    let taken = |dest: &Path| user.iter().any(|m| m.destination() == dest);
    let mut out: Vec<Mount> = defaults(privileged, shm_size)
        .into_iter()
        .filter(|m| !taken(m.destination()))
        .collect();
    // Writable unless the whole root is read-only, as in moby.
    let etc_options: &[&str] = if read_only_rootfs {
        &["rbind", "rprivate", "ro"]
    } else {
        &["rbind", "rprivate"]
    };
    for (dest, source) in [
        ("/etc/resolv.conf", &etc.resolv_conf),
        ("/etc/hostname", &etc.hostname),
        ("/etc/hosts", &etc.hosts),
    ] {
        if !taken(Path::new(dest)) {
            out.push(mount(dest, "bind", source, etc_options));
        }
    }
    out.extend(user);
    Ok(out)
}

/// Moby's default mounts. sysfs and the cgroup tree are read-only unless privileged.
pub fn defaults(privileged: bool, shm_size: i64) -> Vec<Mount> {
    let ro: &[&str] = if privileged { &[] } else { &["ro"] };
    let sys: Vec<&str> = ["nosuid", "noexec", "nodev"]
        .iter()
        .chain(ro)
        .copied()
        .collect();
    let cgroup: Vec<&str> = ["nosuid", "noexec", "nodev", "relatime"]
        .iter()
        .chain(ro)
        .copied()
        .collect();
    let shm_size = format!("size={shm_size}");
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount("/sys", "sysfs", "sysfs", &sys),
        mount("/sys/fs/cgroup", "cgroup", "cgroup", &cgroup),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm_size],
        ),
    ]
}

/// The request's mounts plus the anonymous volumes, parents first.
pub fn user_mounts(
    requested: &[MountConfig],
    image_volumes: &[String],
    volumes: VolumeDirs,
) -> Result<Vec<Mount>, SpecError> {
    let mut out = Vec::with_capacity(requested.len() + image_volumes.len());
    for m in requested {
        let target = clean_target(m.target())?;
        out.push(match m {
            MountConfig::Bind {
                source,
                readonly,
                propagation,
                ..
            } => mount(
                &target,
                "bind",
                source,
                &bind_options(*readonly, propagation.as_option()),
            ),
            MountConfig::Volume { name, readonly, .. } => {
                let dir = volumes
                    .named
                    .get(name)
                    .ok_or_else(|| SpecError::MissingVolume(name.clone()))?;
                mount(&target, "bind", dir, &bind_options(*readonly, "rprivate"))
            }
            MountConfig::Tmpfs { size, mode, .. } => {
                let mut options: Vec<String> = TMPFS_OPTIONS.map(String::from).to_vec();
                options.extend(size.map(|s| format!("size={s}")));
                options.extend(mode.map(|m| format!("mode={m:o}")));
                mount(&target, "tmpfs", "tmpfs", &options)
            }
        });
    }
    for target in image_volumes {
        let dir = volumes
            .anonymous
            .get(target)
            .ok_or_else(|| SpecError::MissingVolume(target.clone()))?;
        out.push(mount(target, "bind", dir, &bind_options(false, "rprivate")));
    }
    // Stable: mounts of equal depth keep the request's order.
    out.sort_by_key(|m| m.destination().components().count());
    Ok(out)
}

/// `rbind`, the propagation, and `ro` when read-only.
pub fn bind_options(readonly: bool, propagation: &str) -> Vec<&str> {
    let mut options = vec!["rbind", propagation];
    if readonly {
        options.push("ro");
    }
    options
}

fn mount<S: AsRef<str>>(
    destination: &str,
    typ: &str,
    source: impl AsRef<Path>,
    options: &[S],
) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(destination))
        .set_typ(Some(typ.to_string()))
        .set_source(Some(source.as_ref().to_path_buf()))
        .set_options(Some(
            options.iter().map(|s| s.as_ref().to_string()).collect(),
        ));
    m
}
