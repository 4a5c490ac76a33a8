//! The lifecycle verbs: start, stop, restart, kill, pause, unpause, rename and rm. Each
//! answers 204; 304 when there was nothing to do (start of a running container, stop of a
//! stopped one), which the CLI takes as success.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use berth_engine::container::lifecycle::LifecycleError;
use berth_engine::engine::{Engine, EngineError, StopBy};
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct StopQuery {
    t: Option<i64>,
    signal: Option<String>,
    /// Berth's own, not docker's: the VM agent's power-down stops with
    /// `berth-shutdown=1`, which does not count as a stop by the user (`StopBy::Shutdown`),
    /// so `always` and `unless-stopped` containers start again at the next boot, as
    /// docker's daemon shutdown leaves them. Ignored by `restart`.
    #[serde(default, rename = "berth-shutdown", deserialize_with = "docker_bool")]
    shutdown: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct KillQuery {
    signal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RemoveQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    force: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    v: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    link: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct RenameQuery {
    name: Option<String>,
}

/// Runs a lifecycle call for `id` and answers 204.
async fn verb(
    state: &AppState,
    id: String,
    call: impl FnOnce(&Engine, &str) -> ApiResult<()> + Send + 'static,
) -> ApiResult<StatusCode> {
    state
        .run(move |engine| call(engine, &id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

pub async fn start(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    verb(&state, id, |engine, id| Ok(engine.start(id)?)).await
}

/// Seconds to wait before SIGKILL: absent means the container's own timeout; negative
/// means no limit.
fn timeout(t: Option<i64>) -> Option<u32> {
    t.map(|t| u32::try_from(t).unwrap_or(u32::MAX))
}

/// A stop with a signal of the request's own: that signal first (the engine's stop then
/// follows with the container's stop signal and, after the timeout, SIGKILL).
fn signal_first(engine: &Engine, id: &str, signal: Option<&str>) -> ApiResult<()> {
    match signal.filter(|s| !s.is_empty()) {
        Some(signal) => match engine.kill(id, signal) {
            // Not running: the stop below says what there is to say.
            Err(e) if e.kind() == berth_engine::engine::ErrorKind::Conflict => Ok(()),
            other => Ok(other?),
        },
        None => Ok(()),
    }
}

pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<StatusCode> {
    let t = timeout(query.t);
    let by = match query.shutdown {
        true => StopBy::Shutdown,
        false => StopBy::User,
    };
    verb(&state, id, move |engine, id| {
        signal_first(engine, id, query.signal.as_deref())?;
        Ok(engine.stop_by(id, t, by)?)
    })
    .await
}

pub async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<StatusCode> {
    let t = timeout(query.t);
    verb(&state, id, move |engine, id| {
        signal_first(engine, id, query.signal.as_deref())?;
        Ok(engine.restart(id, t)?)
    })
    .await
}

pub async fn kill(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<KillQuery>,
) -> ApiResult<StatusCode> {
    let signal = query
        .signal
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "KILL".into());
    verb(&state, id, move |engine, id| Ok(engine.kill(id, &signal)?)).await
}

pub async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    verb(&state, id, |engine, id| Ok(engine.pause(id)?)).await
}

pub async fn unpause(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    verb(&state, id, |engine, id| Ok(engine.unpause(id)?)).await
}

pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RenameQuery>,
) -> ApiResult<StatusCode> {
    let name = query
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Neither old nor new names may be empty"))?;
    verb(&state, id, move |engine, id| {
        Ok(engine.rename(id, &name).map(drop)?)
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    if query.link {
        return Err(ApiError::bad_request(
            "legacy links are not supported by Berth",
        ));
    }
    state
        .run(move |engine| {
            let name = engine.inspect(&id)?.0.name;
            match engine.remove(&id, query.force, query.v) {
                Err(EngineError::Lifecycle(LifecycleError::RemoveRunning(_))) => {
                    Err(ApiError::conflict(format!(
                        "cannot remove container \"/{name}\": container is running: stop the \
                         container before removing or force remove"
                    )))
                }
                other => Ok(other?),
            }
        })
        .await
        .map(|()| StatusCode::NO_CONTENT)
}
