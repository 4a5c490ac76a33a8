//! `POST /containers/create`: Docker's create body onto the engine's [`ContainerConfig`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use berth_engine::container::config::ContainerConfig;
use bollard_stubs::models::{ContainerCreateBody, ContainerCreateResponse};
use serde::Deserialize;

use super::host_config::{self, normalize_port};
use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{Body, Query};
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct CreateQuery {
    name: Option<String>,
    platform: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Query(query): Query<CreateQuery>,
    Body(body): Body<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<ContainerCreateResponse>)> {
    check_restart_policy(&body)?;
    let body: ContainerCreateBody = match body {
        serde_json::Value::Null => ContainerCreateBody::default(),
        value => serde_json::from_value(value)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?,
    };
    check_platform(query.platform.as_deref())?;
    let config = to_config(body)?;
    let name = query.name.filter(|n| !n.is_empty());
    let record = state
        .run(move |engine| Ok(engine.create(name.as_deref(), config)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ContainerCreateResponse {
            id: record.id,
            warnings: Vec::new(),
        }),
    ))
}

/// Docker's own message for an unknown policy name, which the typed model could only
/// report as an unknown enum variant.
fn check_restart_policy(body: &serde_json::Value) -> ApiResult<()> {
    let name = &body["HostConfig"]["RestartPolicy"]["Name"];
    match name.as_str() {
        None if name.is_null() => Ok(()),
        Some("" | "no" | "always" | "unless-stopped" | "on-failure") => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "invalid restart policy: unknown policy '{}'; use one of 'no', 'always', \
             'on-failure', or 'unless-stopped'",
            name.as_str()
                .map_or_else(|| name.to_string(), str::to_string)
        ))),
    }
}

/// Only Linux images run here; the architecture is the image's business.
fn check_platform(platform: Option<&str>) -> ApiResult<()> {
    match platform {
        None | Some("") => Ok(()),
        Some(p) if p == "linux" || p.starts_with("linux/") => Ok(()),
        Some(p) => Err(ApiError::bad_request(format!(
            "unsupported platform {p:?}: Berth runs linux containers"
        ))),
    }
}

/// The create body as the engine's config; `HostConfig` and `NetworkingConfig` go through
/// [`host_config::apply`].
pub fn to_config(body: ContainerCreateBody) -> ApiResult<ContainerConfig> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let mut config = ContainerConfig {
        image: body.image.unwrap_or_default(),
        entrypoint: body.entrypoint,
        cmd: body.cmd,
        env: body.env.unwrap_or_default(),
        working_dir: nonempty(body.working_dir),
        user: nonempty(body.user),
        hostname: nonempty(body.hostname),
        domainname: nonempty(body.domainname),
        labels: body.labels.unwrap_or_default().into_iter().collect(),
        tty: body.tty.unwrap_or(false),
        open_stdin: body.open_stdin.unwrap_or(false),
        stdin_once: body.stdin_once.unwrap_or(false),
        stop_signal: nonempty(body.stop_signal),
        stop_timeout: body
            .stop_timeout
            .map(|t| {
                u32::try_from(t).map_err(|_| {
                    ApiError::bad_request(format!("invalid StopTimeout {t}: must be >= 0"))
                })
            })
            .transpose()?,
        ..Default::default()
    };
    for port in body.exposed_ports.unwrap_or_default() {
        config.exposed_ports.insert(normalize_port(&port)?);
    }
    // `-v /data`: an anonymous volume, created at start and removed by `rm -v`.
    config.volumes = body.volumes.unwrap_or_default().into_iter().collect();
    if body.healthcheck.is_some_and(|h| {
        h.test
            .as_ref()
            .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
    }) {
        return Err(ApiError::bad_request(
            "health checks are not supported by Berth yet",
        ));
    }
    let host_config = body.host_config.unwrap_or_default();
    if let Some([height, width]) = host_config.console_size.as_deref() {
        let size = |n: usize| u16::try_from(n).ok().filter(|n| *n > 0);
        config.console_size = size(*height).zip(size(*width));
    }
    host_config::apply(&mut config, host_config, body.networking_config)?;
    Ok(config)
}
