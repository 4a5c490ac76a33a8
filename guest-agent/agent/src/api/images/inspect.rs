//! `GET /images/{name}/json`: `docker image inspect`, from the image's config.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::engine::Engine;
use bollard_stubs::models::{ImageConfig, ImageInspect, ImageInspectMetadata, ImageInspectRootFs};

use super::{repo_digests, repo_tags, resolve, store_error};
use crate::api::error::ApiResult;
use crate::api::state::AppState;

pub async fn inspect(State(state): State<AppState>, name: String) -> ApiResult<Response> {
    let image = state
        .run(move |engine| image_inspect(engine, &name))
        .await?;
    Ok(Json(image).into_response())
}

fn image_inspect(engine: &Engine, name: &str) -> ApiResult<ImageInspect> {
    let record = resolve(engine, name)?;
    let config = engine.images().config(&record).map_err(store_error)?;
    let size = engine.image_size(&record).map_or(0, |s| s as i64);
    let image_config = config.config().as_ref().map(|c| ImageConfig {
        user: c.user().clone(),
        exposed_ports: c.exposed_ports().clone(),
        env: c.env().clone(),
        cmd: c.cmd().clone(),
        volumes: c.volumes().clone(),
        working_dir: c.working_dir().clone(),
        entrypoint: c.entrypoint().clone(),
        labels: c.labels().clone(),
        stop_signal: c.stop_signal().clone(),
        ..Default::default()
    });
    Ok(ImageInspect {
        id: Some(record.config.to_string()),
        repo_tags: Some(repo_tags(&record)),
        repo_digests: Some(repo_digests(&record)),
        comment: Some(String::new()),
        created: config.created().clone(),
        author: config.author().clone(),
        config: Some(image_config.unwrap_or_default()),
        architecture: Some(config.architecture().to_string()),
        variant: config.variant().clone(),
        os: Some(config.os().to_string()),
        os_version: config.os_version().clone(),
        size: Some(size),
        root_fs: Some(ImageInspectRootFs {
            typ: "layers".into(),
            layers: Some(config.rootfs().diff_ids().clone()),
        }),
        metadata: Some(ImageInspectMetadata {
            last_tag_time: None,
        }),
        ..Default::default()
    })
}
