//! `POST /containers/{id}/resize?h=&w=`: the running container's terminal.

use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::Query;
use crate::api::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Size {
    h: Option<u16>,
    w: Option<u16>,
}

pub async fn resize(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(size): Query<Size>,
) -> ApiResult<()> {
    let (Some(rows), Some(cols)) = (size.h, size.w) else {
        return Err(ApiError::bad_request("resize needs both h and w"));
    };
    state
        .run(move |engine| {
            engine
                .resize_console(&reference, rows, cols)
                .map_err(|e| ApiError::from_kind(e.kind(), crate::api::error::chain(&e)))
        })
        .await
}
