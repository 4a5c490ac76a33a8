//! `GET /containers/{id}/top`: the container's processes, as `ps` shows them.

use axum::extract::{Path, State};
use axum::Json;
use bollard_stubs::models::ContainerTopResponse;
use serde::Deserialize;

use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::extract::Query;
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct TopQuery {
    ps_args: Option<String>,
}

pub async fn top(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<TopQuery>,
) -> ApiResult<Json<ContainerTopResponse>> {
    // The engine picks its own columns (pid, user, time, args); docker's default `-ef`
    // asks for the same processes.
    match query.ps_args.as_deref().map(str::trim) {
        None | Some("" | "-ef") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "ps arguments ({other:?}) are not supported by Berth yet"
            )))
        }
    }
    let top = state
        .run(move |engine| {
            engine
                .top(&id)
                .map_err(|e| ApiError::from_kind(e.kind(), chain(&e)))
        })
        .await?;
    Ok(Json(ContainerTopResponse {
        titles: Some(top.titles),
        processes: Some(top.processes),
    }))
}
