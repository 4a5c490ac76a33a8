//! Containers: list, inspect, the lifecycle actions, remove, run and wait. Docker's own
//! JSON goes to the UI unchanged (bollard's models serialize to the API's PascalCase).

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, HostConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, RemoveContainerOptions,
    RestartContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use serde::Deserialize;
use tauri::State;

use crate::docker;
use crate::error::{AppError, CmdResult};
use crate::state::AppState;

#[tauri::command]
pub async fn containers_list(state: State<'_, AppState>) -> CmdResult<Vec<ContainerSummary>> {
    let options = ListContainersOptions {
        all: true,
        ..Default::default()
    };
    Ok(docker::connect(&state.dirs)?
        .list_containers(Some(options))
        .await?)
}

#[tauri::command]
pub async fn container_inspect(
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<ContainerInspectResponse> {
    Ok(docker::connect(&state.dirs)?
        .inspect_container(&id, None)
        .await?)
}

#[tauri::command]
pub async fn container_action(
    state: State<'_, AppState>,
    id: String,
    action: String,
) -> CmdResult<()> {
    let docker = docker::connect(&state.dirs)?;
    match action.as_str() {
        "start" => docker.start_container(&id, None).await?,
        "stop" => {
            docker
                .stop_container(&id, None::<StopContainerOptions>)
                .await?
        }
        "restart" => {
            docker
                .restart_container(&id, None::<RestartContainerOptions>)
                .await?
        }
        "pause" => docker.pause_container(&id).await?,
        "unpause" => docker.unpause_container(&id).await?,
        "kill" => {
            docker
                .kill_container(&id, None::<KillContainerOptions>)
                .await?
        }
        other => return Err(AppError::msg(format!("Unknown container action {other:?}"))),
    }
    Ok(())
}

#[tauri::command]
pub async fn container_remove(
    state: State<'_, AppState>,
    id: String,
    force: bool,
) -> CmdResult<()> {
    // `v: false`: the container's volumes are kept, as the contract says.
    let options = RemoveContainerOptions {
        force,
        v: false,
        link: false,
    };
    Ok(docker::connect(&state.dirs)?
        .remove_container(&id, Some(options))
        .await?)
}

/// What `container_run` creates: a `docker run -d` in one object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSpec {
    pub image: String,
    pub name: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    #[serde(default)]
    pub volumes: Vec<VolumeSpec>,
    #[serde(default)]
    pub auto_remove: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSpec {
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Option<String>,
    pub host_ip: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpec {
    /// A host path (absolute) or a volume's name.
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
}

#[tauri::command]
pub async fn container_run(state: State<'_, AppState>, spec: RunSpec) -> CmdResult<String> {
    let body = create_body(&spec)?;
    let docker = docker::connect(&state.dirs)?;
    match docker.inspect_image(&spec.image).await {
        Ok(_) => {}
        Err(e) if docker::is_not_found(&e) => {
            crate::images::pull(&docker, &spec.image, |_| {}).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let options = CreateContainerOptions {
        name: spec.name.clone().filter(|n| !n.is_empty()),
        ..Default::default()
    };
    let created = docker.create_container(Some(options), body).await?;
    docker.start_container(&created.id, None).await?;
    Ok(created.id)
}

/// The create request for a spec; `Err` names the bad part.
pub fn create_body(spec: &RunSpec) -> CmdResult<ContainerCreateBody> {
    if spec.image.trim().is_empty() {
        return Err(AppError::msg("An image is needed to run a container"));
    }
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.ports {
        let proto = p.protocol.as_deref().unwrap_or("tcp");
        if !["tcp", "udp"].contains(&proto) {
            return Err(AppError::msg(format!(
                "Unknown protocol {proto:?}: tcp or udp"
            )));
        }
        if p.container_port == 0 {
            return Err(AppError::msg("A container port must be from 1 to 65535"));
        }
        let key = format!("{}/{proto}", p.container_port);
        if !exposed.contains(&key) {
            exposed.push(key.clone());
        }
        bindings
            .entry(key)
            .or_default()
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: p.host_ip.clone().filter(|ip| !ip.is_empty()),
                // 0 asks the engine for a free port, as `-p :80` does.
                host_port: Some(if p.host_port == 0 {
                    String::new()
                } else {
                    p.host_port.to_string()
                }),
            });
    }
    let mut binds = Vec::new();
    for v in &spec.volumes {
        if v.source.is_empty() || !v.target.starts_with('/') {
            return Err(AppError::msg(format!(
                "A volume needs a source and an absolute target: {:?} -> {:?}",
                v.source, v.target
            )));
        }
        let mode = if v.read_only { ":ro" } else { "" };
        binds.push(format!("{}:{}{mode}", v.source, v.target));
    }
    Ok(ContainerCreateBody {
        image: Some(spec.image.trim().to_string()),
        cmd: spec.cmd.clone().filter(|c| !c.is_empty()),
        env: spec.env.clone().filter(|e| !e.is_empty()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            binds: (!binds.is_empty()).then_some(binds),
            auto_remove: Some(spec.auto_remove),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[tauri::command]
pub async fn container_wait(state: State<'_, AppState>, id: String) -> CmdResult<i64> {
    let docker = docker::connect(&state.dirs)?;
    let mut wait = docker.wait_container(&id, None);
    match wait.next().await {
        Some(Ok(answer)) => Ok(answer.status_code),
        // bollard reports a non-zero exit as an error; for the UI it is the answer.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(e.into()),
        None => Err(AppError::msg(
            "The engine ended the wait without an exit code",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_spec_becomes_dockers_create_request() {
        let spec: RunSpec = serde_json::from_value(serde_json::json!({
            "image": "berth/hello",
            "name": "web",
            "cmd": ["httpd", "-f"],
            "ports": [{"hostPort": 8080, "containerPort": 80},
                      {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIp": "127.0.0.1"}],
            "volumes": [{"source": "/home/u/site", "target": "/var/www", "readOnly": true},
                        {"source": "data", "target": "/data"}],
            "autoRemove": true
        }))
        .unwrap();
        let body = serde_json::to_value(create_body(&spec).unwrap()).unwrap();
        assert_eq!(body["Image"], "berth/hello");
        assert_eq!(body["Cmd"], serde_json::json!(["httpd", "-f"]));
        // Docker's shape: an object whose keys are the ports.
        assert_eq!(
            body["ExposedPorts"],
            serde_json::json!({"80/tcp": {}, "53/udp": {}})
        );
        let host = &body["HostConfig"];
        assert_eq!(host["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
        assert_eq!(host["PortBindings"]["53/udp"][0]["HostIp"], "127.0.0.1");
        assert_eq!(
            host["Binds"],
            serde_json::json!(["/home/u/site:/var/www:ro", "data:/data"])
        );
        assert_eq!(host["AutoRemove"], true);
        assert!(body.get("Env").is_none());
    }

    #[test]
    fn bad_run_specs_say_what_is_wrong() {
        let base = RunSpec {
            image: "x".into(),
            ..Default::default()
        };
        assert!(create_body(&RunSpec {
            image: " ".into(),
            ..Default::default()
        })
        .is_err());
        let bad_proto = RunSpec {
            ports: vec![PortSpec {
                host_port: 1,
                container_port: 1,
                protocol: Some("sctp".into()),
                host_ip: None,
            }],
            ..base.clone()
        };
        assert!(create_body(&bad_proto)
            .unwrap_err()
            .message()
            .contains("sctp"));
        let relative = RunSpec {
            volumes: vec![VolumeSpec {
                source: "/a".into(),
                target: "b".into(),
                read_only: false,
            }],
            ..base
        };
        assert!(create_body(&relative).is_err());
    }
}
