//! `DELETE /images/{name}?force&noprune`: `docker rmi`. Refusals for images containers
//! use carry docker's own messages. `noprune` (keep untagged parents) has nothing to act
//! on: Berth keeps no parent images.

use axum::extract::{Path, State};
use axum::Json;
use berth_engine::engine::{Engine, ImageDeleted, ImageRemoveError};
use berth_engine::events::Event;
use berth_engine::image::reference::ImageRef;
use bollard_stubs::models::ImageDeleteResponseItem;
use serde::Deserialize;

use super::{familiar, resolve};
use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct RemoveQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    force: bool,
}

pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<Json<Vec<ImageDeleteResponseItem>>> {
    let name = name.trim_start_matches('/').to_string();
    state
        .run(move |engine| remove_image(engine, &name, query.force))
        .await
        .map(Json)
}

fn remove_image(
    engine: &Engine,
    name: &str,
    force: bool,
) -> ApiResult<Vec<ImageDeleteResponseItem>> {
    let id = resolve(engine, name)?.config.to_string();
    let removed = engine
        .remove_image(name, force)
        .map_err(|e| remove_error(e, name, &id, force))?;
    let mut out = Vec::new();
    for item in removed {
        match item {
            ImageDeleted::Untagged(full) => {
                let short = familiar(&full);
                engine
                    .events()
                    .publish(Event::new("image", "untag", id.clone()).with("name", short.clone()));
                out.push(ImageDeleteResponseItem {
                    untagged: Some(short),
                    deleted: None,
                });
            }
            ImageDeleted::Deleted(deleted) => {
                engine.events().publish(
                    Event::new("image", "delete", deleted.clone()).with("name", deleted.clone()),
                );
                out.push(ImageDeleteResponseItem {
                    untagged: None,
                    deleted: Some(deleted),
                });
            }
        }
    }
    Ok(out)
}

/// docker's wording: a name is a "repository reference", an ID an image; a running
/// container's image cannot be removed even with force.
fn remove_error(err: ImageRemoveError, name: &str, id: &str, force: bool) -> ApiError {
    let short = |s: &str| -> String { s.trim_start_matches("sha256:").chars().take(12).collect() };
    let by_name =
        ImageRef::parse(name).is_ok() && !id.trim_start_matches("sha256:").starts_with(name);
    let message = match &err {
        ImageRemoveError::InUse { container, .. } if by_name => format!(
            "conflict: unable to remove repository reference \"{name}\" (must force) - \
             container {} is using its referenced image {}",
            short(container),
            short(id)
        ),
        ImageRemoveError::InUse { container, .. } => format!(
            "conflict: unable to delete {} (must be forced) - image is being used by \
             stopped container {}",
            short(id),
            short(container)
        ),
        ImageRemoveError::InUseRunning { container, .. } if by_name && !force => format!(
            "conflict: unable to remove repository reference \"{name}\" (must force) - \
             container {} is using its referenced image {}",
            short(container),
            short(id)
        ),
        ImageRemoveError::InUseRunning { container, .. } => format!(
            "conflict: unable to delete {} (cannot be forced) - image is being used by \
             running container {}",
            short(id),
            short(container)
        ),
        other => chain(other),
    };
    ApiError::from_kind(err.kind(), message)
}
