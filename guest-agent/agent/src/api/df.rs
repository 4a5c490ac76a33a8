//! `GET /system/df`: `docker system df [-v]`. Image sizes are their content plus their
//! unpacked layers (see `berth_engine::engine::usage`), `SharedSize` what an image shares
//! with others; containers report their writable layer (`SizeRw`) and that plus their
//! image (`SizeRootFs`); volumes their content and how many containers reference them.
//! Berth has no build cache yet: `BuildCache` is empty.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use berth_engine::container::record::{ContainerRecord, ContainerStatus, Status};
use berth_engine::engine::Engine;
use berth_engine::image::store::ImageRecord;
use bollard_stubs::models::{
    BuildCache, ContainerSummary, ContainerSummaryStateEnum, ImageSummary, MountPoint, Volume,
    VolumeUsageData,
};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::images::{repo_digests, repo_tags, unix_seconds};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/system/df", get(df))
}

/// The answer's shape up to API 1.51; bollard-stubs 1.53 only has the newer
/// `SystemDataUsageResponse` (1.52+), which the docker CLI 28 does not read. Its parts
/// are bollard's models.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DiskUsage {
    layers_size: i64,
    images: Option<Vec<ImageSummary>>,
    containers: Option<Vec<ContainerSummary>>,
    volumes: Option<Vec<Volume>>,
    build_cache: Option<Vec<BuildCache>>,
}

async fn df(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<DiskUsage>> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))?;
    let types: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v)
        .collect();
    if let Some(bad) = types
        .iter()
        .find(|t| !["container", "image", "volume", "build-cache"].contains(&t.as_str()))
    {
        return Err(ApiError::bad_request(format!("unknown object type: {bad}")));
    }
    let wants = move |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    state
        .run(move |engine| {
            let containers = engine.list(true);
            let mut usage = DiskUsage::default();
            if wants("image") {
                let (layers_size, images) = images(engine, &containers)?;
                usage.layers_size = layers_size;
                usage.images = Some(images);
            }
            if wants("container") {
                usage.containers = Some(container_summaries(engine, &containers));
            }
            if wants("volume") {
                usage.volumes = Some(volumes(engine)?);
            }
            if wants("build-cache") {
                usage.build_cache = Some(Vec::new());
            }
            Ok(Json(usage))
        })
        .await
}

/// Every image with its size, what it shares and how many containers use it; and the
/// bytes all images occupy together (each blob and layer once).
fn images(
    engine: &Engine,
    containers: &[(ContainerRecord, ContainerStatus)],
) -> ApiResult<(i64, Vec<ImageSummary>)> {
    let store = engine.images();
    let records = store.images().map_err(super::images::store_error)?;
    let mut parts = Vec::new();
    for record in &records {
        parts.push(engine.image_parts(record).unwrap_or_default());
    }
    // How many images hold each part, and its size.
    let mut holders: HashMap<&str, (usize, u64)> = HashMap::new();
    for part in parts.iter().flatten() {
        holders.entry(&part.key).or_insert((0, part.size)).0 += 1;
    }
    let layers_size: u64 = holders.values().map(|(_, size)| size).sum();
    let mut out = Vec::new();
    for (record, parts) in records.iter().zip(&parts) {
        let config = store.config(record).ok();
        let created = config
            .as_ref()
            .map_or(0, |c| unix_seconds(c.created().as_deref()));
        let labels = config
            .as_ref()
            .and_then(|c| c.config().as_ref().and_then(|c| c.labels().clone()))
            .unwrap_or_default();
        let size: u64 = parts.iter().map(|p| p.size).sum();
        let shared: u64 = parts
            .iter()
            .filter(|p| holders.get(p.key.as_str()).is_some_and(|(n, _)| *n > 1))
            .map(|p| p.size)
            .sum();
        let id = record.config.to_string();
        let users = containers.iter().filter(|(c, _)| c.image_id == id).count();
        out.push(ImageSummary {
            id,
            parent_id: String::new(),
            repo_tags: repo_tags(record),
            repo_digests: repo_digests(record),
            created,
            size: size as i64,
            shared_size: shared as i64,
            labels,
            containers: users as i64,
            manifests: None,
            descriptor: None,
        });
    }
    Ok((layers_size as i64, out))
}

