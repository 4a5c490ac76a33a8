//! The `/networks` endpoints: `docker network create|ls|inspect|rm|connect|disconnect|
//! prune`. Only the bridge driver exists (plus the pre-defined `host` and `none`); the
//! engine's `network` module does the work and publishes the network events.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_engine::container::config::EndpointConfig;
use berth_engine::engine::NetworkCallError;
use berth_engine::network::{NetworkCreate, NetworkRecord, NetworkView};
use bollard_stubs::models::{
    EndpointResource, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkCreateResponse, NetworkDisconnectRequest, NetworkInspect, NetworkPruneResponse,
    NetworkSummary,
};
use serde::Deserialize;

use super::error::{chain, ApiError, ApiResult};
use super::extract::{parse_filters, Body, Filters, Query};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

fn api_error(err: NetworkCallError) -> ApiError {
    if err.is_forbidden() {
        return ApiError::new(StatusCode::FORBIDDEN, chain(&err));
    }
    ApiError::from_kind(err.kind(), chain(&err))
}

fn driver(record: &NetworkRecord) -> String {
    record.driver.clone()
}

fn ipam(record: &NetworkRecord) -> Ipam {
    let config = match record.subnet.is_empty() {
        true => Vec::new(),
        false => vec![IpamConfig {
            subnet: Some(record.subnet.clone()),
            gateway: Some(record.gateway.clone()),
            ..Default::default()
        }],
    };
    Ipam {
        driver: Some("default".into()),
        config: Some(config),
        options: Some(HashMap::new()),
    }
}

fn summary(record: &NetworkRecord) -> NetworkSummary {
    NetworkSummary {
        name: Some(record.name.clone()),
        id: Some(record.id.clone()),
        created: Some(record.created.clone()),
        scope: Some("local".into()),
        driver: Some(driver(record)),
        enable_ipv4: Some(record.is_bridge()),
        enable_ipv6: Some(false),
        ipam: Some(ipam(record)),
        internal: Some(record.internal),
        attachable: Some(record.attachable),
        ingress: Some(false),
        config_only: Some(false),
        options: Some(record.options.clone().into_iter().collect()),
        labels: Some(record.labels.clone().into_iter().collect()),
        ..Default::default()
    }
}

fn inspect_model(view: &NetworkView) -> NetworkInspect {
    let r = &view.record;
    let containers = view
        .containers
        .iter()
        .map(|(id, (name, ep))| {
            let resource = EndpointResource {
                name: Some(name.clone()),
                endpoint_id: Some(ep.endpoint_id.clone()),
                mac_address: Some(ep.mac.clone()),
                ipv4_address: Some(format!("{}/{}", ep.ip, ep.prefix_len)),
                ipv6_address: Some(String::new()),
            };
            (id.clone(), resource)
        })
        .collect();
    NetworkInspect {
        name: Some(r.name.clone()),
        id: Some(r.id.clone()),
        created: Some(r.created.clone()),
        scope: Some("local".into()),
        driver: Some(driver(r)),
        enable_ipv4: Some(r.is_bridge()),
        enable_ipv6: Some(false),
        ipam: Some(ipam(r)),
        internal: Some(r.internal),
        attachable: Some(r.attachable),
        ingress: Some(false),
        config_only: Some(false),
        options: Some(r.options.clone().into_iter().collect()),
        labels: Some(r.labels.clone().into_iter().collect()),
        containers: Some(containers),
        ..Default::default()
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    filters: Option<String>,
}

/// docker's network filters: name (substring), id (prefix), driver, label, type.
fn matches(filters: &Filters, r: &NetworkRecord) -> bool {
    let any = |key: &str, f: &dyn Fn(&str) -> bool| {
        !filters.has(key) || filters.get(key).iter().any(|v| f(v))
    };
    any("name", &|v| r.name.contains(v))
        && any("id", &|v| r.id.starts_with(v))
        && any("driver", &|v| r.driver == v)
        && any("type", &|v| match v {
            "builtin" => r.predefined,
            "custom" => !r.predefined,
            _ => false,
        })
        && filters.labels_match(&r.labels)
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<NetworkSummary>>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["name", "id", "driver", "label", "type", "scope", "dangling"])?;
    for t in filters.get("type") {
        if !matches!(t.as_str(), "builtin" | "custom") {
            return Err(ApiError::bad_request(format!(
                "invalid filter: 'type'='{t}'"
            )));
        }
    }
    let views = state.run(|engine| Ok(engine.network_list())).await?;
    Ok(Json(
        views
            .iter()
            .filter(|v| matches(&filters, &v.record))
            .map(|v| summary(&v.record))
            .collect(),
    ))
}

