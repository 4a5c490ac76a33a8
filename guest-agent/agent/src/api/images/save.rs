//! `GET /images/get?names=a&names=b` and `GET /images/{name}/get`: `docker save`, a
//! `docker save` archive streamed as it is written. Every name is resolved first, so an
//! unknown image is a 404 before any byte; a failure mid-archive aborts the body, so the
//! client sees an error rather than a silently truncated archive.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use berth_engine::image::export::export;
use tokio::sync::mpsc;

use super::resolve;
use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::state::AppState;

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 256 * 1024;
/// Chunks a slow client may leave unread before the exporter waits.
const BUFFERED: usize = 8;

pub async fn save_many(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))?;
    let names = pairs
        .into_iter()
        .filter(|(key, _)| key == "names")
        .map(|(_, value)| value)
        .collect();
    save(state, names).await
}

pub async fn save_one(State(state): State<AppState>, name: String) -> ApiResult<Response> {
    save(state, vec![name]).await
}

async fn save(state: AppState, names: Vec<String>) -> ApiResult<Response> {
    if names.is_empty() {
        return Err(ApiError::bad_request("no image names given"));
    }
    let checked = names.clone();
    state
        .run(move |engine| {
            checked
                .iter()
                .try_for_each(|n| resolve(engine, n).map(drop))
        })
        .await?;
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(BUFFERED);
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || {
        let selectors: Vec<&str> = names.iter().map(String::as_str).collect();
        let writer = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = export(engine.images(), &selectors, writer)
            .map_err(|e| chain(&e))
            .and_then(|mut w| w.flush().map_err(|e| e.to_string()));
        if let Err(message) = result {
            tracing::warn!("docker save of {names:?} failed: {message}");
            let _ = tx.blocking_send(Err(io::Error::other(message)));
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    Ok(response)
}

/// Gathers the exporter's small writes into chunks for the body.
struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
