//! The `/images` endpoints. Image names contain slashes (`berth/hello`), so the routes
//! under `/images/{name}/...` are matched by hand after a wildcard.

use axum::Router;

use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
