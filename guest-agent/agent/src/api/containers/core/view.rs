//! What `inspect` and `ps` both show of a container: its image merged in, its state, its
//! mounts, its networks and ports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use berth_engine::container::config::MountConfig;
use berth_engine::container::record::{ContainerRecord, Status};
use berth_engine::container::spec::{self, MergedConfig};
use berth_engine::engine::Engine;
use berth_engine::network::ContainerNetwork;
use bollard_stubs::models::{
    ContainerStateStatusEnum, ContainerSummaryStateEnum, EndpointIpamConfig, EndpointSettings,
    MountPoint, PortBinding, PortMap, PortSummary, PortSummaryTypeEnum,
};

/// The container as it runs: the request merged with its image, plus the image's own
/// entrypoint, cmd and working dir (inspect shows them apart).
#[derive(Debug, Clone)]
pub struct Merged {
    pub merged: Option<MergedConfig>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: String,
    pub image_volumes: Vec<String>,
}

impl Merged {
    /// Entrypoint followed by Cmd, as the container runs it.
    pub fn args(&self) -> Vec<String> {
        self.merged
            .as_ref()
            .map(|m| m.args.clone())
            .unwrap_or_default()
    }
}

/// The record merged with its image; with the image gone (removed by force), the request
/// alone.
pub fn merged(engine: &Engine, record: &ContainerRecord) -> Merged {
    let request = &record.config;
    let image = engine
        .images()
        .resolve(&record.image_id)
        .ok()
        .and_then(|image| engine.images().config(&image).ok());
    let Some(image) = image else {
        return Merged {
            merged: None,
            entrypoint: request.entrypoint.clone(),
            cmd: request.cmd.clone(),
            working_dir: request.working_dir.clone().unwrap_or_default(),
            image_volumes: Vec::new(),
        };
    };
    let merged = spec::merge(request, &image).ok();
    let own = image.config().clone().unwrap_or_default();
    let entrypoint = match &request.entrypoint {
        Some(ep) if ep.iter().all(String::is_empty) => None,
        Some(ep) => Some(ep.clone()),
        None => own.entrypoint().clone(),
    };
    // A new entrypoint does not inherit the image's Cmd (spec::merge's rule).
    let cmd = match (&request.cmd, &request.entrypoint) {
        (Some(cmd), _) if !cmd.is_empty() => Some(cmd.clone()),
        (_, Some(_)) => None,
        (_, None) => own.cmd().clone(),
    };
    let working_dir = request
        .working_dir
        .clone()
        .or_else(|| own.working_dir().clone())
        .unwrap_or_default();
    let image_volumes = merged
        .as_ref()
        .map(|m| m.image_volumes.clone())
        .unwrap_or_default();
    Merged {
        merged,
        entrypoint,
        cmd,
        working_dir,
        image_volumes,
    }
}

/// `<root>/containers/<id>`: where the engine keeps the container (see docs/engine.md).
pub fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}

pub fn state_enum(status: Status) -> ContainerStateStatusEnum {
    match status {
        Status::Created => ContainerStateStatusEnum::CREATED,
        Status::Running => ContainerStateStatusEnum::RUNNING,
        Status::Paused => ContainerStateStatusEnum::PAUSED,
        Status::Restarting => ContainerStateStatusEnum::RESTARTING,
        Status::Removing => ContainerStateStatusEnum::REMOVING,
        Status::Exited => ContainerStateStatusEnum::EXITED,
        Status::Dead => ContainerStateStatusEnum::DEAD,
    }
}

pub fn summary_state(status: Status) -> ContainerSummaryStateEnum {
    match status {
        Status::Created => ContainerSummaryStateEnum::CREATED,
        Status::Running => ContainerSummaryStateEnum::RUNNING,
        Status::Paused => ContainerSummaryStateEnum::PAUSED,
        Status::Restarting => ContainerSummaryStateEnum::RESTARTING,
        Status::Removing => ContainerSummaryStateEnum::REMOVING,
        Status::Exited => ContainerSummaryStateEnum::EXITED,
        Status::Dead => ContainerSummaryStateEnum::DEAD,
    }
}

