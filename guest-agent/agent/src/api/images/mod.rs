//! The `/images` endpoints. Image names contain slashes (`berth/hello`), so the routes
//! under `/images/{name}/...` are matched by hand after a wildcard: the last path segment
//! (`json`, `history`, `tag`, `get`, `push`) says what is asked, the rest is the name.
//! The static routes (`/images/json`, `/images/load`...) win over the wildcard.

mod history;
mod inspect;
mod list;
mod load;
mod prune;
mod pull;
mod push;
mod remove;
mod save;
mod tag;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use berth_engine::container::lifecycle::LifecycleError;
use berth_engine::engine::EngineError;
use berth_engine::image::reference::ImageRef;
use berth_engine::image::store::{ImageRecord, StoreError};

use super::error::{ApiError, ApiResult};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/images/json", get(list::list))
        // The body is an image archive of any size, streamed into the store.
        .route(
            "/images/load",
            post(load::load).layer(DefaultBodyLimit::disable()),
        )
        .route("/images/prune", post(prune::prune))
        .route("/images/create", post(pull::create))
        .route("/images/search", get(pull::search))
        .route("/images/get", get(save::save_many))
        .route(
            "/images/{*rest}",
            get(by_name_get).post(by_name_post).delete(remove::remove),
        )
}

/// `GET /images/{name}/json|history|get`.
async fn by_name_get(state: State<AppState>, Path(rest): Path<String>) -> ApiResult<Response> {
    match split(&rest) {
        Some((name, "json")) => inspect::inspect(state, name.to_string()).await,
        Some((name, "history")) => history::history(state, name.to_string()).await,
        Some((name, "get")) => save::save_one(state, name.to_string()).await,
        _ => Err(ApiError::not_found("page not found")),
    }
}

/// `POST /images/{name}/tag|push`.
async fn by_name_post(
    state: State<AppState>,
    Path(rest): Path<String>,
    headers: axum::http::HeaderMap,
    query: RawQuery,
) -> ApiResult<Response> {
    match split(&rest) {
        Some((name, "tag")) => tag::tag(state, name.to_string(), query).await,
        Some((name, "push")) if name.contains('@') => Err(pull::push_unsupported(name)),
        Some((name, "push")) => push::push(state, name.to_string(), headers, query).await,
        _ => Err(ApiError::not_found("page not found")),
    }
}

/// `berth/hello/json` -> (`berth/hello`, `json`).
fn split(rest: &str) -> Option<(&str, &str)> {
    let (name, verb) = rest.trim_start_matches('/').rsplit_once('/')?;
    (!name.is_empty()).then_some((name, verb))
}

/// An image store error with the status its kind maps to (404 for an unknown image).
pub(crate) fn store_error(e: StoreError) -> ApiError {
    ApiError::from(EngineError::from(LifecycleError::from(e)))
}

/// Finds an image by name, ID or ID prefix.
pub(crate) fn resolve(state: &berth_engine::engine::Engine, name: &str) -> ApiResult<ImageRecord> {
    state.images().resolve(name).map_err(store_error)
}

/// `docker.io/library/busybox:latest` -> `busybox:latest`, as docker prints names.
pub(crate) fn familiar(full: &str) -> String {
    ImageRef::parse(full).map_or_else(|_| full.to_string(), |r| r.familiar())
}

/// The image's names in docker's short form.
pub(crate) fn repo_tags(image: &ImageRecord) -> Vec<String> {
    image.names.iter().map(|n| familiar(n)).collect()
}

/// `repository@digest` for each repository naming the image, the digest being what the
/// names point at (as docker's containerd store reports loaded images).
pub(crate) fn repo_digests(image: &ImageRecord) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in &image.names {
        let Ok(reference) = ImageRef::parse(name) else {
            continue;
        };
        let short = reference.familiar();
        let repo = match reference.tag() {
            Some(tag) => short.strip_suffix(&format!(":{tag}")).unwrap_or(&short),
            None => short.split('@').next().unwrap_or(&short),
        };
        let entry = format!("{repo}@{}", image.target.digest());
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out
}

/// RFC 3339 -> seconds since the epoch (0 when absent or unreadable).
pub(crate) fn unix_seconds(rfc3339: Option<&str>) -> i64 {
    rfc3339
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_from_the_verb() {
        assert_eq!(split("berth/hello/json"), Some(("berth/hello", "json")));
        assert_eq!(split("sha256:abc/history"), Some(("sha256:abc", "history")));
        assert_eq!(split("json"), None);
        assert_eq!(split("/json"), None);
    }

    #[test]
    fn created_times() {
        assert_eq!(unix_seconds(Some("1970-01-01T00:01:00Z")), 60);
        assert_eq!(
            unix_seconds(Some("2024-01-02T03:04:05.123456789Z")),
            1_704_164_645
        );
        assert_eq!(unix_seconds(None), 0);
    }
}
