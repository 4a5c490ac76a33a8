//! Container endpoints: streams (logs, attach, resize, stats, archive).

mod archive;
mod attach;
mod logs;
mod resize;
mod stats;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, head, post};
use axum::Router;

use crate::api::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/logs", get(logs::logs))
        .route("/containers/{id}/attach", post(attach::attach))
        .route("/containers/{id}/resize", post(resize::resize))
        .route("/containers/{id}/stats", get(stats::stats))
        .route(
            "/containers/{id}/archive",
            head(archive::stat)
                .get(archive::get)
                // A tar of any size: streamed, not bounded by the JSON body limit.
                .put(archive::put)
                .layer(DefaultBodyLimit::disable()),
        )
}
