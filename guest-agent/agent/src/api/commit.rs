//! `POST /commit`: a container's changes as a new image (`docker commit`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use berth_engine::engine::build::ContainerCommit;
use bollard_stubs::models::{ContainerConfig, IdResponse};
use serde::Deserialize;

use super::error::{chain, ApiError, ApiResult};
use super::extract::{docker_bool, Body, Query};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/commit", post(commit))
}

#[derive(Debug, Deserialize)]
struct CommitQuery {
    container: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    author: Option<String>,
    /// `--change` lines; the CLI sends each as its own `changes` parameter.
    #[serde(default)]
    changes: Option<String>,
    #[serde(default = "yes", deserialize_with = "docker_bool")]
    pause: bool,
}

fn yes() -> bool {
    true
}

async fn commit(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    Query(query): Query<CommitQuery>,
    Body(config): Body<Option<ContainerConfig>>,
) -> ApiResult<(StatusCode, Json<IdResponse>)> {
    // Repeated `changes` parameters (the CLI sends one per --change) are read off the raw
    // query; the struct above only sees one.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let mut changes: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "changes")
        .flat_map(|(_, v)| v.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    if changes.is_empty() {
        changes.extend(query.changes.iter().cloned());
    }
    if let Some(config) = &config {
        changes.extend(config_changes(config));
    }
    let name = match (query.repo.as_deref().filter(|r| !r.is_empty()), &query.tag) {
        (Some(repo), Some(tag)) if !tag.is_empty() => Some(format!("{repo}:{tag}")),
        (Some(repo), _) => Some(repo.to_string()),
        (None, Some(tag)) if !tag.is_empty() => {
            return Err(ApiError::bad_request("tag without a repository"))
        }
        (None, _) => None,
    };
    let options = ContainerCommit {
        name,
        comment: query.comment.filter(|c| !c.is_empty()),
        author: query.author.filter(|a| !a.is_empty()),
        changes,
        pause: query.pause,
    };
    let container = query.container;
    let image = state
        .run(move |engine| {
            engine
                .commit_container(&container, options)
                .map_err(|e| ApiError::from_kind(e.kind(), chain(&e)))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IdResponse {
            id: image.config.to_string(),
        }),
    ))
}

/// The body's config overrides as Dockerfile instructions for the engine to apply.
fn config_changes(config: &ContainerConfig) -> Vec<String> {
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    let quote = |v: &str| {
        format!(
            "\"{}\"",
            v.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
        )
    };
    let mut out = Vec::new();
    if let Some(cmd) = config.cmd.as_ref().filter(|c| !c.is_empty()) {
        out.push(format!("CMD {}", json(cmd)));
    }
    if let Some(entrypoint) = config.entrypoint.as_ref().filter(|c| !c.is_empty()) {
        out.push(format!("ENTRYPOINT {}", json(entrypoint)));
    }
    for entry in config.env.iter().flatten() {
        if let Some((k, v)) = entry.split_once('=') {
            out.push(format!("ENV {k}={}", quote(v)));
        }
    }
    if let Some(dir) = config.working_dir.as_ref().filter(|d| !d.is_empty()) {
        out.push(format!("WORKDIR {}", quote(dir)));
    }
    if let Some(user) = config.user.as_ref().filter(|u| !u.is_empty()) {
        out.push(format!("USER {}", quote(user)));
    }
    let labels: &HashMap<String, String> = match &config.labels {
        Some(l) => l,
        None => return out,
    };
    for (k, v) in labels {
        out.push(format!("LABEL {}={}", quote(k), quote(v)));
    }
    out
}
