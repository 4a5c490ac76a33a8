//! `GET /containers/{id}/json`: docker's inspect document, with the image merged into
//! `Config` and `HostConfig` echoing what was asked.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{Path as UrlPath, State};
use axum::{Extension, Json};
use berth_engine::container::config::{ContainerConfig, MountConfig, RestartPolicy};
use berth_engine::container::record::{ContainerRecord, ContainerStatus, Status};
use berth_engine::engine::Engine;
use berth_engine::logs::log_path;
use bollard_stubs::models::{
    ContainerConfig as DockerConfig, ContainerInspectResponse, ContainerState, DriverData,
    HostConfig, NetworkSettings, PortBinding as DockerPortBinding, ResourcesUlimits,
    RestartPolicy as DockerRestartPolicy, RestartPolicyNameEnum,
};
use serde::Deserialize;

use super::view::{self, container_dir};
use crate::api::error::ApiResult;
use crate::api::extract::{docker_bool, Query};
use crate::api::state::AppState;
use crate::api::version::ApiVersion;

#[derive(Debug, Default, Deserialize)]
pub struct InspectQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    size: bool,
}

pub async fn inspect(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<InspectQuery>,
    Extension(version): Extension<ApiVersion>,
) -> ApiResult<Json<serde_json::Value>> {
    let root = state.daemon.root.clone();
    let response = state
        .run(move |engine| {
            let (record, status) = engine.inspect(&id)?;
            Ok(document(engine, &root, &record, &status, query.size))
        })
        .await?;
    let mut value = serde_json::to_value(response).unwrap_or_default();
    if !version.at_least(1, 52) {
        add_legacy_network_fields(&mut value);
    }
    Ok(Json(value))
}

