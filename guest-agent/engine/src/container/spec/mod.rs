//! The OCI runtime spec of a container, built from the merged config with moby's
//! defaults: 14 capabilities, the default seccomp profile, masked and read-only /proc
//! and /sys paths, deny-all device rules, pid/ipc/uts/mount/cgroup/network namespaces,
//! the kernel filesystems, the engine's /etc files and the request's mounts.
//! Privileged containers get every capability and device, no seccomp and nothing
//! masked. `no_new_privileges` stays off unless asked for, as in docker (setuid
//! binaries in images such as `su` and `ping` rely on it).

mod caps;
pub mod linux;
pub mod merge;
pub mod mounts;
mod process;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_config;
#[cfg(test)]
mod tests_merge;
#[cfg(test)]
mod tests_root;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Linux, Root, Spec};

use crate::container::config::{ConfigError, MountConfig, Propagation};
use crate::container::etc_files::EtcPaths;
use crate::container::user::{self, UserError};

pub use caps::{engine_bounding_mask, DEFAULT_CAPS};
pub use linux::NetworkNamespace;
pub use merge::{merge, MergeError, MergedConfig};
pub use mounts::VolumeDirs;
pub use process::INIT_PATH;

/// Why a spec could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    User(#[from] UserError),
    #[error("Volume {0} has no host directory")]
    MissingVolume(String),
    #[error("--init needs a static init binary: install tini-static (scripts/setup does) or set BERTH_INIT")]
    NoInit,
    #[error("Root filesystem path {0} is not absolute")]
    RelativeRootfs(PathBuf),
    #[error("Sysctl {0} cannot be set in the host's network namespace")]
    HostNetSysctl(String),
    #[error("Unknown ulimit {0}")]
    Ulimit(String),
}

static NO_VOLUMES: BTreeMap<String, PathBuf> = BTreeMap::new();

/// Everything besides the merged config that shapes the spec.
#[derive(Debug, Clone)]
pub struct BuildOptions<'a> {
    /// The container id; names the cgroup and is the default hostname's source.
    pub id: &'a str,
    /// The container's mounted root filesystem (absolute). Its /etc/passwd and
    /// /etc/group resolve the user.
    pub rootfs: &'a Path,
    /// The container directory holding the files `etc_files::write` made.
    pub container_dir: &'a Path,
    pub network: NetworkNamespace,
    pub volumes: VolumeDirs<'a>,
    /// The init binary bind mounted at [`INIT_PATH`] when the config asks for one.
    pub init_binary: Option<&'a Path>,
    /// Whether the host can limit swap; see [`linux::host_swap_limit`].
    pub swap_limit: bool,
    /// What "every capability" means (bit n = capability n): the engine's own set.
    pub bounding_mask: u64,
}

impl<'a> BuildOptions<'a> {
    /// A private network namespace, no volumes, no init, and this host's swap support
    /// and capability bounding set.
    pub fn new(id: &'a str, rootfs: &'a Path, container_dir: &'a Path) -> Self {
        BuildOptions {
            id,
            rootfs,
            container_dir,
            network: NetworkNamespace::Private,
            volumes: VolumeDirs {
                named: &NO_VOLUMES,
                anonymous: &NO_VOLUMES,
            },
            init_binary: None,
            swap_limit: linux::host_swap_limit(),
            bounding_mask: engine_bounding_mask(),
        }
    }
}

/// The hostname a container gets: the requested one, else the id's first 12 characters.
pub fn hostname(merged: &MergedConfig, id: &str) -> String {
    match &merged.config.hostname {
        Some(name) => name.clone(),
        None => id.chars().take(12).collect(),
    }
}

