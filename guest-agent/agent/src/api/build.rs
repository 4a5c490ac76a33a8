//! The `/build` endpoints: the legacy builder (`DOCKER_BUILDKIT=0 docker build`), its
//! progress as docker's JSON lines (`stream`, `aux`, `errorDetail`), and the cache prune.

mod body;

use std::collections::BTreeMap;

use axum::body::Body as RawBody;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use berth_engine::build::{BuildOptions, Progress};
// `BuildInfo` (the model of these lines) is deserialize-only in bollard-stubs, so the
// lines are built with `json!` around the serializable parts.
use bollard_stubs::models::{BuildPruneResponse, ImageId};

use super::error::{ApiError, ApiResult};
use super::state::AppState;
use super::stream::{self, json_line};
use body::BodyReader;

/// The largest build context accepted on the wire (the builder caps the unpacked size too).
const MAX_CONTEXT_UPLOAD: u64 = 4 << 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/build", post(build))
        .route("/build/prune", post(prune))
}

/// The query, parsed by hand: `t` repeats, and `buildargs`/`labels` are JSON.
fn options(uri: &Uri) -> ApiResult<(BuildOptions, bool)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))?;
    let mut options = BuildOptions::default();
    let mut quiet = false;
    let flag = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes");
    for (key, value) in pairs {
        match key.as_str() {
            "t" if !value.is_empty() => options.tags.push(value),
            "dockerfile" if !value.is_empty() => options.dockerfile = value,
            "nocache" => options.no_cache = flag(&value),
            "rm" => options.rm = flag(&value),
            "forcerm" => options.force_rm = flag(&value),
            "q" => quiet = flag(&value),
            "target" if !value.is_empty() => options.target = Some(value),
            "buildargs" if !value.is_empty() => {
                options.build_args =
                    serde_json::from_str::<BTreeMap<String, Option<String>>>(&value)
                        .map_err(|e| ApiError::bad_request(format!("invalid buildargs: {e}")))?;
            }
            "labels" if !value.is_empty() => {
                options.labels = serde_json::from_str(&value)
                    .map_err(|e| ApiError::bad_request(format!("invalid labels: {e}")))?;
            }
            "remote" if !value.is_empty() => {
                return Err(ApiError::not_implemented(
                    "building from a remote context is not supported",
                ))
            }
            _ => {}
        }
    }
    for tag in &options.tags {
        berth_engine::image::reference::ImageRef::parse(tag)
            .map_err(|e| ApiError::bad_request(format!("invalid reference format: {tag}: {e}")))?;
    }
    Ok((options, quiet))
}

async fn build(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: Uri,
    body: RawBody,
) -> ApiResult<Response> {
    let (options, quiet) = options(&uri)?;
    let reader = BodyReader::new(body, MAX_CONTEXT_UPLOAD);
    let engine = state.engine.clone();
    let body = stream::blocking(move |tx| {
        let send = |line: serde_json::Value| tx.blocking_send(json_line(&line)).is_ok();
        let mut report = |progress: Progress| match progress {
            Progress::Stream(_) if quiet => true,
            Progress::Stream(text) => send(serde_json::json!({ "stream": text })),
            // Quiet: the CLI prints the stream it got, which is then only the image ID.
            Progress::Built(id) if quiet => {
                send(serde_json::json!({ "stream": format!("{id}\n") }))
                    && send(serde_json::json!({ "aux": ImageId { id: Some(id) } }))
            }
            Progress::Built(id) => send(serde_json::json!({ "aux": ImageId { id: Some(id) } })),
        };
        if let Err(e) = engine.build(reader, &options, &mut report) {
            let message = super::error::chain(&e);
            let _ = tx.blocking_send(stream::error_line(&message));
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn prune(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> ApiResult<Json<BuildPruneResponse>> {
    let (removed, reclaimed) = state
        .run(|engine| {
            engine
                .prune_build_cache()
                .map_err(|e| ApiError::from_kind(e.kind(), super::error::chain(&e)))
        })
        .await?;
    Ok(Json(BuildPruneResponse {
        caches_deleted: Some(removed),
        space_reclaimed: Some(i64::try_from(reclaimed).unwrap_or(i64::MAX)),
    }))
}
