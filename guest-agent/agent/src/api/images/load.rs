//! `POST /images/load`: `docker load`. The body (a `docker save` archive or an OCI layout
//! tar, possibly compressed) flows through a small bounded channel into the importer, which
//! stages every file on disk: memory holds a few chunks whatever the archive's size. The
//! import is all or nothing (see `image::import`), so a broken archive leaves no image and
//! no blob behind; the answer comes once the import is done, as docker's JSON lines
//! (`{"stream":"Loaded image: berth/hello:latest\n"}`) or as an error status.

use std::io;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use berth_engine::chunks::ChannelReader;
use berth_engine::events::Event;
use berth_engine::image::import::{import_tar, ImportError, ImportOptions};
use berth_engine::image::store::BlobError;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::familiar;
use crate::api::error::{chain, ApiError, ApiResult};
use crate::api::state::AppState;
use crate::api::stream::json_line;

/// Body chunks in flight between the request and the importer.
const IN_FLIGHT: usize = 8;

pub async fn load(State(state): State<AppState>, body: Body) -> ApiResult<Response> {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    let engine = state.engine.clone();
    let import = tokio::task::spawn_blocking(move || {
        import_tar(
            engine.images(),
            ChannelReader::new(rx),
            &ImportOptions::default(),
        )
    });
    let mut chunks = body.into_data_stream();
    let mut importing = true;
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(bytes) if importing => importing = tx.send(Ok(bytes)).await.is_ok(),
            // The importer stopped (done, or failed): the rest is read and dropped so the
            // client, still sending, gets the answer rather than a broken pipe.
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Err(io::Error::other(e))).await;
                break;
            }
        }
    }
    drop(tx);
    let images = import
        .await
        .map_err(|e| ApiError::internal(format!("the import failed: {e}")))?
        .map_err(import_error)?;
    let mut lines = Vec::new();
    for image in images {
        let id = image.config.to_string();
        let names: Vec<String> = image.names.iter().map(|n| familiar(n)).collect();
        if names.is_empty() {
            lines.push(format!("Loaded image ID: {id}\n"));
        }
        for name in &names {
            lines.push(format!("Loaded image: {name}\n"));
        }
        let event = Event::new("image", "load", id.clone());
        let event = match names.first() {
            Some(name) => event.with("name", name.clone()),
            None => event.with("name", id),
        };
        state.engine.events().publish(event);
    }
    let body: Vec<u8> = lines
        .iter()
        .flat_map(|line| json_line(&serde_json::json!({ "stream": line })))
        .collect();
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A bad archive is the client's error; a store that cannot be written is the engine's.
fn import_error(err: ImportError) -> ApiError {
    let message = format!("Cannot load the image archive: {}", chain(&err));
    match err {
        ImportError::Blob(BlobError::Write { .. }) | ImportError::Store(_) => {
            ApiError::internal(message)
        }
        _ => ApiError::bad_request(message),
    }
}