async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkInspect>> {
    let view = state
        .run(move |engine| engine.network_inspect(&id).map_err(api_error))
        .await?;
    Ok(Json(inspect_model(&view)))
}

async fn create(
    State(state): State<AppState>,
    Body(request): Body<NetworkCreateRequest>,
) -> ApiResult<Response> {
    if request.name.is_empty() {
        return Err(ApiError::bad_request("network name must not be empty"));
    }
    let ipam = request.ipam.clone().unwrap_or_default();
    let configs = ipam.config.unwrap_or_default();
    if configs.len() > 1 {
        return Err(ApiError::bad_request(
            "only one IPv4 subnet per network is supported",
        ));
    }
    let first = configs.into_iter().next().unwrap_or_default();
    let create = NetworkCreate {
        name: request.name,
        driver: request.driver.unwrap_or_default(),
        internal: request.internal.unwrap_or(false),
        attachable: request.attachable.unwrap_or(false),
        labels: request.labels.unwrap_or_default().into_iter().collect(),
        options: request.options.unwrap_or_default().into_iter().collect(),
        subnet: first.subnet,
        gateway: first.gateway,
    };
    let record = state
        .run(move |engine| engine.network_create(create).map_err(api_error))
        .await?;
    let body = NetworkCreateResponse {
        id: record.id,
        warning: String::new(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state
        .run(move |engine| engine.network_remove(&id).map_err(api_error))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn connect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<NetworkConnectRequest>,
) -> ApiResult<StatusCode> {
    if request.container.is_empty() {
        return Err(ApiError::bad_request("no container given"));
    }
    let settings = request.endpoint_config.unwrap_or_default();
    let endpoint = EndpointConfig {
        aliases: settings.aliases.unwrap_or_default(),
        ipv4_address: settings
            .ipam_config
            .and_then(|c| c.ipv4_address)
            .filter(|ip| !ip.is_empty()),
    };
    state
        .run(move |engine| {
            engine
                .network_connect(&id, &request.container, endpoint)
                .map_err(api_error)
        })
        .await?;
    Ok(StatusCode::OK)
}

async fn disconnect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<NetworkDisconnectRequest>,
) -> ApiResult<StatusCode> {
    if request.container.is_empty() {
        return Err(ApiError::bad_request("no container given"));
    }
    let force = request.force.unwrap_or(false);
    state
        .run(move |engine| {
            engine
                .network_disconnect(&id, &request.container, force)
                .map_err(api_error)
        })
        .await?;
    Ok(StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct PruneQuery {
    filters: Option<String>,
}

async fn prune(
    State(state): State<AppState>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<NetworkPruneResponse>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["label", "label!", "until"])?;
    if filters.has("until") {
        return Err(ApiError::not_implemented(
            "the until filter of network prune is not supported yet",
        ));
    }
    let deleted = state
        .run(move |engine| {
            Ok(engine.network_prune(|record| {
                let unwanted = filters
                    .get("label!")
                    .iter()
                    .any(|l| match l.split_once('=') {
                        Some((k, v)) => record.labels.get(k).is_some_and(|x| x == v),
                        None => record.labels.contains_key(l.as_str()),
                    });
                !filters.labels_match(&record.labels) || unwanted
            }))
        })
        .await?;
    Ok(Json(NetworkPruneResponse {
        networks_deleted: Some(deleted),
    }))
}
