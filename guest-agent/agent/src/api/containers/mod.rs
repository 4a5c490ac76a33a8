//! The `/containers` endpoints, in three groups: the container's life (`core`), its
//! streams (`streams`: logs, attach, stats, archive) and its filesystem (`filesystem`:
//! changes, export).

mod core;
mod filesystem;
mod streams;

use axum::Router;

use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(core::routes())
        .merge(streams::routes())
        .merge(filesystem::routes())
}
