//! `POST /containers/{id}/exec`: a session for a command in a running container.

use std::io::Read;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use berth_engine::container::record::Status;
use bollard_stubs::models::ExecConfig;

use super::registry::Session;
use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::Body;
use crate::api::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Body(config): Body<ExecConfig>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    if config.cmd.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    let container_id = state
        .run(move |engine| {
            let (record, status) = engine.inspect(&reference)?;
            match status.status {
                Status::Running => Ok(record.id),
                Status::Paused => Err(ApiError::conflict(format!(
                    "Container {} is paused, unpause the container before exec",
                    record.id
                ))),
                _ => Err(ApiError::conflict(format!(
                    "Container {} is not running",
                    record.id
                ))),
            }
        })
        .await?;
    let registry = state.execs.clone();
    state
        .run(move |engine| {
            registry.prune(engine);
            Ok(())
        })
        .await?;
    let id = random_id()?;
    state
        .execs
        .insert(Session::new(id.clone(), container_id, config));
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "Id": id }))))
}

/// 64 hex digits, as docker's exec ids.
fn random_id() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ApiError::internal(format!("Cannot read random bytes: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
