//! Exec sessions: `POST /containers/{id}/exec` creates one, `POST /exec/{id}/start` runs it
//! (hijacked or detached), `GET /exec/{id}/json` inspects it, `POST /exec/{id}/resize`
//! resizes its terminal.

use axum::Router;

use super::state::AppState;

/// Exec sessions by ID, from create until a while after they end.
#[derive(Debug, Default)]
pub struct ExecRegistry {}

pub fn routes() -> Router<AppState> {
    Router::new()
}
