//! `POST /containers/{id}/wait`: blocks until the container is not running
//! (`not-running`, the default), ends its next run (`next-exit`), or is removed
//! (`removed`). The CLI asks before it starts the container (`docker run`) and only then
//! sends the start, so the answer's headers go out at once and the body
//! (`{"StatusCode":N,"Error":null}`) follows when the condition holds.
//!
//! The engine's events say when a run ends (`die`, with the exit code) and when the
//! container goes (`destroy`); the subscription is taken before the container is first
//! looked at, so nothing falls between the two. While waiting, the container is also
//! inspected every tick: that syncs it with its monitor, so an exit is seen without waiting
//! for the engine's supervisor.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use berth_engine::container::lifecycle::is_active;
use berth_engine::engine::{Engine, ErrorKind};
use berth_engine::events::Event;
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::Query;
use crate::api::state::AppState;
use crate::api::stream;

/// How often a waiting request looks at the container and at its client.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, Default, Deserialize)]
pub struct WaitQuery {
    condition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    NotRunning,
    NextExit,
    Removed,
}

/// What the wait has seen of the container so far.
#[derive(Debug)]
struct Seen {
    /// The exit code of the last run known.
    code: i64,
    /// A run ended since the wait began.
    died: bool,
    removed: bool,
    /// Running (or between two runs) when last looked at.
    active: bool,
}

pub async fn wait(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<WaitQuery>,
) -> ApiResult<Response> {
    let condition = match query.condition.as_deref() {
        None | Some("" | "not-running") => Condition::NotRunning,
        Some("next-exit") => Condition::NextExit,
        Some("removed") => Condition::Removed,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid condition: {other:?}: expected not-running, next-exit or removed"
            )))
        }
    };
    let events = state.engine.events().subscribe(None);
    // An unknown container is a 404 before anything is sent.
    let (record, status) = state.run(move |engine| Ok(engine.inspect(&id)?)).await?;
    let seen = Seen {
        code: status.exit_code.into(),
        died: false,
        removed: false,
        active: is_active(status.status),
    };
    let engine = state.engine.clone();
    let body = stream::blocking(move |tx| {
        let Some(code) = wait_for(&engine, &record.id, condition, seen, &events, &tx) else {
            return;
        };
        let answer = serde_json::json!({ "StatusCode": code, "Error": null });
        let _ = tx.blocking_send(stream::json_line(&answer));
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Blocks until `condition` holds and returns the exit code to report; `None` when the
/// client went away first.
fn wait_for(
    engine: &Engine,
    id: &str,
    condition: Condition,
    mut seen: Seen,
    events: &Receiver<Event>,
    tx: &stream::Sender,
) -> Option<i64> {
    loop {
        let done = match condition {
            Condition::NotRunning => !seen.active || seen.died || seen.removed,
            Condition::NextExit => seen.died || seen.removed,
            Condition::Removed => seen.removed,
        };
        if done {
            // A removal found by looking may be ahead of its `die` still queued here.
            for event in events.try_iter() {
                note(&mut seen, id, &event);
            }
            return Some(seen.code);
        }
        match events.recv_timeout(TICK) {
            Ok(event) => note(&mut seen, id, &event),
            Err(RecvTimeoutError::Timeout) => {
                if tx.is_closed() {
                    return None;
                }
                look(engine, id, &mut seen);
            }
            Err(RecvTimeoutError::Disconnected) => {
                look(engine, id, &mut seen);
                if !seen.removed {
                    return Some(seen.code);
                }
            }
        }
    }
}

fn note(seen: &mut Seen, id: &str, event: &Event) {
    if event.kind != "container" || event.actor != id {
        return;
    }
    match event.action.as_str() {
        "die" => {
            seen.died = true;
            seen.active = false;
            if let Some(code) = event
                .attributes
                .get("exitCode")
                .and_then(|c| c.parse().ok())
            {
                seen.code = code;
            }
        }
        "destroy" => seen.removed = true,
        "start" | "restart" => seen.active = true,
        _ => {}
    }
}

/// Syncs the container with its monitor (an exit found publishes `die`, which the next
/// receive reports); a container found gone counts as removed.
fn look(engine: &Engine, id: &str, seen: &mut Seen) {
    match engine.inspect(id) {
        Ok((_, status)) => {
            seen.active = is_active(status.status);
            if !seen.active {
                seen.code = status.exit_code.into();
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => seen.removed = true,
        Err(_) => {}
    }
}
