//! `GET /images/json`: `docker images`, with docker's filters (dangling, label, reference
//! globs like `berth/*`, before, since, until). Newest first, as docker answers.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::Json;
use berth_engine::engine::Engine;
use berth_engine::image::store::ImageRecord;
use bollard_stubs::models::ImageSummary;
use serde::Deserialize;

use super::{familiar, repo_digests, resolve, store_error, unix_seconds};
use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{parse_filters, Filters, Query};
use crate::api::state::AppState;
use crate::api::system::parse_time;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    filters: Option<String>,
}

/// What the filters look at, read once per image.
struct Entry {
    record: ImageRecord,
    created: i64,
    labels: BTreeMap<String, String>,
}

pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<ImageSummary>>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(&["before", "since", "dangling", "label", "reference", "until"])?;
    state
        .run(move |engine| summaries(engine, &filters))
        .await
        .map(Json)
}

fn summaries(engine: &Engine, filters: &Filters) -> ApiResult<Vec<ImageSummary>> {
    let entries = entries(engine)?;
    let created_of = |name: &str| -> ApiResult<i64> {
        let image = resolve(engine, name)?;
        Ok(entries
            .iter()
            .find(|e| e.record.target.digest() == image.target.digest())
            .map_or(0, |e| e.created))
    };
    let before = filters
        .get("before")
        .iter()
        .map(|n| created_of(n))
        .collect::<ApiResult<Vec<_>>>()?;
    let since = filters
        .get("since")
        .iter()
        .map(|n| created_of(n))
        .collect::<ApiResult<Vec<_>>>()?;
    let until = filters
        .get("until")
        .iter()
        .map(|t| parse_time(t).map(unix_seconds_of))
        .collect::<ApiResult<Vec<_>>>()?;
    let dangling = match filters.get("dangling").first().map(String::as_str) {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid filter 'dangling={other}'"
            )))
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let Entry {
            record,
            created,
            labels,
        } = entry;
        if dangling.is_some_and(|d| d != record.names.is_empty())
            || !filters.labels_match(&labels)
            || before.iter().any(|&b| created >= b)
            || since.iter().any(|&s| created <= s)
            || until.iter().any(|&u| created > u)
        {
            continue;
        }
        let mut tags: Vec<String> = record.names.iter().map(|n| familiar(n)).collect();
        if filters.has("reference") {
            tags.retain(|t| {
                filters
                    .get("reference")
                    .iter()
                    .any(|p| reference_matches(p, t))
            });
            if tags.is_empty() {
                continue;
            }
        }
        let size = engine.image_size(&record).map_or(0, |s| s as i64);
        out.push(ImageSummary {
            id: record.config.to_string(),
            parent_id: String::new(),
            repo_tags: tags,
            repo_digests: repo_digests(&record),
            created,
            size,
            shared_size: -1,
            labels: labels.into_iter().collect::<HashMap<_, _>>(),
            containers: -1,
            manifests: None,
            descriptor: None,
        });
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(out)
}

fn entries(engine: &Engine) -> ApiResult<Vec<Entry>> {
    let store = engine.images();
    let mut out = Vec::new();
    for record in store.images().map_err(store_error)? {
        let config = match store.config(&record) {
            Ok(config) => config,
            Err(e) => {
                // One unreadable image does not hide the others.
                tracing::warn!(id = %record.config, error = %e, "cannot read an image's config");
                continue;
            }
        };
        let labels = config
            .config()
            .as_ref()
            .and_then(|c| c.labels().clone())
            .unwrap_or_default()
            .into_iter()
            .collect();
        out.push(Entry {
            created: unix_seconds(config.created().as_deref()),
            labels,
            record,
        });
    }
    Ok(out)
}

fn unix_seconds_of(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// docker's `reference` filter: the glob matches the short name with its tag, or the
/// repository alone (`berth/*` matches `berth/hello:latest`).
fn reference_matches(pattern: &str, tag: &str) -> bool {
    let repo = match tag.rsplit_once(':') {
        Some((repo, t)) if !t.contains('/') => repo,
        _ => tag,
    };
    glob(pattern.as_bytes(), tag.as_bytes()) || glob(pattern.as_bytes(), repo.as_bytes())
}

/// `path.Match` as Go has it, without classes: `*` is any run of characters but `/`, `?`
/// one character but `/`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len())
            .take_while(|&i| i == 0 || text[i - 1] != b'/')
            .any(|i| glob(rest, &text[i..])),
        Some((b'?', rest)) => text
            .split_first()
            .is_some_and(|(c, tail)| *c != b'/' && glob(rest, tail)),
        Some((p, rest)) => text
            .split_first()
            .is_some_and(|(c, tail)| c == p && glob(rest, tail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_globs() {
        assert!(reference_matches("berth/*", "berth/hello:latest"));
        assert!(reference_matches("berth/hello", "berth/hello:latest"));
        assert!(reference_matches(
            "berth/hello:latest",
            "berth/hello:latest"
        ));
        assert!(reference_matches("*:lat?st", "busybox:latest"));
        assert!(!reference_matches("berth/*", "busybox:latest"));
        assert!(!reference_matches("*", "berth/hello:latest"));
        assert!(reference_matches(
            "localhost:5000/*",
            "localhost:5000/app:1"
        ));
    }
}
