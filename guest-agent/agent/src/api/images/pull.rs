//! `POST /images/create`: `docker pull` (and the pull `docker run` does after a 404).
//! The reference is resolved first (manifests only), so an unknown image, refused
//! credentials or an unreachable registry come back as a plain error status; then the
//! blobs are downloaded while docker's JSON progress lines stream out. A client that goes
//! away aborts the pull, which then removes the blobs it added (see `registry::pull`).
//! `fromSrc` (`docker import`) and `GET /images/search` are not supported yet.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use berth_engine::events::Event;
use berth_engine::registry::pull::{LayerStatus, PullProgress};
use berth_engine::registry::{
    self, Credentials, ErrorKind, PullOptions, RegistryConfig, RegistryError,
};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::extract::Query;
use crate::api::state::AppState;
use crate::api::stream::{self, json_line};

#[derive(Debug, Default, Deserialize)]
pub struct CreateQuery {
    #[serde(rename = "fromImage")]
    from_image: Option<String>,
    #[serde(rename = "fromSrc")]
    from_src: Option<String>,
    tag: Option<String>,
    platform: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CreateQuery>,
) -> ApiResult<Response> {
    if query.from_src.is_some() {
        return Err(unsupported(
            "importing a root filesystem is not supported yet by Berth: load an image \
             archive with docker load"
                .to_string(),
        ));
    }
    let image = match (query.from_image.as_deref(), query.tag.as_deref()) {
        (Some(image), Some(tag)) if !tag.is_empty() && tag.starts_with("sha256:") => {
            format!("{image}@{tag}")
        }
        (Some(image), Some(tag)) if !tag.is_empty() => format!("{image}:{tag}"),
        (Some(image), _) => image.to_string(),
        (None, _) => return Err(ApiError::bad_request("fromImage or fromSrc is required")),
    };
    let options = PullOptions {
        reference: image,
        platform: query.platform.filter(|p| !p.is_empty()),
        credentials: credentials(&headers)?,
        config: RegistryConfig::load().map_err(registry_error)?,
    };
    let resolved = registry::resolve(&options).await.map_err(registry_error)?;
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<Bytes>();
    let progress: registry::pull::Progress = std::sync::Arc::new(move |event| {
        let _ = lines_tx.send(json_line(&progress_json(&event)));
    });
    let mut pull = tokio::spawn(registry::pull(state.engine.clone(), resolved, progress));
    let (tx, body) = stream::channel();
    let engine = state.engine.clone();
    tokio::spawn(async move {
        let Some(result) = stream::relay(&tx, &mut lines, &mut pull).await else {
            return;
        };
        match result {
            Ok(Ok(image)) => {
                if let Some(name) = image.names.first() {
                    let name = super::familiar(name);
                    engine
                        .events()
                        .publish(Event::new("image", "pull", name.clone()).with("name", name));
                }
            }
            Ok(Err(e)) => {
                let message = chain(&e);
                let _ = tx.send(stream::error_line(&message)).await;
            }
            Err(e) => tracing::warn!(error = %e, "the pull task failed"),
        }
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The client's `X-Registry-Auth` header, if it carries credentials.
pub(crate) fn credentials(headers: &HeaderMap) -> ApiResult<Option<Credentials>> {
    let Some(value) = headers.get("x-registry-auth") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::bad_request("X-Registry-Auth is not ASCII"))?;
    Credentials::from_header(value).map_err(|e| ApiError::bad_request(chain(&e)))
}

/// One progress event as docker's JSON line.
fn progress_json(event: &PullProgress) -> serde_json::Value {
    match event {
        PullProgress::Pulling { repository, id } => {
            json!({ "status": format!("Pulling from {repository}"), "id": id })
        }
        PullProgress::Layer { id, status } => {
            let (text, detail) = match status {
                LayerStatus::Waiting => ("Pulling fs layer", json!({})),
                LayerStatus::AlreadyExists => ("Already exists", json!({})),
                LayerStatus::Downloading { current, total } => {
                    ("Downloading", json!({ "current": current, "total": total }))
                }
                LayerStatus::VerifyingChecksum => ("Verifying Checksum", json!({})),
                LayerStatus::DownloadComplete => ("Download complete", json!({})),
                LayerStatus::PullComplete => ("Pull complete", json!({})),
            };
            json!({ "status": text, "progressDetail": detail, "id": id })
        }
        PullProgress::Digest(digest) => json!({ "status": format!("Digest: {digest}") }),
        PullProgress::Done { name, updated } => {
            let status = if *updated {
                format!("Status: Downloaded newer image for {name}")
            } else {
                format!("Status: Image is up to date for {name}")
            };
            json!({ "status": status })
        }
    }
}

/// A registry error with the status the CLI acts on. Refused credentials are a 403, not
/// a 401: on a 401 the CLI would prompt for a login in the middle of a pull.
pub(crate) fn registry_error(e: RegistryError) -> ApiError {
    let status = match e.kind() {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unauthorized => StatusCode::FORBIDDEN,
        ErrorKind::Upstream | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, chain(&e))
}

pub async fn search() -> ApiResult<()> {
    Err(unsupported(
        "searching registries is not supported yet by Berth".to_string(),
    ))
}

pub fn push_unsupported(name: &str) -> ApiError {
    unsupported(format!(
        "pushing images is not supported yet by Berth: save the image with docker save \
         (cannot push {name})"
    ))
}

fn unsupported(message: String) -> ApiError {
    ApiError::not_implemented(message)
}
