//! `HEAD|GET|PUT /containers/{id}/archive?path=`: what a path in the container is (the
//! `X-Docker-Container-Path-Stat` header: base64 of docker's JSON), the path as a tar
//! stream, and a tar stream extracted into a directory (`docker cp` both ways). Bodies are
//! streamed both ways on blocking threads.

use std::io::{self, Read, Write};
use std::path::Path as FsPath;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use berth_engine::archive::{ArchiveError, PathStat};
use berth_engine::engine::CopyError;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::state::AppState;
use crate::api::stream::{self, ChannelWriter};

const STAT_HEADER: &str = "x-docker-container-path-stat";

#[derive(Debug, Deserialize)]
pub struct ArchiveQuery {
    path: Option<String>,
    /// The engine always refuses to replace a directory with a non-directory (and the
    /// reverse), which is what the CLI asks for.
    #[serde(
        rename = "noOverwriteDirNonDir",
        default,
        deserialize_with = "docker_bool"
    )]
    _no_overwrite_dir_non_dir: bool,
    /// Not supported: files keep the owners the archive gives them.
    #[serde(rename = "copyUIDGID", default, deserialize_with = "docker_bool")]
    _copy_uid_gid: bool,
}

impl ArchiveQuery {
    fn path(&self) -> ApiResult<String> {
        match self.path.as_deref() {
            Some(path) if !path.is_empty() => Ok(path.to_string()),
            _ => Err(ApiError::bad_request("path parameter is required")),
        }
    }
}

/// A copy error as docker words it (a missing path is a 404 naming the container).
fn copy_error(err: CopyError, reference: &str) -> ApiError {
    match &err {
        CopyError::Archive(ArchiveError::NotFound { path }) => ApiError::not_found(format!(
            "Could not find the file {path} in container {reference}"
        )),
        _ => ApiError::from_kind(err.kind(), crate::api::error::chain(&err)),
    }
}

fn stat_header(stat: &PathStat) -> (header::HeaderName, HeaderValue) {
    let value = base64(stat.to_json().as_bytes());
    (
        header::HeaderName::from_static(STAT_HEADER),
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")),
    )
}

pub async fn stat(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> ApiResult<Response> {
    let path = query.path()?;
    let stat = state
        .run(move |engine| {
            engine
                .stat_path(&reference, FsPath::new(&path))
                .map_err(|e| copy_error(e, &reference))
        })
        .await?;
    Ok(([stat_header(&stat)], ()).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> ApiResult<Response> {
    let path = query.path()?;
    let (r, p) = (reference.clone(), path.clone());
    // Stat first: a missing path is an error answer, not a broken stream.
    let stat = state
        .run(move |engine| {
            engine
                .stat_path(&r, FsPath::new(&p))
                .map_err(|e| copy_error(e, &r))
        })
        .await?;
    let engine = state.engine.clone();
    let body = stream::blocking(move |tx| {
        let mut out = ChannelWriter::new(tx);
        match engine.copy_from(&reference, FsPath::new(&path), &mut out) {
            Ok(_) => {
                let _ = out.flush();
            }
            Err(e) => tracing::debug!("copy of {path} from {reference} failed: {e}"),
        }
    });
    Ok((
        [
            stat_header(&stat),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn put(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<ArchiveQuery>,
    body: Body,
) -> ApiResult<()> {
    let path = query.path()?;
    let mut reader = BodyReader {
        runtime: tokio::runtime::Handle::current(),
        stream: body.into_data_stream(),
        chunk: Bytes::new(),
    };
    state
        .run(move |engine| {
            engine
                .copy_to(&reference, FsPath::new(&path), &mut reader)
                .map_err(|e| {
                    // The client is still sending the archive: read (a bounded amount of)
                    // the rest, so it gets the error instead of a broken pipe.
                    let _ = io::copy(&mut (&mut reader).take(DRAIN_ON_ERROR), &mut io::sink());
                    copy_error(e, &reference)
                })
        })
        .await
}

/// How much of a refused upload is read before answering.
const DRAIN_ON_ERROR: u64 = 64 << 20;

/// A request body as a blocking reader (on a blocking thread, which may wait on the
/// runtime).
struct BodyReader {
    runtime: tokio::runtime::Handle,
    stream: BodyDataStream,
    chunk: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// Standard base64 with padding (what docker's header uses).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_like_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"{\"a\":1}"), "eyJhIjoxfQ==");
    }
}
