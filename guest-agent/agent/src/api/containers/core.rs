//! Container endpoints: the container's life. create, list, inspect, the lifecycle verbs
//! (start, stop, restart, kill, pause, unpause, rm, rename), wait, prune and top. One file
//! per verb or resource; what several of them show (state, mounts, networks) is in `view`.

mod create;
mod host_config;
mod inspect;
mod lifecycle;
mod list;
mod prune;
mod status;
mod top;
mod view;
mod wait;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::api::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/create", post(create::create))
        .route("/containers/json", get(list::list))
        .route("/containers/prune", post(prune::prune))
        .route("/containers/{id}/json", get(inspect::inspect))
        .route("/containers/{id}/start", post(lifecycle::start))
        .route("/containers/{id}/stop", post(lifecycle::stop))
        .route("/containers/{id}/restart", post(lifecycle::restart))
        .route("/containers/{id}/kill", post(lifecycle::kill))
        .route("/containers/{id}/pause", post(lifecycle::pause))
        .route("/containers/{id}/unpause", post(lifecycle::unpause))
        .route("/containers/{id}/rename", post(lifecycle::rename))
        .route("/containers/{id}", delete(lifecycle::remove))
        .route("/containers/{id}/wait", post(wait::wait))
        .route("/containers/{id}/top", get(top::top))
}
