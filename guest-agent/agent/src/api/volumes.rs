//! The `/volumes` endpoints: `docker volume create|ls|inspect|rm|prune`. Only the local
//! driver exists. A volume any container references (running or not) is in use: `rm`
//! refuses it with docker's message and `prune` skips it.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use berth_engine::engine::VolumeRemoveError;
use berth_engine::events::Event;
use berth_engine::volume::{self, LabelFilter, VolumeError, ANONYMOUS_LABEL, LOCAL_DRIVER};
use bollard_stubs::models::{
    Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse, VolumeScopeEnum,
};
use serde::Deserialize;

use super::error::{chain, ApiError, ApiResult};
use super::extract::{docker_bool, parse_filters, Body, Filters, Query};
use super::state::AppState;
use super::version::ApiVersion;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        .route("/volumes/{name}", get(inspect).delete(remove))
}

/// The engine's volume as docker's model.
pub(crate) fn to_model(v: &volume::Volume) -> Volume {
    Volume {
        name: v.name.clone(),
        driver: v.driver.clone(),
        mountpoint: v.mountpoint.display().to_string(),
        created_at: Some(rfc3339(v.created_at)),
        labels: v.labels.clone().into_iter().collect(),
        scope: Some(VolumeScopeEnum::LOCAL),
        options: HashMap::new(),
        ..Default::default()
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Docker's statuses and wording for volume errors.
fn volume_error(err: VolumeError, name: &str) -> ApiError {
    match &err {
        VolumeError::NotFound(_) => ApiError::not_found(format!("get {name}: no such volume")),
        VolumeError::InUse { .. } => ApiError::conflict(format!("remove {name}: volume is in use")),
        VolumeError::InvalidName { .. } | VolumeError::UnsupportedDriver(_) => {
            ApiError::bad_request(chain(&err))
        }
        _ => ApiError::internal(chain(&err)),
    }
}

async fn create(
    State(state): State<AppState>,
    Body(request): Body<VolumeCreateRequest>,
) -> ApiResult<Response> {
    let driver = request.driver.unwrap_or_default();
    if !(driver.is_empty() || driver == LOCAL_DRIVER) {
        return Err(ApiError::bad_request(format!(
            "volume driver {driver:?} is not supported: Berth has only the \"local\" driver"
        )));
    }
    if request.driver_opts.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(ApiError::bad_request(
            "volume driver options (--opt) are not supported yet by Berth's local driver",
        ));
    }
    let labels: BTreeMap<String, String> = request.labels.unwrap_or_default().into_iter().collect();
    // As in docker, a volume created without a name is still a named one (`volume prune`
    // keeps it); only one labelled anonymous (as compose labels them) is anonymous, and
    // then the store names it.
    let name = match request.name.filter(|n| !n.is_empty()) {
        Some(name) => Some(name),
        None if labels.contains_key(ANONYMOUS_LABEL) => None,
        None => Some(generated_name()?),
    };
    let volume = state
        .run(move |engine| {
            let shown = name.clone().unwrap_or_default();
            let volume = engine
                .volumes()
                .create(name.as_deref(), LOCAL_DRIVER, labels)
                .map_err(|e| volume_error(e, &shown))?;
            engine.events().publish(
                Event::new("volume", "create", volume.name.clone()).with("driver", LOCAL_DRIVER),
            );
            Ok(volume)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_model(&volume))).into_response())
}

/// 64 random hex digits, like docker's generated volume names.
fn generated_name() -> ApiResult<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ApiError::internal(format!("cannot generate a volume name: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    filters: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<VolumeListResponse>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["dangling", "name", "label", "driver"])?;
    let dangling = bool_filter(&filters, "dangling")?;
    let volumes = state
        .run(move |engine| {
            let labels: Vec<LabelFilter> = filters
                .get("label")
                .iter()
                .map(|l| LabelFilter::parse(l))
                .collect();
            let users = engine.volume_users();
            let volumes = engine
                .volumes()
                .list(&labels)
                .map_err(|e| volume_error(e, ""))?;
            Ok(volumes
                .iter()
                .filter(|v| dangling.is_none_or(|d| d != users.contains_key(&v.name)))
                .filter(|v| {
                    !filters.has("name") || filters.get("name").iter().any(|n| v.name.contains(n))
                })
                .filter(|v| !filters.has("driver") || filters.get("driver").contains(&v.driver))
                .map(to_model)
                .collect())
        })
        .await?;
    Ok(Json(VolumeListResponse {
        volumes: Some(volumes),
        warnings: Some(Vec::new()),
    }))
}

/// A `true`/`false` filter (`dangling`, `all`); absent is `None`.
fn bool_filter(filters: &Filters, key: &str) -> ApiResult<Option<bool>> {
    match filters.get(key).first().map(String::as_str) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid filter '{key}={other}'"
        ))),
    }
}

