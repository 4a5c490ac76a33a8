//! `GET /images/{name}/history`: the config's history entries, newest first. As docker
//! does, only the newest carries the image ID and tags (older ones are `<missing>`), and
//! an entry that made a layer carries that layer's size.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::engine::Engine;
use berth_engine::image::layers::chain_ids;
use bollard_stubs::models::ImageHistoryResponseItem;

use super::{repo_tags, resolve, store_error, unix_seconds};
use crate::api::error::{ApiError, ApiResult};
use crate::api::state::AppState;

pub async fn history(State(state): State<AppState>, name: String) -> ApiResult<Response> {
    let items = state
        .run(move |engine| image_history(engine, &name))
        .await?;
    Ok(Json(items).into_response())
}

fn image_history(engine: &Engine, name: &str) -> ApiResult<Vec<ImageHistoryResponseItem>> {
    let store = engine.images();
    let record = resolve(engine, name)?;
    let config = store.config(&record).map_err(store_error)?;
    let layers = store.layers(&record).map_err(store_error)?;
    // Each layer's size: unpacked (the uncompressed tar, as docker counts) when it is,
    // else its compressed blob.
    let diff_ids: Vec<_> = layers.iter().map(|(_, d)| d.clone()).collect();
    let chain = chain_ids(&diff_ids).map_err(|e| ApiError::internal(e.to_string()))?;
    let sizes: Vec<u64> = layers
        .iter()
        .zip(chain)
        .map(
            |((desc, _), chain_id)| match engine.layers().get(&chain_id) {
                Ok(Some(layer)) => layer.size,
                _ => desc.size(),
            },
        )
        .collect();
    let mut sizes = sizes.into_iter();
    let mut items: Vec<ImageHistoryResponseItem> = config
        .history()
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|h| {
            let size = if h.empty_layer().unwrap_or(false) {
                0
            } else {
                sizes.next().unwrap_or(0)
            };
            ImageHistoryResponseItem {
                id: "<missing>".into(),
                created: unix_seconds(h.created().as_deref()),
                created_by: h.created_by().clone().unwrap_or_default(),
                tags: Vec::new(),
                size: size as i64,
                comment: h.comment().clone().unwrap_or_default(),
            }
        })
        .collect();
    if items.is_empty() {
        // An image without history still has one line: itself.
        items.push(ImageHistoryResponseItem {
            created: unix_seconds(config.created().as_deref()),
            size: sizes.sum::<u64>() as i64,
            ..Default::default()
        });
    }
    items.reverse();
    items[0].id = record.config.to_string();
    items[0].tags = repo_tags(&record);
    Ok(items)
}
