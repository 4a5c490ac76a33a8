//! `GET /containers/json`: `docker ps`, newest first, with docker's filters.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::extract::State;
use axum::Json;
use berth_engine::container::config::MountConfig;
use berth_engine::container::record::{ContainerRecord, ContainerStatus, Status};
use berth_engine::engine::Engine;
use berth_engine::logs::parse_rfc3339;
use bollard_stubs::models::{
    ContainerSummary, ContainerSummaryHostConfig, ContainerSummaryNetworkSettings,
};
use serde::Deserialize;

use super::status::{status_text, unix_seconds};
use super::view;
use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, parse_filters, Filters, Query};
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    all: bool,
    limit: Option<i64>,
    #[serde(default, deserialize_with = "docker_bool")]
    size: bool,
    filters: Option<String>,
}

const FILTERS: &[&str] = &[
    "id", "name", "label", "label!", "status", "exited", "ancestor", "before", "since", "volume",
    "network", "publish", "expose", "is-task", "health",
];

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<ContainerSummary>>> {
    let filters = parse_filters(&query.filters)?;
    filters.only(FILTERS)?;
    if let Some(bad) = filters
        .get("status")
        .iter()
        .find(|s| !STATUSES.contains(&s.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "invalid filter 'status={bad}'"
        )));
    }
    let root = state.daemon.root.clone();
    let summaries = state
        .run(move |engine| {
            let limit = query.limit.filter(|&l| l > 0);
            // A status filter or a limit looks at stopped containers too, as in docker.
            let all =
                query.all || limit.is_some() || filters.has("status") || filters.has("exited");
            let mut containers = engine.list(all);
            containers.sort_by(|a, b| b.0.created.cmp(&a.0.created));
            let matcher = Matcher::new(engine, &filters)?;
            let mut out = Vec::new();
            for (record, status) in containers {
                if !matcher.matches(engine, &record, &status) {
                    continue;
                }
                out.push(summary(engine, &root, &record, &status, query.size));
                if limit.is_some_and(|l| out.len() as i64 >= l) {
                    break;
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(summaries))
}

fn summary(
    engine: &Engine,
    root: &std::path::Path,
    record: &ContainerRecord,
    status: &ContainerStatus,
    size: bool,
) -> ContainerSummary {
    let merged = view::merged(engine, record);
    let live = engine.container_network(&record.id);
    let (labels, exposed) = match &merged.merged {
        Some(m) => (m.labels.clone(), m.exposed_ports.clone()),
        None => (
            record.config.labels.clone(),
            record.config.exposed_ports.clone(),
        ),
    };
    let size_rw = size.then(|| view::size_rw(root, &record.id));
    ContainerSummary {
        id: Some(record.id.clone()),
        names: Some(vec![format!("/{}", record.name)]),
        image: Some(record.config.image.clone()),
        image_id: Some(record.image_id.clone()),
        command: Some(merged.args().join(" ")),
        created: Some(unix_seconds(&record.created)),
        ports: Some(view::port_summaries(&exposed, live.as_ref())),
        size_rw,
        size_root_fs: size_rw,
        labels: Some(labels.into_iter().collect()),
        state: Some(view::summary_state(status.status)),
        status: Some(status_text(status, SystemTime::now())),
        host_config: Some(ContainerSummaryHostConfig {
            network_mode: Some(record.config.network_mode.clone()),
            annotations: None,
        }),
        network_settings: Some(ContainerSummaryNetworkSettings {
            networks: Some(view::networks(record, live.as_ref())),
        }),
        mounts: Some(view::mounts(engine, root, record)),
        ..Default::default()
    }
}

/// The filters, with references (`before`, `since`, `ancestor`) resolved once.
struct Matcher<'a> {
    filters: &'a Filters,
    before: Option<SystemTime>,
    since: Option<SystemTime>,
    /// Image IDs the `ancestor` filter names.
    ancestors: Vec<String>,
}

impl<'a> Matcher<'a> {
    fn new(engine: &Engine, filters: &'a Filters) -> ApiResult<Matcher<'a>> {
        let created = |key: &str| -> ApiResult<Option<SystemTime>> {
            let Some(reference) = filters.get(key).first() else {
                return Ok(None);
            };
            let (record, _) = engine.inspect(reference)?;
            Ok(parse_rfc3339(&record.created))
        };
        let ancestors = filters
            .get("ancestor")
            .iter()
            .filter_map(|a| engine.images().resolve(a).ok())
            .map(|image| image.config.to_string())
            .collect();
        Ok(Matcher {
            filters,
            before: created("before")?,
            since: created("since")?,
            ancestors,
        })
    }

    fn matches(&self, engine: &Engine, record: &ContainerRecord, status: &ContainerStatus) -> bool {
        let f = self.filters;
        let any = |key: &str, test: &dyn Fn(&str) -> bool| {
            !f.has(key) || f.get(key).iter().any(|v| test(v))
        };
        let created = parse_rfc3339(&record.created);
        // Docker filters on the labels the container shows: its image's too.
        let labels = match f.has("label") || f.has("label!") {
            true => view::merged(engine, record)
                .merged
                .map_or_else(|| record.config.labels.clone(), |m| m.labels),
            false => record.config.labels.clone(),
        };
        any("id", &|v| record.id.starts_with(v))
            && any("name", &|v| name_matches(&record.name, v))
            && f.labels_match(&labels)
            && f.get("label!").iter().all(|v| !label_present(&labels, v))
            && any("status", &|v| v == status_name(status.status))
            && any("exited", &|v| {
                status.status == Status::Exited && v.parse() == Ok(status.exit_code)
            })
            && (!f.has("ancestor")
                || self.ancestors.contains(&record.image_id)
                || f.get("ancestor").contains(&record.config.image))
            && self.before.is_none_or(|b| created.is_some_and(|c| c < b))
            && self.since.is_none_or(|s| created.is_some_and(|c| c > s))
            && any("volume", &|v| uses_volume(record, v))
            && any("network", &|v| on_network(engine, record, v))
            && any("publish", &|v| {
                ports_match(record.config.port_bindings.keys(), v)
            })
            && any("expose", &|v| {
                let merged = view::merged(engine, record);
                let exposed = merged.merged.map(|m| m.exposed_ports).unwrap_or_default();
                ports_match(exposed.iter().chain(record.config.port_bindings.keys()), v)
            })
            && (!f.has("is-task") || f.get("is-task").iter().all(|v| v == "false"))
            // No health checks here: every container's health is "none".
            && any("health", &|v| v == "none")
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Restarting => "restarting",
        Status::Removing => "removing",
        Status::Exited => "exited",
        Status::Dead => "dead",
    }
}

/// Docker matches names by regular expression; the common forms are a substring, with
/// `^` and `$` anchors.
fn name_matches(name: &str, pattern: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    let (start, pattern) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest.strip_prefix('/').unwrap_or(rest)),
        None => (false, pattern),
    };
    let (end, pattern) = match pattern.strip_suffix('$') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    match (start, end) {
        (true, true) => name == pattern,
        (true, false) => name.starts_with(pattern),
        (false, true) => name.ends_with(pattern),
        (false, false) => name.contains(pattern),
    }
}

