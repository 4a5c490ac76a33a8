//! Exec sessions: `POST /containers/{id}/exec` creates one, `POST /exec/{id}/start` runs it
//! (hijacked or detached), `GET /exec/{id}/json` inspects it, `POST /exec/{id}/resize`
//! resizes its terminal while it runs.

mod create;
mod fd_io;
mod inspect;
mod registry;
mod resize;
mod start;

use axum::routing::{get, post};
use axum::Router;

use super::state::AppState;

pub use registry::ExecRegistry;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/exec", post(create::create))
        .route("/exec/{id}/start", post(start::start))
        .route("/exec/{id}/json", get(inspect::inspect))
        .route("/exec/{id}/resize", post(resize::resize))
}
