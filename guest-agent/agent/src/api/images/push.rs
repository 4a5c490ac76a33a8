//! `POST /images/{name}/push?tag=..`: `docker push`. An image that is not here is a 404
//! before anything streams; then docker's JSON progress lines ("Preparing", "Pushing",
//! "Pushed", "Layer already exists", "Mounted from ...") and the closing
//! `TAG: digest: sha256:... size: N` with its aux record. Without a tag (`--all-tags`)
//! every local tag of the repository goes, one after the other. A client that goes away
//! aborts the push.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use berth_engine::events::Event;
use berth_engine::image::reference::ImageRef;
use berth_engine::registry::push::{self, BlobStatus, PushOptions, PushProgress};
use berth_engine::registry::{RegistryConfig, RegistryError};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::pull::{credentials, registry_error};
use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::state::AppState;
use crate::api::stream::{self, json_line};

#[derive(Debug, Default, Deserialize)]
struct PushQuery {
    #[serde(default)]
    tag: String,
}

pub async fn push(
    State(state): State<AppState>,
    name: String,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query: PushQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))?;
    let tags = if query.tag.is_empty() {
        local_tags(&state, &name)?
    } else {
        vec![query.tag.clone()]
    };
    let mut pushes = Vec::new();
    for tag in tags {
        let reference = format!("{name}:{tag}");
        if state.engine.images().resolve(&reference).is_err() {
            return Err(ApiError::not_found(format!(
                "An image does not exist locally with the tag: {name}"
            )));
        }
        pushes.push(PushOptions {
            reference,
            credentials: credentials(&headers)?,
            config: RegistryConfig::load().map_err(registry_error)?,
        });
    }
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<Bytes>();
    let progress: push::Progress = std::sync::Arc::new(move |event| {
        for line in progress_json(&event) {
            let _ = lines_tx.send(json_line(&line));
        }
    });
    // `docker push --all-tags`: one tag after the other, stopping at the first failure.
    let engine = state.engine.clone();
    let mut task = tokio::spawn(async move {
        for options in pushes {
            let reference = options.reference.clone();
            push::push(engine.clone(), options, progress.clone()).await?;
            engine
                .events()
                .publish(Event::new("image", "push", reference.clone()).with("name", reference));
        }
        Ok::<(), RegistryError>(())
    });
    let (tx, body) = stream::channel();
    tokio::spawn(async move {
        let Some(result) = stream::relay(&tx, &mut lines, &mut task).await else {
            return;
        };
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let message = chain(&e);
                let _ = tx.send(stream::error_line(&message)).await;
            }
            Err(e) => tracing::warn!(error = %e, "the push task failed"),
        }
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The tags of repository `name` that name local images, for `docker push --all-tags`.
fn local_tags(state: &AppState, name: &str) -> ApiResult<Vec<String>> {
    let repository = ImageRef::parse(name)
        .map_err(|e| ApiError::bad_request(chain(&e)))?
        .repository();
    let images = state.engine.images().images().map_err(super::store_error)?;
    let mut tags: Vec<String> = images
        .iter()
        .flat_map(|image| &image.names)
        .filter_map(|n| ImageRef::parse(n).ok())
        .filter(|r| r.repository() == repository)
        .filter_map(|r| r.tag().map(str::to_string))
        .collect();
    tags.sort();
    tags.dedup();
    if tags.is_empty() {
        return Err(ApiError::not_found(format!(
            "An image does not exist locally with the tag: {name}"
        )));
    }
    Ok(tags)
}

/// One progress event as docker's JSON lines (the last one has two: status and aux).
fn progress_json(event: &PushProgress) -> Vec<serde_json::Value> {
    match event {
        PushProgress::Repository(repository) => {
            vec![json!({ "status": format!("The push refers to repository [{repository}]") })]
        }
        PushProgress::Note(text) => vec![json!({ "status": text })],
        PushProgress::Blob { id, status } => {
            let (text, detail) = match status {
                BlobStatus::Preparing => ("Preparing".to_string(), json!({})),
                BlobStatus::Pushing { current, total } => (
                    "Pushing".to_string(),
                    json!({ "current": current, "total": total }),
                ),
                BlobStatus::Pushed => ("Pushed".to_string(), json!({})),
                BlobStatus::AlreadyExists => ("Layer already exists".to_string(), json!({})),
                BlobStatus::MountedFrom(from) => (format!("Mounted from {from}"), json!({})),
            };
            vec![json!({ "status": text, "progressDetail": detail, "id": id })]
        }
        PushProgress::Done { tag, digest, size } => vec![
            json!({ "status": format!("{tag}: digest: {digest} size: {size}") }),
            json!({
                "progressDetail": {},
                "aux": { "Tag": tag, "Digest": digest, "Size": size },
            }),
        ],
    }
}