fn document(
    engine: &Engine,
    root: &Path,
    record: &ContainerRecord,
    status: &ContainerStatus,
    size: bool,
) -> ContainerInspectResponse {
    let dir = container_dir(root, &record.id);
    let merged = view::merged(engine, record);
    let args = merged.args();
    let live = engine.container_network(&record.id);
    let exposed = merged
        .merged
        .as_ref()
        .map(|m| m.exposed_ports.clone())
        .unwrap_or_else(|| record.config.exposed_ports.clone());
    let path = |name: &str| Some(dir.join(name).display().to_string());
    let size_rw = size.then(|| view::size_rw(root, &record.id));
    ContainerInspectResponse {
        id: Some(record.id.clone()),
        created: Some(record.created.clone()),
        path: args.first().cloned(),
        args: Some(args.iter().skip(1).cloned().collect()),
        state: Some(state(status)),
        image: Some(record.image_id.clone()),
        resolv_conf_path: path("resolv.conf"),
        hostname_path: path("hostname"),
        hosts_path: path("hosts"),
        log_path: Some(log_path(&dir, &record.id).display().to_string()),
        name: Some(format!("/{}", record.name)),
        restart_count: Some(status.restart_count.into()),
        driver: Some("overlay2".into()),
        platform: Some("linux".into()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        host_config: Some(host_config(&record.config)),
        graph_driver: Some(DriverData {
            name: "overlay2".into(),
            data: HashMap::from([
                ("UpperDir".into(), dir.join("upper").display().to_string()),
                ("WorkDir".into(), dir.join("work").display().to_string()),
                (
                    "MergedDir".into(),
                    dir.join("bundle/rootfs").display().to_string(),
                ),
            ]),
        }),
        size_rw,
        size_root_fs: size_rw,
        mounts: Some(view::mounts(engine, root, record)),
        config: Some(config(record, &merged)),
        network_settings: Some(NetworkSettings {
            sandbox_id: Some(String::new()),
            sandbox_key: Some(String::new()),
            ports: Some(view::port_map(&exposed, live.as_ref())),
            networks: Some(view::networks(record, live.as_ref())),
        }),
        ..Default::default()
    }
}

fn state(status: &ContainerStatus) -> ContainerState {
    ContainerState {
        status: Some(view::state_enum(status.status)),
        // Docker counts a paused container as running, and one between restarts too.
        running: Some(matches!(
            status.status,
            Status::Running | Status::Paused | Status::Restarting
        )),
        paused: Some(status.status == Status::Paused),
        restarting: Some(status.status == Status::Restarting),
        oom_killed: Some(status.oom_killed),
        dead: Some(status.status == Status::Dead),
        pid: Some(status.pid.into()),
        exit_code: Some(status.exit_code.into()),
        error: Some(status.error.clone()),
        started_at: Some(view::time_or_zero(&status.started_at)),
        finished_at: Some(view::time_or_zero(&status.finished_at)),
        health: None,
    }
}

/// `Config`: the request with the image's config merged in, as docker shows it.
fn config(record: &ContainerRecord, merged: &view::Merged) -> DockerConfig {
    let request = &record.config;
    let full = merged.merged.as_ref();
    let hostname = request
        .hostname
        .clone()
        .unwrap_or_else(|| record.id.chars().take(12).collect());
    let labels = full.map_or_else(|| request.labels.clone(), |m| m.labels.clone());
    let exposed = full.map_or_else(
        || request.exposed_ports.clone(),
        |m| m.exposed_ports.clone(),
    );
    DockerConfig {
        hostname: Some(hostname),
        domainname: Some(request.domainname.clone().unwrap_or_default()),
        user: Some(full.map_or_else(
            || request.user.clone().unwrap_or_default(),
            |m| m.user.clone(),
        )),
        attach_stdin: Some(false),
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        exposed_ports: (!exposed.is_empty()).then(|| exposed.into_iter().collect()),
        tty: Some(request.tty),
        open_stdin: Some(request.open_stdin),
        stdin_once: Some(request.stdin_once),
        env: Some(full.map_or_else(|| request.env.clone(), |m| m.env.clone())),
        cmd: merged.cmd.clone(),
        image: Some(request.image.clone()),
        volumes: (!merged.image_volumes.is_empty()).then(|| merged.image_volumes.clone()),
        working_dir: Some(merged.working_dir.clone()),
        entrypoint: merged.entrypoint.clone(),
        labels: Some(labels.into_iter().collect()),
        stop_signal: request.stop_signal.clone(),
        stop_timeout: request.stop_timeout.map(i64::from),
        ..Default::default()
    }
}

/// `HostConfig`, rebuilt from the engine's config: what the request asked for, so that
/// `docker port`, `docker inspect -f '{{.HostConfig.RestartPolicy.Name}}'` and friends see
/// it. Bind and volume mounts come back as `Binds`, tmpfs ones as `Tmpfs`.
pub fn host_config(config: &ContainerConfig) -> HostConfig {
    let mut binds = Vec::new();
    let mut tmpfs = HashMap::new();
    for mount in &config.mounts {
        match mount {
            MountConfig::Bind {
                source,
                target,
                readonly,
                ..
            } => binds.push(bind_text(&source.display().to_string(), target, *readonly)),
            MountConfig::Volume {
                name,
                target,
                readonly,
            } => binds.push(bind_text(name, target, *readonly)),
            MountConfig::Tmpfs { target, size, mode } => {
                let mut options = Vec::new();
                if let Some(size) = size {
                    options.push(format!("size={size}"));
                }
                if let Some(mode) = mode {
                    options.push(format!("mode={mode:o}"));
                }
                tmpfs.insert(target.clone(), options.join(","));
            }
        }
    }
    let (name, retries) = match config.restart_policy {
        RestartPolicy::No => (RestartPolicyNameEnum::NO, 0),
        RestartPolicy::Always => (RestartPolicyNameEnum::ALWAYS, 0),
        RestartPolicy::UnlessStopped => (RestartPolicyNameEnum::UNLESS_STOPPED, 0),
        RestartPolicy::OnFailure { max_retries } => {
            (RestartPolicyNameEnum::ON_FAILURE, max_retries.into())
        }
    };
    let resources = &config.resources;
    let port_bindings = config
        .port_bindings
        .iter()
        .map(|(port, bindings)| {
            let list = bindings
                .iter()
                .map(|b| DockerPortBinding {
                    host_ip: Some(b.host_ip.clone()),
                    host_port: Some(b.host_port.clone()),
                })
                .collect();
            (port.clone(), Some(list))
        })
        .collect();
    HostConfig {
        binds: (!binds.is_empty()).then_some(binds),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        network_mode: Some(config.network_mode.clone()),
        port_bindings: Some(port_bindings),
        publish_all_ports: Some(config.publish_all_ports),
        restart_policy: Some(DockerRestartPolicy {
            name: Some(name),
            maximum_retry_count: Some(retries),
        }),
        auto_remove: Some(config.auto_remove),
        memory: Some(resources.memory.unwrap_or(0)),
        memory_swap: Some(resources.memory_swap.unwrap_or(0)),
        nano_cpus: Some(resources.nano_cpus.unwrap_or(0)),
        cpu_shares: Some(resources.cpu_shares.unwrap_or(0)),
        pids_limit: resources.pids_limit,
        cpuset_cpus: Some(resources.cpuset_cpus.clone().unwrap_or_default()),
        init: config.init.then_some(true),
        cap_add: (!config.cap_add.is_empty()).then(|| config.cap_add.clone()),
        cap_drop: (!config.cap_drop.is_empty()).then(|| config.cap_drop.clone()),
        privileged: Some(config.privileged),
        readonly_rootfs: Some(config.read_only_rootfs),
        security_opt: (!config.security_opt.is_empty()).then(|| config.security_opt.clone()),
        sysctls: (!config.sysctls.is_empty()).then(|| config.sysctls.clone().into_iter().collect()),
        ulimits: Some(
            config
                .ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect(),
        ),
        extra_hosts: Some(config.extra_hosts.clone()),
        dns: Some(config.dns.clone()),
        dns_search: Some(config.dns_search.clone()),
        dns_options: Some(config.dns_options.clone()),
        shm_size: Some(config.shm_size.unwrap_or(64 << 20)),
        group_add: (!config.group_add.is_empty()).then(|| config.group_add.clone()),
        log_config: Some(bollard_stubs::models::HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(HashMap::new()),
        }),
        ..Default::default()
    }
}

