//! `POST /containers/prune`: removes every stopped container (created, exited, dead),
//! keeping their volumes, as docker does.

use std::time::SystemTime;

use axum::extract::State;
use axum::Json;
use berth_engine::container::lifecycle::is_active;
use berth_engine::container::record::Status;
use berth_engine::logs::parse_rfc3339;
use bollard_stubs::models::ContainerPruneResponse;
use serde::Deserialize;

use super::view;
use crate::api::error::ApiResult;
use crate::api::extract::{parse_filters, Query};
use crate::api::state::AppState;
use crate::api::system::parse_time;

#[derive(Debug, Default, Deserialize)]
pub struct PruneQuery {
    filters: Option<String>,
}

pub async fn prune(
    State(state): State<AppState>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<ContainerPruneResponse>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["until", "label", "label!"])?;
    let until: Option<SystemTime> = filters
        .get("until")
        .first()
        .map(|t| parse_time(t))
        .transpose()?;
    let root = state.daemon.root.clone();
    let (deleted, reclaimed) = state
        .run(move |engine| {
            let mut deleted = Vec::new();
            let mut reclaimed = 0i64;
            for (record, status) in engine.list(true) {
                if is_active(status.status) || status.status == Status::Removing {
                    continue;
                }
                let created = parse_rfc3339(&record.created);
                if until.is_some_and(|u| created.is_none_or(|c| c >= u)) {
                    continue;
                }
                let labels = &record.config.labels;
                let unwanted =
                    filters
                        .get("label!")
                        .iter()
                        .any(|want| match want.split_once('=') {
                            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                            None => labels.contains_key(want.as_str()),
                        });
                if !filters.labels_match(labels) || unwanted {
                    continue;
                }
                let size = view::size_rw(&root, &record.id);
                // One that started or went meanwhile is skipped, not an error.
                if engine.remove(&record.id, false, false).is_ok() {
                    reclaimed += size;
                    deleted.push(record.id);
                }
            }
            Ok((deleted, reclaimed))
        })
        .await?;
    Ok(Json(ContainerPruneResponse {
        containers_deleted: Some(deleted),
        space_reclaimed: Some(reclaimed),
    }))
}
