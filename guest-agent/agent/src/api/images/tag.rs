//! `POST /images/{name}/tag?repo=..&tag=..`: `docker tag`. A name another image held
//! moves to this one, as in docker.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_engine::events::Event;
use berth_engine::image::reference::ImageRef;
use serde::Deserialize;

use super::{familiar, resolve, store_error};
use crate::api::error::{ApiError, ApiResult};
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
struct TagQuery {
    #[serde(default)]
    repo: String,
    #[serde(default)]
    tag: String,
}

pub async fn tag(
    State(state): State<AppState>,
    source: String,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query: TagQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))?;
    let target = new_name(&query)?;
    state
        .run(move |engine| {
            let image = resolve(engine, &source)?;
            let full = engine
                .images()
                .tag(image.target.digest().as_ref(), &target)
                .map_err(store_error)?;
            engine.events().publish(
                Event::new("image", "tag", image.config.to_string()).with("name", familiar(&full)),
            );
            Ok(())
        })
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `repo` and `tag` as one reference, checked before anything changes.
fn new_name(query: &TagQuery) -> ApiResult<String> {
    if query.repo.is_empty() {
        return Err(ApiError::bad_request("repository name must not be empty"));
    }
    let name = if query.tag.is_empty() {
        query.repo.clone()
    } else {
        format!("{}:{}", query.repo, query.tag)
    };
    let reference = ImageRef::parse(&name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if reference.digest().is_some() {
        return Err(ApiError::bad_request(format!(
            "refusing to create a tag with a digest reference: {name}"
        )));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_repo_and_tag() {
        let q = |repo: &str, tag: &str| TagQuery {
            repo: repo.into(),
            tag: tag.into(),
        };
        assert_eq!(new_name(&q("berth/x", "1")).unwrap(), "berth/x:1");
        assert_eq!(new_name(&q("berth/x", "")).unwrap(), "berth/x");
        assert!(new_name(&q("Berth/X", "1")).is_err());
        assert!(new_name(&q("berth/x", "bad tag")).is_err());
        assert!(new_name(&q("", "1")).is_err());
    }
}
