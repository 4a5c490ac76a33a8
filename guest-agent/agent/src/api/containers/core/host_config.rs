//! Docker's `HostConfig` (and `NetworkingConfig`) onto the engine's container config: mounts
//! in their three spellings (`Binds`, `Mounts`, `Tmpfs`), published ports, networks, the
//! restart policy and the resource limits. Anything the engine cannot do is refused with a
//! 400 naming it, never dropped silently.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use berth_engine::container::config::{
    ContainerConfig, EndpointConfig, MountConfig, PortBinding, Propagation, RestartPolicy, Ulimit,
};
use bollard_stubs::models::{
    HostConfig, Mount, MountBindOptionsPropagationEnum, MountType, NetworkingConfig, PortMap,
    RestartPolicyNameEnum,
};

use crate::api::error::{ApiError, ApiResult};

/// Applies `host` and `networking` to `config`.
pub fn apply(
    config: &mut ContainerConfig,
    host: HostConfig,
    networking: Option<NetworkingConfig>,
) -> ApiResult<()> {
    for bind in host.binds.unwrap_or_default() {
        config.mounts.push(parse_bind(&bind)?);
    }
    for mount in host.mounts.unwrap_or_default() {
        config.mounts.push(parse_mount(mount)?);
    }
    for (target, options) in host.tmpfs.unwrap_or_default() {
        config.mounts.push(parse_tmpfs(target, &options)?);
    }
    if let Some(from) = host.volumes_from.filter(|v| !v.is_empty()) {
        return Err(unsupported(&format!("VolumesFrom ({})", from.join(", "))));
    }
    config.port_bindings = port_bindings(host.port_bindings.unwrap_or_default())?;
    config.publish_all_ports = host.publish_all_ports.unwrap_or(false);
    config.network_mode = match host.network_mode.as_deref() {
        None | Some("" | "default") => "bridge".to_string(),
        Some(mode) => mode.to_string(),
    };
    let endpoints = networking
        .and_then(|n| n.endpoints_config)
        .unwrap_or_default();
    let mode = config.network_mode.clone();
    let own_namespace = matches!(mode.as_str(), "host" | "none") || mode.starts_with("container:");
    for (network, endpoint) in endpoints {
        // The CLI names the mode's network "default" when no --network was given.
        let network = match network.as_str() {
            "default" => mode.clone(),
            _ => network,
        };
        // host, none and container: modes have no endpoint to configure.
        if own_namespace && network == mode {
            continue;
        }
        let wanted = EndpointConfig {
            aliases: endpoint.aliases.unwrap_or_default(),
            ipv4_address: endpoint
                .ipam_config
                .and_then(|ipam| ipam.ipv4_address)
                .filter(|ip| !ip.is_empty()),
        };
        config.networks.insert(network, wanted);
    }
    config.restart_policy = restart_policy(host.restart_policy)?;
    config.auto_remove = host.auto_remove.unwrap_or(false);
    if config.auto_remove && config.restart_policy != RestartPolicy::No {
        return Err(ApiError::bad_request(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    let resources = &mut config.resources;
    // Docker sends 0 for "not set" in every limit but the pids one.
    resources.memory = host.memory.filter(|&v| v != 0);
    resources.memory_swap = host.memory_swap.filter(|&v| v != 0);
    resources.nano_cpus = host.nano_cpus.filter(|&v| v != 0);
    resources.cpu_shares = host.cpu_shares.filter(|&v| v != 0);
    resources.pids_limit = host.pids_limit;
    resources.cpuset_cpus = host.cpuset_cpus.filter(|v| !v.is_empty());
    if host.cpu_quota.is_some_and(|q| q > 0) || host.cpu_period.is_some_and(|p| p > 0) {
        return Err(unsupported("CpuQuota/CpuPeriod (use NanoCpus, `--cpus`)"));
    }
    config.init = host.init.unwrap_or(false);
    config.cap_add = host.cap_add.unwrap_or_default();
    config.cap_drop = host.cap_drop.unwrap_or_default();
    config.privileged = host.privileged.unwrap_or(false);
    config.read_only_rootfs = host.readonly_rootfs.unwrap_or(false);
    config.security_opt = host.security_opt.unwrap_or_default();
    config.sysctls = sorted(host.sysctls.unwrap_or_default());
    config.ulimits = host
        .ulimits
        .unwrap_or_default()
        .into_iter()
        .map(|u| Ulimit {
            name: u.name.unwrap_or_default(),
            soft: u.soft.unwrap_or(0),
            hard: u.hard.unwrap_or(0),
        })
        .collect();
    config.extra_hosts = host.extra_hosts.unwrap_or_default();
    config.dns = host.dns.unwrap_or_default();
    config.dns_search = host.dns_search.unwrap_or_default();
    config.dns_options = host.dns_options.unwrap_or_default();
    config.shm_size = host.shm_size.filter(|&v| v != 0);
    config.group_add = host.group_add.unwrap_or_default();
    Ok(())
}

fn unsupported(what: &str) -> ApiError {
    ApiError::bad_request(format!("{what} is not supported by Berth yet"))
}

fn sorted(map: HashMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter().collect()
}

/// `src:dst[:opts]`: an absolute `src` is a host path, anything else a volume name.
fn parse_bind(spec: &str) -> ApiResult<MountConfig> {
    let bad =
        |why: &str| ApiError::bad_request(format!("invalid volume specification: '{spec}': {why}"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, options) = match parts.as_slice() {
        [source, target] => (*source, *target, ""),
        [source, target, options] => (*source, *target, *options),
        [_] => {
            return Err(unsupported(&format!(
                "an anonymous volume in Binds ('{spec}')"
            )))
        }
        _ => return Err(bad("expected SOURCE:TARGET[:OPTIONS]")),
    };
    if source.is_empty() || target.is_empty() {
        return Err(bad("empty source or target"));
    }
    let mut readonly = false;
    let mut propagation = Propagation::default();
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => readonly = true,
            "rw" => readonly = false,
            // SELinux relabelling and volume copy control have nothing to do here.
            "z" | "Z" | "nocopy" | "copy" => {}
            other => {
                propagation = parse_propagation(other)
                    .ok_or_else(|| bad(&format!("unknown option '{other}'")))?
            }
        }
    }
    Ok(if source.starts_with('/') {
        MountConfig::Bind {
            source: PathBuf::from(source),
            target: target.to_string(),
            readonly,
            propagation,
        }
    } else {
        MountConfig::Volume {
            name: source.to_string(),
            target: target.to_string(),
            readonly,
        }
    })
}

fn parse_propagation(text: &str) -> Option<Propagation> {
    Some(match text {
        "private" => Propagation::Private,
        "rprivate" => Propagation::Rprivate,
        "shared" => Propagation::Shared,
        "rshared" => Propagation::Rshared,
        "slave" => Propagation::Slave,
        "rslave" => Propagation::Rslave,
        _ => return None,
    })
}

/// One entry of `HostConfig.Mounts` (`--mount`).
fn parse_mount(mount: Mount) -> ApiResult<MountConfig> {
    let target = mount
        .target
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("invalid mount config: Target must not be empty"))?;
    let readonly = mount.read_only.unwrap_or(false);
    let source = mount.source.unwrap_or_default();
    match mount.typ {
        Some(MountType::BIND) => {
            if source.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "invalid mount config for type \"bind\": field Source must not be empty ({target})"
                )));
            }
            let propagation = match mount.bind_options.and_then(|o| o.propagation) {
                None | Some(MountBindOptionsPropagationEnum::EMPTY) => Propagation::default(),
                Some(p) => parse_propagation(p.as_ref()).unwrap_or_default(),
            };
            Ok(MountConfig::Bind {
                source: PathBuf::from(source),
                target,
                readonly,
                propagation,
            })
        }
        Some(MountType::VOLUME) => {
            if source.is_empty() {
                return Err(unsupported(&format!(
                    "an anonymous volume mount (no Source, at {target})"
                )));
            }
            Ok(MountConfig::Volume {
                name: source,
                target,
                readonly,
            })
        }
        Some(MountType::TMPFS) => {
            let options = mount.tmpfs_options.unwrap_or_default();
            Ok(MountConfig::Tmpfs {
                target,
                size: options.size_bytes.filter(|&s| s > 0),
                mode: options
                    .mode
                    .filter(|&m| m > 0)
                    .map(|m| u32::try_from(m).unwrap_or(0o1777)),
            })
        }
        Some(other) => Err(unsupported(&format!("mount type \"{other}\""))),
        None => Err(ApiError::bad_request(
            "invalid mount config: Type must not be empty",
        )),
    }
}