async fn inspect(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Volume>> {
    state
        .run(move |engine| {
            let volume = engine
                .volumes()
                .inspect(&name)
                .map_err(|e| volume_error(e, &name))?;
            Ok(Json(to_model(&volume)))
        })
        .await
}

#[derive(Debug, Default, Deserialize)]
struct RemoveQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    force: bool,
}

async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    state
        .run(move |engine| {
            let existed = engine.volumes().inspect(&name).is_ok();
            match engine.remove_volume(&name, query.force) {
                Ok(()) => {}
                Err(e @ VolumeRemoveError::InUse { .. }) => {
                    return Err(ApiError::conflict(e.to_string()))
                }
                Err(VolumeRemoveError::Volume(e)) => return Err(volume_error(e, &name)),
            }
            if existed {
                engine.events().publish(
                    Event::new("volume", "destroy", name.clone()).with("driver", LOCAL_DRIVER),
                );
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

#[derive(Debug, Default, Deserialize)]
struct PruneQuery {
    filters: Option<String>,
}

async fn prune(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<VolumePruneResponse>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["label", "label!", "all"])?;
    // API 1.42 (docker 23) made prune keep named volumes unless asked for all.
    let all = bool_filter(&filters, "all")?.unwrap_or(!version.at_least(1, 42));
    state
        .run(move |engine| {
            let labels: Vec<LabelFilter> = filters
                .get("label")
                .iter()
                .map(|l| LabelFilter::parse(l))
                .collect();
            // The store selects by labels only; exclusions (`label!`) are applied here.
            let report = if filters.has("label!") {
                prune_excluding(engine, all, &labels, filters.get("label!"))?
            } else {
                engine
                    .prune_volumes(all, &labels)
                    .map_err(|e| volume_error(e, ""))?
            };
            for name in &report.deleted {
                engine.events().publish(
                    Event::new("volume", "destroy", name.clone()).with("driver", LOCAL_DRIVER),
                );
            }
            engine.events().publish(
                Event::new("volume", "prune", "")
                    .with("reclaimed", report.space_reclaimed.to_string()),
            );
            Ok(Json(VolumePruneResponse {
                volumes_deleted: Some(report.deleted),
                space_reclaimed: Some(report.space_reclaimed as i64),
            }))
        })
        .await
}

/// Prune with `label!` filters: the candidates are chosen here and removed one by one.
fn prune_excluding(
    engine: &berth_engine::engine::Engine,
    all: bool,
    labels: &[LabelFilter],
    excluded: &[String],
) -> ApiResult<volume::PruneReport> {
    let excluded: Vec<LabelFilter> = excluded.iter().map(|l| LabelFilter::parse(l)).collect();
    let users = engine.volume_users();
    let mut report = volume::PruneReport::default();
    let volumes = engine
        .volumes()
        .list(labels)
        .map_err(|e| volume_error(e, ""))?;
    for v in volumes {
        if users.contains_key(&v.name)
            || !(all || v.anonymous)
            || excluded.iter().any(|f| f.matches(&v.labels))
        {
            continue;
        }
        let size = engine.volumes().usage(&v.name).unwrap_or(0);
        match engine.remove_volume(&v.name, false) {
            Ok(()) => {
                report.deleted.push(v.name);
                report.space_reclaimed += size;
            }
            // Taken into use or removed meanwhile: not pruned, not an error.
            Err(VolumeRemoveError::InUse { .. })
            | Err(VolumeRemoveError::Volume(
                VolumeError::NotFound(_) | VolumeError::InUse { .. },
            )) => {}
            Err(VolumeRemoveError::Volume(e)) => return Err(volume_error(e, &v.name)),
        }
    }
    Ok(report)
}
