//! `POST /images/prune`: `docker image prune [-a] [--filter until=.. --filter label=..]`.
//! Without `until` or label filters the engine prunes in one pass (`prune_images`); with
//! them the images that pass are removed one by one, skipping those containers use.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use berth_engine::engine::{Engine, ImageDeleted};
use berth_engine::events::Event;
use bollard_stubs::models::{ImageDeleteResponseItem, ImagePruneResponse};
use serde::Deserialize;

use super::{familiar, store_error, unix_seconds};
use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::extract::{parse_filters, Filters, Query};
use crate::api::state::AppState;
use crate::api::system::parse_time;

#[derive(Debug, Default, Deserialize)]
pub struct PruneQuery {
    filters: Option<String>,
}

pub async fn prune(
    State(state): State<AppState>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<ImagePruneResponse>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["dangling", "until", "label", "label!"])?;
    let all = match filters.get("dangling").first().map(String::as_str) {
        None | Some("true" | "1") => false,
        Some("false" | "0") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid filter 'dangling={other}'"
            )))
        }
    };
    state
        .run(move |engine| prune_images(engine, all, &filters))
        .await
        .map(Json)
}

fn prune_images(engine: &Engine, all: bool, filters: &Filters) -> ApiResult<ImagePruneResponse> {
    let (deleted, reclaimed) =
        if filters.has("until") || filters.has("label") || filters.has("label!") {
            prune_selected(engine, all, filters)?
        } else {
            let pruned = engine
                .prune_images(all)
                .map_err(|e| ApiError::from_kind(e.kind(), chain(&e)))?;
            (pruned.deleted, pruned.collected.bytes_freed)
        };
    let items = deleted
        .into_iter()
        .map(|item| match item {
            ImageDeleted::Untagged(name) => ImageDeleteResponseItem {
                untagged: Some(familiar(&name)),
                deleted: None,
            },
            ImageDeleted::Deleted(id) => {
                engine
                    .events()
                    .publish(Event::new("image", "delete", id.clone()).with("name", id.clone()));
                ImageDeleteResponseItem {
                    untagged: None,
                    deleted: Some(id),
                }
            }
        })
        .collect();
    engine
        .events()
        .publish(Event::new("image", "prune", "").with("reclaimed", reclaimed.to_string()));
    Ok(ImagePruneResponse {
        images_deleted: Some(items),
        space_reclaimed: Some(reclaimed as i64),
    })
}

/// The images `filters` select removed one by one; their sizes are what is reclaimed
/// (data they share with kept images is counted, and kept).
fn prune_selected(
    engine: &Engine,
    all: bool,
    filters: &Filters,
) -> ApiResult<(Vec<ImageDeleted>, u64)> {
    let until = filters
        .get("until")
        .iter()
        .map(|t| parse_time(t))
        .collect::<ApiResult<Vec<_>>>()?;
    let store = engine.images();
    let mut deleted = Vec::new();
    let mut reclaimed = 0;
    for record in store.images().map_err(store_error)? {
        if !(all || record.names.is_empty()) {
            continue;
        }
        let Ok(config) = store.config(&record) else {
            continue;
        };
        let created = unix_seconds(config.created().as_deref());
        let labels: BTreeMap<String, String> = config
            .config()
            .as_ref()
            .and_then(|c| c.labels().clone())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let old_enough = until.iter().all(|u| {
            u.duration_since(std::time::UNIX_EPOCH)
                .is_ok_and(|u| created < u.as_secs() as i64)
        });
        let unwanted = filters
            .get("label!")
            .iter()
            .any(|l| label_matches(l, &labels));
        if !old_enough || !filters.labels_match(&labels) || unwanted {
            continue;
        }
        let size = engine.image_size(&record).unwrap_or(0);
        match engine.remove_image(record.target.digest().as_ref(), false) {
            Ok(items) => {
                deleted.extend(items);
                reclaimed += size;
            }
            // In use by a container: not pruned, not an error.
            Err(e) if e.kind() == berth_engine::engine::ErrorKind::Conflict => {}
            Err(e) => return Err(ApiError::from_kind(e.kind(), chain(&e))),
        }
    }
    Ok((deleted, reclaimed))
}

fn label_matches(filter: &str, labels: &BTreeMap<String, String>) -> bool {
    match filter.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
        None => labels.contains_key(filter),
    }
}
