//! `POST /auth`: `docker login`. The credentials are checked against the registry
//! (`registry::login`); Berth keeps nothing, the CLI stores them and sends them with each
//! pull as `X-Registry-Auth`. `docker logout` never reaches the engine.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use berth_engine::registry::{login, Credentials, ErrorKind, RegistryConfig};
use bollard_stubs::models::{AuthConfig, AuthResponse};

use super::error::{chain, ApiError, ApiResult};
use super::extract::Body;
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth", post(auth))
}

async fn auth(
    State(_state): State<AppState>,
    Body(config): Body<AuthConfig>,
) -> ApiResult<Json<AuthResponse>> {
    let credentials = Credentials::basic(
        config.username.as_deref().unwrap_or(""),
        config.password.as_deref().unwrap_or(""),
    );
    let server = config.serveraddress.unwrap_or_default();
    let registry_config = RegistryConfig::load().map_err(|e| ApiError::internal(chain(&e)))?;
    login::login(&server, &credentials, &registry_config)
        .await
        .map_err(|e| {
            let status = match e.kind() {
                ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
                ErrorKind::Invalid => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            ApiError::new(status, chain(&e))
        })?;
    Ok(Json(AuthResponse {
        status: "Login Succeeded".into(),
        identity_token: None,
    }))
}