/// Builds the container's runtime spec.
pub fn build(merged: &MergedConfig, opts: &BuildOptions) -> Result<Spec, SpecError> {
    let config = &merged.config;
    if !opts.rootfs.is_absolute() {
        return Err(SpecError::RelativeRootfs(opts.rootfs.to_path_buf()));
    }
    let security = config.security_options()?;
    let hostname = hostname(merged, opts.id);
    let user = user::resolve(opts.rootfs, &merged.user)?;
    let extra_gids = user::resolve_groups(opts.rootfs, &config.group_add)?;
    let caps = caps::for_container(config, &caps::all_in(opts.bounding_mask))?;
    let init = match (config.init, opts.init_binary) {
        (false, _) => None,
        (true, Some(path)) => Some(path),
        (true, None) => return Err(SpecError::NoInit),
    };

    let etc = EtcPaths::in_dir(opts.container_dir);
    let mut mounts = mounts::all(
        &config.mounts,
        &merged.image_volumes,
        opts.volumes,
        &etc,
        config.privileged,
        config.read_only_rootfs,
        config.shm_size.unwrap_or(mounts::DEFAULT_SHM_SIZE),
    )?;
    if let Some(binary) = init {
        let source = binary.to_path_buf();
        let bind = MountConfig::Bind {
            source,
            target: INIT_PATH.to_string(),
            readonly: true,
            propagation: Propagation::Rprivate,
        };
        mounts.extend(mounts::user_mounts(&[bind], &[], opts.volumes)?);
    }

    let process = process::process(
        merged,
        &user,
        &extra_gids,
        &hostname,
        &caps,
        security.no_new_privileges,
        init.is_some(),
    )?;

    let mut root = Root::default();
    root.set_path(opts.rootfs.to_path_buf())
        .set_readonly(Some(config.read_only_rootfs));

    let mut spec = Spec::default();
    spec.set_version("1.0.2".to_string())
        .set_root(Some(root))
        .set_mounts(Some(mounts))
        .set_process(Some(process))
        .set_hostname(Some(hostname))
        .set_domainname(config.domainname.clone())
        .set_hooks(None)
        .set_annotations(None)
        .set_linux(Some(linux_section(
            merged,
            opts,
            &caps,
            security.seccomp_unconfined,
        )?));
    Ok(spec)
}

fn linux_section(
    merged: &MergedConfig,
    opts: &BuildOptions,
    caps: &oci_spec::runtime::Capabilities,
    seccomp_unconfined: bool,
) -> Result<Linux, SpecError> {
    let config = &merged.config;
    if opts.network == NetworkNamespace::Host {
        if let Some(name) = config.sysctls.keys().find(|k| k.starts_with("net.")) {
            return Err(SpecError::HostNetSysctl(name.clone()));
        }
    }
    let privileged = config.privileged;
    let strings = |paths: &[&str]| -> Option<Vec<String>> {
        (!privileged).then(|| paths.iter().map(|p| p.to_string()).collect())
    };
    let mut linux = Linux::default();
    linux
        .set_namespaces(Some(linux::namespaces(&opts.network)))
        .set_resources(Some(linux::resources(
            &config.resources,
            privileged,
            opts.swap_limit,
        )))
        .set_cgroups_path(Some(PathBuf::from(format!("/berth/{}", opts.id))))
        .set_masked_paths(strings(&linux::MASKED_PATHS))
        .set_readonly_paths(strings(&linux::READONLY_PATHS))
        .set_seccomp(linux::seccomp(caps, !privileged && !seccomp_unconfined))
        .set_sysctl(linux::sysctls(&config.sysctls))
        .set_devices(privileged.then(linux::host_devices))
        .set_rootfs_propagation(rootfs_propagation(&config.mounts))
        .set_uid_mappings(None)
        .set_gid_mappings(None);
    Ok(linux)
}

/// A shared or slave bind mount only propagates if the root's mount does too.
fn rootfs_propagation(mounts: &[MountConfig]) -> Option<String> {
    let propagations = mounts.iter().filter_map(|m| match m {
        MountConfig::Bind { propagation, .. } => Some(*propagation),
        _ => None,
    });
    let mut out = None;
    for p in propagations {
        match p {
            Propagation::Shared | Propagation::Rshared => return Some("rshared".into()),
            Propagation::Slave | Propagation::Rslave => out = Some("rslave".into()),
            _ => {}
        }
    }
    out
}