/// `HostConfig.Tmpfs`: `"/run": "size=64m,mode=1777"`. Flags such as `noexec` are the
/// engine's defaults for a tmpfs anyway.
fn parse_tmpfs(target: String, options: &str) -> ApiResult<MountConfig> {
    let mut size = None;
    let mut mode = None;
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", value)) => {
                size = Some(parse_bytes(value).ok_or_else(|| {
                    ApiError::bad_request(format!("invalid tmpfs size {value:?} for {target}"))
                })?)
            }
            Some(("mode", value)) => {
                mode = Some(u32::from_str_radix(value, 8).map_err(|_| {
                    ApiError::bad_request(format!("invalid tmpfs mode {value:?} for {target}"))
                })?)
            }
            Some((key, _)) => {
                return Err(ApiError::bad_request(format!(
                    "invalid tmpfs option {key:?} for {target}"
                )))
            }
            None => {}
        }
    }
    Ok(MountConfig::Tmpfs { target, size, mode })
}

/// Docker's RAM sizes: `64m`, `1g`, `512k`, `1.5GiB`, plain bytes.
pub fn parse_bytes(text: &str) -> Option<i64> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let lower = lower.trim_end_matches('b').trim_end_matches('i');
    let (number, unit) = match lower.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => lower.split_at(at),
        None => (lower, ""),
    };
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    let value: f64 = number.trim().parse().ok()?;
    (value >= 0.0).then_some((value * factor) as i64)
}