fn bind_text(source: &str, target: &str, readonly: bool) -> String {
    match readonly {
        true => format!("{source}:{target}:ro"),
        false => format!("{source}:{target}"),
    }
}

/// Before API 1.52 `NetworkSettings` also carried the default network's endpoint at its
/// top level (`{{.NetworkSettings.IPAddress}}`); the models no longer have those fields.
fn add_legacy_network_fields(value: &mut serde_json::Value) {
    let settings = &mut value["NetworkSettings"];
    let networks = settings["Networks"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let first = networks
        .get("bridge")
        .or_else(|| networks.values().next())
        .cloned()
        .unwrap_or_default();
    let field = |name: &str| first.get(name).cloned().unwrap_or_else(|| "".into());
    let Some(object) = settings.as_object_mut() else {
        return;
    };
    for (key, value) in [
        ("Bridge", "".into()),
        ("EndpointID", field("EndpointID")),
        ("Gateway", field("Gateway")),
        ("GlobalIPv6Address", "".into()),
        ("GlobalIPv6PrefixLen", 0.into()),
        ("IPAddress", field("IPAddress")),
        (
            "IPPrefixLen",
            first
                .get("IPPrefixLen")
                .cloned()
                .unwrap_or_else(|| 0.into()),
        ),
        ("IPv6Gateway", "".into()),
        ("MacAddress", field("MacAddress")),
        ("HairpinMode", false.into()),
        ("LinkLocalIPv6Address", "".into()),
        ("LinkLocalIPv6PrefixLen", 0.into()),
    ] {
        object.insert(key.to_string(), value);
    }
}
