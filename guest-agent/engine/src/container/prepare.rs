//! Turning a container record into a runnable OCI bundle: the image's layers unpacked (once,
//! shared), the container's overlayfs root mounted, its volumes created and filled from the
//! image on first use, /etc/hostname, hosts and resolv.conf written, and the runtime spec
//! saved as `bundle/config.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::config::{ConfigError, MountConfig};
use super::etc_files::{self, EtcConfig, EtcError};
use super::record::{read_json, write_json_atomic, ContainerRecord};
use super::rootfs::{self, RootfsError};
use super::spec::{self, BuildOptions, MergeError, SpecError, VolumeDirs};
use crate::image::layers::{LayerStore, LayersError};
use crate::image::store::{Store, StoreError};
use crate::volume::{VolumeError, VolumeStore};

/// Anonymous volumes made for the image's VOLUMEs, remembered so a restart reuses them.
const ANONYMOUS: &str = "anonymous-volumes.json";

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Image(#[from] StoreError),
    #[error(transparent)]
    Layers(#[from] LayersError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Etc(#[from] EtcError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("Cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, PrepareError>;

/// The stores a bundle is made from.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub images: &'a Store,
    pub layers: &'a LayerStore,
    pub volumes: &'a VolumeStore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
}

pub fn bundle_dir(container_dir: &Path) -> PathBuf {
    container_dir.join("bundle")
}

/// Makes the bundle ready to run. Idempotent: a restart re-uses the mounted root, the same
/// volumes and rewrites the spec and /etc files.
pub fn prepare(
    parts: Parts,
    record: &ContainerRecord,
    container_dir: &Path,
    network: impl Into<crate::network::NetworkSetup>,
) -> Result<Prepared> {
    // The namespace, addresses and name servers the network module chose (a bare
    // `NetworkNamespace` converts: no addresses, the host's name servers).
    let network: crate::network::NetworkSetup = network.into();
    let image = parts.images.resolve(&record.image_id)?;
    let merged = spec::merge(&record.config, &parts.images.config(&image)?)?;
    let lowers = parts.layers.ensure(parts.images, &image)?;
    let dirs = rootfs::create_dirs(container_dir)?;
    let bundle = bundle_dir(container_dir);
    let root = bundle.join("rootfs");
    std::fs::create_dir_all(&root).map_err(io("create", &root))?;
    if !is_mount_point(&root) {
        rootfs::mount(&lowers, &dirs.upper, &dirs.work, &root)?;
    }
    let named = named_volumes(parts.volumes, &record.config.mounts, &root)?;
    let anonymous = anonymous_volumes(parts.volumes, &merged.image_volumes, &root, container_dir)?;
    let hostname = spec::hostname(&merged, &record.id);
    let extra_hosts = record.config.extra_hosts()?;
    let mut dns = record.config.dns_servers()?;
    if dns.is_empty() {
        dns = network.nameservers.clone();
    }
    etc_files::write(
        container_dir,
        &EtcConfig {
            hostname: &hostname,
            domainname: record.config.domainname.as_deref(),
            addresses: &network.addresses,
            extra_hosts: &extra_hosts,
            host_gateway: network.host_gateway,
            dns: &dns,
            dns_search: &record.config.dns_search,
            dns_options: &record.config.dns_options,
            host_resolv_conf: &etc_files::host_resolv_conf(),
        },
    )?;
    let mut options = BuildOptions::new(&record.id, &root, container_dir);
    options.network = network.namespace;
    let init = if record.config.init {
        super::init_binary::find()
    } else {
        None
    };
    options.init_binary = init.as_deref();
    options.volumes = VolumeDirs {
        named: &named,
        anonymous: &anonymous,
    };
    let spec = spec::build(&merged, &options)?;
    let config = bundle.join("config.json");
    write_json_atomic(&config, &spec).map_err(io("write", &config))?;
    Ok(Prepared {
        bundle,
        rootfs: root,
    })
}

/// Unmounts the container's root (after its processes are gone), and ends its networking
/// (namespace, veths, address leases, published ports and their rules).
pub fn release(container_dir: &Path) -> Result<()> {
    crate::network::release(container_dir);
    rootfs::unmount(&bundle_dir(container_dir).join("rootfs"))?;
    Ok(())
}

fn named_volumes(
    volumes: &VolumeStore,
    mounts: &[MountConfig],
    root: &Path,
) -> Result<BTreeMap<String, PathBuf>> {
    let mut named = BTreeMap::new();
    for mount in mounts {
        if let MountConfig::Volume { name, target, .. } = mount {
            let volume = volumes.create(Some(name), "local", BTreeMap::new())?;
            volumes.copy_up(&volume.name, root, Path::new(target))?;
            named.insert(name.clone(), volume.mountpoint);
        }
    }
    Ok(named)
}

fn anonymous_volumes(
    volumes: &VolumeStore,
    targets: &[String],
    root: &Path,
    container_dir: &Path,
) -> Result<BTreeMap<String, PathBuf>> {
    let record = container_dir.join(ANONYMOUS);
    let mut names: BTreeMap<String, String> = read_json(&record).unwrap_or_default();
    let mut dirs = BTreeMap::new();
    for target in targets {
        let existing = names.get(target).and_then(|n| volumes.inspect(n).ok());
        let volume = match existing {
            Some(v) => v,
            None => volumes.create(None, "local", BTreeMap::new())?,
        };
        volumes.copy_up(&volume.name, root, Path::new(target))?;
        names.insert(target.clone(), volume.name.clone());
        dirs.insert(target.clone(), volume.mountpoint);
    }
    if !targets.is_empty() {
        write_json_atomic(&record, &names).map_err(io("write", &record))?;
    }
    Ok(dirs)
}

/// The names of the anonymous volumes this container owns (`rm -v` removes them).
pub fn anonymous_volume_names(container_dir: &Path) -> Vec<String> {
    read_json::<BTreeMap<String, String>>(&container_dir.join(ANONYMOUS))
        .map(|m| m.into_values().collect())
        .unwrap_or_default()
}

/// True when `path` is the root of a mount (its device differs from its parent's).
pub fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(path),
        path.parent().map(std::fs::metadata),
    ) {
        (Ok(me), Some(Ok(parent))) => me.dev() != parent.dev(),
        _ => false,
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PrepareError {
    let path = path.to_path_buf();
    move |source| PrepareError::Io {
        action,
        path,
        source,
    }
}
