//! Container endpoints: the filesystem as a whole. `changes` (`docker diff`) and `export`
//! (the whole root as a tar).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use berth_engine::container::changes::ChangeKind;
use bollard_stubs::models::{ChangeType, FilesystemChange};

use crate::api::error::{ApiError, ApiResult};
use crate::api::state::AppState;
use crate::api::stream;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/changes", get(changes))
        .route("/containers/{id}/export", get(export))
}

async fn changes(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<FilesystemChange>>> {
    let list = state
        .run(move |engine| {
            engine
                .container_changes(&id)
                .map_err(|e| ApiError::from_kind(e.kind(), crate::api::error::chain(&e)))
        })
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|c| FilesystemChange {
                path: c.path,
                kind: match c.kind {
                    ChangeKind::Modified => ChangeType::_0,
                    ChangeKind::Added => ChangeType::_1,
                    ChangeKind::Deleted => ChangeType::_2,
                },
            })
            .collect(),
    ))
}

async fn export(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    // Looked up first, so a missing container is a 404 rather than an empty stream.
    let lookup = id.clone();
    state
        .run(move |engine| Ok(engine.inspect(&lookup)?))
        .await?;
    let engine = state.engine.clone();
    let body = stream::blocking(move |tx| {
        if let Err(e) = engine.export_container(&id, crate::api::stream::ChannelWriter::new(tx)) {
            // The status is sent already; the truncated tar is what the client sees.
            tracing::warn!(container = %id, error = %crate::api::error::chain(&e), "export failed");
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], body).into_response())
}