/// `PortBindings`: `"80/tcp": [{"HostIp": "", "HostPort": "8080"}]`; a key without a
/// protocol is TCP.
fn port_bindings(map: PortMap) -> ApiResult<BTreeMap<String, Vec<PortBinding>>> {
    let mut out = BTreeMap::new();
    for (key, bindings) in map {
        let key = normalize_port(&key)?;
        let bindings = bindings
            .unwrap_or_default()
            .into_iter()
            .map(|b| PortBinding {
                host_ip: b.host_ip.unwrap_or_default(),
                host_port: b.host_port.unwrap_or_default(),
            })
            .collect();
        out.insert(key, bindings);
    }
    Ok(out)
}

/// `80` -> `80/tcp`; refuses what is not `PORT[/PROTO]`.
pub fn normalize_port(key: &str) -> ApiResult<String> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if port.parse::<u16>().map_or(true, |p| p == 0)
        || !["tcp", "udp", "sctp"].contains(&proto.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "invalid port specification: {key:?}"
        )));
    }
    Ok(format!("{port}/{proto}"))
}

fn restart_policy(
    policy: Option<bollard_stubs::models::RestartPolicy>,
) -> ApiResult<RestartPolicy> {
    let Some(policy) = policy else {
        return Ok(RestartPolicy::No);
    };
    let retries = policy.maximum_retry_count.unwrap_or(0);
    let name = policy.name.unwrap_or(RestartPolicyNameEnum::EMPTY);
    if retries != 0 && name != RestartPolicyNameEnum::ON_FAILURE {
        return Err(ApiError::bad_request(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'",
        ));
    }
    Ok(match name {
        RestartPolicyNameEnum::EMPTY | RestartPolicyNameEnum::NO => RestartPolicy::No,
        RestartPolicyNameEnum::ALWAYS => RestartPolicy::Always,
        RestartPolicyNameEnum::UNLESS_STOPPED => RestartPolicy::UnlessStopped,
        RestartPolicyNameEnum::ON_FAILURE => RestartPolicy::OnFailure {
            max_retries: u32::try_from(retries).map_err(|_| {
                ApiError::bad_request(
                    "invalid restart policy: maximum retry count must be a positive integer",
                )
            })?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_host_paths_or_volume_names() {
        let bind = parse_bind("/srv:/data:ro,rshared").unwrap();
        assert_eq!(
            bind,
            MountConfig::Bind {
                source: "/srv".into(),
                target: "/data".into(),
                readonly: true,
                propagation: Propagation::Rshared,
            }
        );
        let volume = parse_bind("cache:/cache:Z").unwrap();
        assert!(
            matches!(volume, MountConfig::Volume { ref name, readonly: false, .. } if name == "cache")
        );
        assert!(parse_bind("/a:/b:bogus").is_err());
        assert!(parse_bind("/only").is_err());
    }

    #[test]
    fn sizes_tmpfs_and_ports() {
        assert_eq!(parse_bytes("64m"), Some(64 << 20));
        assert_eq!(parse_bytes("1GiB"), Some(1 << 30));
        assert_eq!(parse_bytes("512"), Some(512));
        assert_eq!(parse_bytes("x"), None);
        let tmpfs = parse_tmpfs("/run".into(), "size=1m,mode=1777,noexec").unwrap();
        assert_eq!(
            tmpfs,
            MountConfig::Tmpfs {
                target: "/run".into(),
                size: Some(1 << 20),
                mode: Some(0o1777)
            }
        );
        assert_eq!(normalize_port("80").unwrap(), "80/tcp");
        assert_eq!(normalize_port("53/UDP").unwrap(), "53/udp");
        assert!(normalize_port("http").is_err());
    }
}
