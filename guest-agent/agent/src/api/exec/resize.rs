//! `POST /exec/{id}/resize?h=&w=`: the running exec's terminal, live (the process gets
//! SIGWINCH).

use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::Query;
use crate::api::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Size {
    pub h: Option<u16>,
    pub w: Option<u16>,
}

impl Size {
    /// Rows and columns; both must be given (docker refuses a missing one).
    pub fn rows_cols(&self) -> ApiResult<(u16, u16)> {
        match (self.h, self.w) {
            (Some(h), Some(w)) => Ok((h, w)),
            _ => Err(ApiError::bad_request("resize needs both h and w")),
        }
    }
}

pub async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(size): Query<Size>,
) -> ApiResult<()> {
    let (rows, cols) = size.rows_cols()?;
    state.execs.get(&id)?.resize(rows, cols)
}