fn container_summaries(
    engine: &Engine,
    containers: &[(ContainerRecord, ContainerStatus)],
) -> Vec<ContainerSummary> {
    // Container ID -> the volumes it references (`LOCAL VOLUMES` counts them).
    let mut volumes: HashMap<String, Vec<String>> = HashMap::new();
    for (volume, users) in engine.volume_users() {
        for id in users {
            volumes.entry(id).or_default().push(volume.clone());
        }
    }
    containers
        .iter()
        .map(|(record, status)| {
            let size_rw = engine.container_size_rw(&record.id).unwrap_or(0);
            let image = engine.images().resolve(&record.image_id).ok();
            let image_size = image
                .as_ref()
                .and_then(|image| engine.image_size(image).ok())
                .unwrap_or(0);
            let mounts = volumes
                .get(&record.id)
                .into_iter()
                .flatten()
                .map(|name| MountPoint {
                    typ: Some("volume".into()),
                    name: Some(name.clone()),
                    driver: Some("local".into()),
                    ..Default::default()
                })
                .collect();
            ContainerSummary {
                id: Some(record.id.clone()),
                names: Some(vec![format!("/{}", record.name)]),
                image: Some(record.config.image.clone()),
                image_id: Some(record.image_id.clone()),
                command: Some(command(engine, record, image.as_ref())),
                created: Some(unix_seconds(Some(&record.created))),
                size_rw: Some(size_rw as i64),
                size_root_fs: Some((size_rw + image_size) as i64),
                labels: Some(record.config.labels.clone().into_iter().collect()),
                state: Some(state_of(status.status)),
                status: Some(status_text(status)),
                mounts: Some(mounts),
                ..Default::default()
            }
        })
        .collect()
}

/// The command the container runs: its own entrypoint and cmd over the image's (an
/// entrypoint given at create drops the image's cmd, as in docker).
fn command(engine: &Engine, record: &ContainerRecord, image: Option<&ImageRecord>) -> String {
    let config = image
        .and_then(|i| engine.images().config(i).ok())
        .and_then(|c| c.config().clone());
    let entrypoint = record
        .config
        .entrypoint
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.entrypoint().clone()));
    let cmd = record.config.cmd.clone().or_else(|| {
        record
            .config
            .entrypoint
            .is_none()
            .then(|| config.as_ref().and_then(|c| c.cmd().clone()))
            .flatten()
    });
    entrypoint
        .into_iter()
        .chain(cmd)
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn state_of(status: Status) -> ContainerSummaryStateEnum {
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

/// A short status line (`docker ps` adds how long ago; `df -v` only needs the state).
fn status_text(status: &ContainerStatus) -> String {
    match status.status {
        Status::Running => "Up".into(),
        Status::Paused => "Up (Paused)".into(),
        Status::Restarting => format!("Restarting ({})", status.exit_code),
        Status::Exited => format!("Exited ({})", status.exit_code),
        Status::Created => "Created".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
    }
}

fn volumes(engine: &Engine) -> ApiResult<Vec<Volume>> {
    let users = engine.volume_users();
    let volumes = engine
        .volumes()
        .list(&[])
        .map_err(|e| ApiError::internal(super::error::chain(&e)))?;
    Ok(volumes
        .iter()
        .map(|v| {
            let mut model = super::volumes::to_model(v);
            model.usage_data = Some(VolumeUsageData {
                size: engine.volumes().usage(&v.name).map_or(-1, |s| s as i64),
                ref_count: users.get(&v.name).map_or(0, |c| c.len() as i64),
            });
            model
        })
        .collect())
}