/// The container's mounts as docker lists them: the request's, then the anonymous volumes
/// backing its image's VOLUMEs.
pub fn mounts(engine: &Engine, root: &Path, record: &ContainerRecord) -> Vec<MountPoint> {
    let volume_dir = |name: &str| {
        engine
            .volumes()
            .inspect(name)
            .map(|v| v.mountpoint.display().to_string())
            .unwrap_or_default()
    };
    let volume = |name: &str, target: &str, readonly: bool| MountPoint {
        typ: Some("volume".into()),
        name: Some(name.to_string()),
        source: Some(volume_dir(name)),
        destination: Some(target.to_string()),
        driver: Some("local".into()),
        mode: Some("z".into()),
        rw: Some(!readonly),
        propagation: Some(String::new()),
    };
    let mut out: Vec<MountPoint> = record
        .config
        .mounts
        .iter()
        .map(|mount| match mount {
            MountConfig::Bind {
                source,
                target,
                readonly,
                propagation,
            } => MountPoint {
                typ: Some("bind".into()),
                source: Some(source.display().to_string()),
                destination: Some(target.clone()),
                mode: Some(String::new()),
                rw: Some(!readonly),
                propagation: Some(propagation.as_option().into()),
                ..Default::default()
            },
            MountConfig::Volume {
                name,
                target,
                readonly,
            } => volume(name, target, *readonly),
            MountConfig::Tmpfs { target, .. } => MountPoint {
                typ: Some("tmpfs".into()),
                destination: Some(target.clone()),
                mode: Some(String::new()),
                rw: Some(true),
                propagation: Some(String::new()),
                ..Default::default()
            },
        })
        .collect();
    // The engine's record of them: target -> volume name (container::prepare).
    let anonymous: BTreeMap<String, String> =
        std::fs::read(container_dir(root, &record.id).join("anonymous-volumes.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
    for (target, name) in anonymous {
        out.push(volume(&name, &target, false));
    }
    out
}

/// The networks a container is (or will be, once started) on: its network mode and the
/// networks it asked for, with the live endpoint where there is one.
pub fn networks(
    record: &ContainerRecord,
    live: Option<&ContainerNetwork>,
) -> HashMap<String, EndpointSettings> {
    let config = &record.config;
    let mut out = HashMap::new();
    let mode = config.network_mode.as_str();
    if !mode.is_empty() && !mode.starts_with("container:") {
        out.insert(mode.to_string(), EndpointSettings::default());
    }
    for (name, wanted) in &config.networks {
        let settings = EndpointSettings {
            aliases: (!wanted.aliases.is_empty()).then(|| wanted.aliases.clone()),
            ipam_config: wanted.ipv4_address.as_ref().map(|ip| EndpointIpamConfig {
                ipv4_address: Some(ip.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.insert(name.clone(), settings);
    }
    for (name, endpoint) in live.map(|n| &n.networks).into_iter().flatten() {
        let settings = out.entry(name.clone()).or_default();
        settings.network_id = Some(endpoint.network_id.clone());
        settings.endpoint_id = Some(endpoint.endpoint_id.clone());
        settings.ip_address = Some(endpoint.ip.clone());
        settings.ip_prefix_len = Some(endpoint.prefix_len.into());
        settings.gateway = Some(endpoint.gateway.clone());
        settings.mac_address = Some(endpoint.mac.clone());
        if !endpoint.aliases.is_empty() {
            settings.aliases = Some(endpoint.aliases.clone());
        }
    }
    for settings in out.values_mut() {
        fill_defaults(settings);
    }
    out
}

/// Docker writes every field, empty when unknown; templates such as
/// `{{.NetworkSettings.Networks.bridge.IPAddress}}` rely on it.
fn fill_defaults(s: &mut EndpointSettings) {
    for field in [
        &mut s.network_id,
        &mut s.endpoint_id,
        &mut s.gateway,
        &mut s.ip_address,
        &mut s.ipv6_gateway,
        &mut s.global_ipv6_address,
        &mut s.mac_address,
    ] {
        field.get_or_insert_with(String::new);
    }
    s.ip_prefix_len.get_or_insert(0);
    s.global_ipv6_prefix_len.get_or_insert(0);
}

/// Inspect's `NetworkSettings.Ports`: while running, every exposed port (null when not
/// published) and every published one with where it is bound; empty when not running.
pub fn port_map(exposed: &BTreeSet<String>, live: Option<&ContainerNetwork>) -> PortMap {
    let Some(live) = live else {
        return PortMap::new();
    };
    let mut map: PortMap = exposed.iter().map(|p| (p.clone(), None)).collect();
    for port in &live.ports {
        let key = format!("{}/{}", port.container_port, port.proto);
        map.entry(key)
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.clone()),
                host_port: Some(port.host_port.to_string()),
            });
    }
    map
}

/// `ps`'s `Ports`: published ones with their host side, exposed ones alone.
pub fn port_summaries(
    exposed: &BTreeSet<String>,
    live: Option<&ContainerNetwork>,
) -> Vec<PortSummary> {
    let proto = |p: &str| match p {
        "udp" => PortSummaryTypeEnum::UDP,
        "sctp" => PortSummaryTypeEnum::SCTP,
        _ => PortSummaryTypeEnum::TCP,
    };
    let mut out = Vec::new();
    let mut published = BTreeSet::new();
    for port in live.map(|n| n.ports.as_slice()).unwrap_or(&[]) {
        published.insert(format!("{}/{}", port.container_port, port.proto));
        out.push(PortSummary {
            ip: Some(port.host_ip.clone()),
            private_port: port.container_port,
            public_port: Some(port.host_port),
            typ: Some(proto(&port.proto)),
        });
    }
    if live.is_some() {
        for key in exposed.difference(&published) {
            let (port, p) = key.split_once('/').unwrap_or((key, "tcp"));
            if let Ok(port) = port.parse() {
                out.push(PortSummary {
                    private_port: port,
                    typ: Some(proto(p)),
                    ..Default::default()
                });
            }
        }
    }
    out
}

/// Docker's zero time, for times that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub fn time_or_zero(time: &Option<String>) -> String {
    time.clone().unwrap_or_else(|| ZERO_TIME.to_string())
}

/// Bytes of regular files under `dir` (not following symlinks): a container's writable
/// layer for `ps -s` and what `prune` reclaims.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => dir_size(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// The writable layer's size (the overlay's upper dir).
pub fn size_rw(root: &Path, id: &str) -> i64 {
    dir_size(&container_dir(root, id).join("upper")) as i64
}
