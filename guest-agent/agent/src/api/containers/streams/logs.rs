//! `GET /containers/{id}/logs`: the container's log, framed by stream (docker's multiplexing)
//! unless the container has a tty (then raw). With `follow`, until the container stops or
//! the client leaves.

use std::ops::ControlFlow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_engine::logs::{ReadOptions, Stream as LogStream};
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::mux::{self, Stream};
use crate::api::state::AppState;
use crate::api::stream;

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    stdout: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    stderr: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    follow: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    timestamps: bool,
    since: Option<String>,
    until: Option<String>,
    tail: Option<String>,
}

/// Docker's time parameters: Unix seconds with optional fraction (`1700000000.5`); 0 or
/// empty: not set.
pub fn parse_unix_time(text: Option<&str>) -> ApiResult<Option<SystemTime>> {
    let text = text.unwrap_or("").trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let bad = || ApiError::bad_request(format!("invalid time value {text:?}"));
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        digits.parse().map_err(|_| bad())?
    };
    let time = if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nanos.into())
    };
    Ok(Some(time))
}

/// `all`, empty or negative: everything; else the last N lines.
fn parse_tail(text: Option<&str>) -> ApiResult<Option<usize>> {
    match text.unwrap_or("").trim() {
        "" | "all" => Ok(None),
        n => match n.parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(n as usize)),
            Err(_) => Err(ApiError::bad_request(format!("invalid tail value {n:?}"))),
        },
    }
}

pub async fn logs(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Response> {
    if !query.stdout && !query.stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let options = ReadOptions {
        tail: parse_tail(query.tail.as_deref())?,
        since: parse_unix_time(query.since.as_deref())?,
        until: parse_unix_time(query.until.as_deref())?,
        follow: query.follow,
    };
    let (record, _) = state
        .run(move |engine| Ok(engine.inspect(&reference)?))
        .await?;
    let tty = record.config.tty;
    let engine = state.engine.clone();
    let body = stream::blocking(move |tx| {
        let read = engine.logs(&record.id, &options, |entry| {
            let (wanted, stream) = match entry.stream {
                LogStream::Stdout => (query.stdout, Stream::Stdout),
                LogStream::Stderr => (query.stderr, Stream::Stderr),
            };
            if !wanted {
                return ControlFlow::Continue(());
            }
            let mut text = Vec::with_capacity(entry.log.len() + 32);
            let _ = entry.write_to(&mut text, query.timestamps);
            let chunk = if tty { text } else { mux::frame(stream, &text) };
            match tx.blocking_send(Bytes::from(chunk)) {
                Ok(()) => ControlFlow::Continue(()),
                // The client left.
                Err(_) => ControlFlow::Break(()),
            }
        });
        if let Err(e) = read {
            tracing::debug!("reading the log of {} failed: {e}", record.id);
        }
    });
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_times_and_tails() {
        assert_eq!(parse_unix_time(Some("0")).unwrap(), None);
        assert_eq!(
            parse_unix_time(Some("10.5")).unwrap(),
            Some(UNIX_EPOCH + Duration::from_millis(10_500))
        );
        assert!(parse_unix_time(Some("soon")).is_err());
        assert_eq!(parse_tail(Some("all")).unwrap(), None);
        assert_eq!(parse_tail(Some("3")).unwrap(), Some(3));
        assert!(parse_tail(Some("x")).is_err());
    }
}