fn label_present(labels: &std::collections::BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
        None => labels.contains_key(want),
    }
}

/// A volume name or a mount destination.
fn uses_volume(record: &ContainerRecord, wanted: &str) -> bool {
    record.config.mounts.iter().any(|mount| match mount {
        MountConfig::Volume { name, target, .. } => name == wanted || target == wanted,
        other => other.target() == wanted,
    })
}

fn on_network(engine: &Engine, record: &ContainerRecord, wanted: &str) -> bool {
    let live = engine.container_network(&record.id);
    let networks: HashMap<_, _> = view::networks(record, live.as_ref());
    networks.iter().any(|(name, endpoint)| {
        name == wanted
            || endpoint
                .network_id
                .as_deref()
                .is_some_and(|id| !id.is_empty() && id.starts_with(wanted))
    })
}

/// `80`, `80/tcp` or a range `8000-8080[/tcp]` against `PORT/PROTO` keys.
fn ports_match<'a>(ports: impl Iterator<Item = &'a String>, wanted: &str) -> bool {
    let (range, proto) = wanted.split_once('/').unwrap_or((wanted, "tcp"));
    let (low, high) = range.split_once('-').unwrap_or((range, range));
    let (Ok(low), Ok(high)) = (low.parse::<u16>(), high.parse::<u16>()) else {
        return false;
    };
    ports.into_iter().any(|key| {
        let (port, p) = key.split_once('/').unwrap_or((key, "tcp"));
        p == proto && port.parse::<u16>().is_ok_and(|n| (low..=high).contains(&n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports() {
        assert!(name_matches("web-1", "web"));
        assert!(name_matches("web-1", "^web"));
        assert!(name_matches("web-1", "/web-1"));
        assert!(!name_matches("my-web", "^web"));
        assert!(name_matches("my-web", "web$"));
        let keys = ["80/tcp".to_string(), "53/udp".to_string()];
        assert!(ports_match(keys.iter(), "80"));
        assert!(ports_match(keys.iter(), "50-60/udp"));
        assert!(!ports_match(keys.iter(), "53"));
    }
}
