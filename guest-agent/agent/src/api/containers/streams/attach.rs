//! `POST /containers/{id}/attach`: hijacked. The container's output from the monitor's
//! attach socket (already in docker's frames without a tty), filtered to the streams asked
//! for; the client's input to the container's stdin. The client's half-close ends the
//! input (the monitor then closes the container's stdin when it was created `StdinOnce`),
//! while output still flows. With a tty, the detach keys end the attach and leave the
//! container running.
//!
//! `docker run` attaches before it starts the container, so a container not running yet is
//! waited for: the socket is polled until its monitor listens, and the monitor accepts
//! waiting clients before it hands out the container's first output.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::response::Response;
use berth_engine::engine::{parse_detach_keys, DetachWatch, Engine};
use berth_engine::logs::{ReadOptions, Stream as LogStream};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::oneshot;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{docker_bool, Query};
use crate::api::hijack::{self, Conn};
use crate::api::mux::{self, Stream};
use crate::api::state::AppState;

/// How often a container not started yet is looked at: often at first (`docker run`
/// starts right after attaching), then less.
const POLL_FAST: Duration = Duration::from_millis(2);
const POLL_SLOW: Duration = Duration::from_millis(50);
const FAST_FOR: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Deserialize)]
pub struct AttachQuery {
    #[serde(default, deserialize_with = "docker_bool")]
    stream: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    stdin: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    stdout: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    stderr: bool,
    #[serde(default, deserialize_with = "docker_bool")]
    logs: bool,
    #[serde(rename = "detachKeys")]
    detach_keys: Option<String>,
}

pub async fn attach(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<AttachQuery>,
    mut request: Request,
) -> ApiResult<Response> {
    let (record, _) = state
        .run(move |engine| Ok(engine.inspect(&reference)?))
        .await?;
    let tty = record.config.tty;
    // docker watches for the detach keys on a terminal only: piped input passes as is.
    let keys = match query.detach_keys.as_deref().filter(|k| !k.is_empty()) {
        keys if tty && query.stdin => {
            parse_detach_keys(keys).map_err(|e| ApiError::bad_request(e.to_string()))?
        }
        _ => Vec::new(),
    };
    let engine = state.engine.clone();
    hijack::upgrade(&mut request, !tty, move |conn| {
        session(engine, record.id, tty, query, keys, conn)
    })
}

async fn session(
    engine: Arc<Engine>,
    id: String,
    tty: bool,
    query: AttachQuery,
    keys: Vec<u8>,
    conn: Conn,
) {
    let (conn_r, mut conn_w) = tokio::io::split(conn);
    let want = Want {
        stdout: query.stdout,
        stderr: query.stderr,
        tty,
    };
    if query.logs {
        let past = past_logs(engine.clone(), id.clone(), want).await;
        if conn_w.write_all(&past).await.is_err() {
            return;
        }
    }
    let socket = match query.stream {
        true => connect(&engine, &id).await,
        false => None,
    };
    let Some(socket) = socket else {
        let _ = conn_w.shutdown().await;
        return;
    };
    let (mut sock_r, sock_w) = socket.into_split();
    let (detach_tx, mut detach_rx) = oneshot::channel::<()>();
    // Without stdin the write half stays open: closing it would read as the client's
    // end of input.
    let mut idle_writer = None;
    let input = if query.stdin {
        Some(tokio::spawn(forward_input(conn_r, sock_w, keys, detach_tx)))
    } else {
        idle_writer = Some((sock_w, detach_tx));
        None
    };
    let mut filter = FrameFilter::new(want);
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = Vec::with_capacity(buf.len());
    loop {
        let n = tokio::select! {
            read = sock_r.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            Ok(()) = &mut detach_rx => break,
        };
        out.clear();
        filter.feed(&buf[..n], &mut out);
        if !out.is_empty() && conn_w.write_all(&out).await.is_err() {
            break;
        }
    }
    let _ = conn_w.shutdown().await;
    if let Some(input) = input {
        input.abort();
    }
    drop(idle_writer);
}

/// The monitor's attach socket, waiting while the container is not started; `None` when
/// the container is removed meanwhile.
async fn connect(engine: &Arc<Engine>, id: &str) -> Option<tokio::net::UnixStream> {
    let began = Instant::now();
    loop {
        match engine.attach_socket(id) {
            Ok(Some(socket)) => {
                socket.set_nonblocking(true).ok()?;
                return tokio::net::UnixStream::from_std(socket).ok();
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!("attach to {id} ended: {e}");
                return None;
            }
        }
        let pause = if began.elapsed() < FAST_FOR {
            POLL_FAST
        } else {
            POLL_SLOW
        };
        tokio::time::sleep(pause).await;
    }
}

/// The client's input to the container, up to the detach keys (a tty only) or its EOF,
/// which half-closes the socket.
async fn forward_input(
    mut conn: impl AsyncRead + Unpin,
    mut socket: OwnedWriteHalf,
    keys: Vec<u8>,
    detached: oneshot::Sender<()>,
) {
    let mut watch = (!keys.is_empty()).then(|| DetachWatch::new(&keys));
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(buf.len() + keys.len());
    loop {
        let n = match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = match watch.as_mut() {
            Some(watch) => {
                out.clear();
                if watch.feed(&buf[..n], &mut out) {
                    let _ = socket.write_all(&out).await;
                    let _ = detached.send(());
                    return;
                }
                &out[..]
            }
            None => &buf[..n],
        };
        if !data.is_empty() && socket.write_all(data).await.is_err() {
            return;
        }
    }
    if let Some(watch) = &watch {
        let _ = socket.write_all(watch.pending()).await;
    }
    let _ = socket.shutdown().await;
    // The output goes on; the detach sender must stay alive until the session ends.
    std::future::pending::<()>().await;
}

#[derive(Debug, Clone, Copy)]
struct Want {
    stdout: bool,
    stderr: bool,
    tty: bool,
}

/// Keeps the frames of the streams asked for (with a tty, everything is stdout).
#[derive(Debug)]
struct FrameFilter {
    want: Want,
    header: Vec<u8>,
    left: usize,
    keep: bool,
}

impl FrameFilter {
    fn new(want: Want) -> FrameFilter {
        FrameFilter {
            want,
            header: Vec::with_capacity(8),
            left: 0,
            keep: false,
        }
    }

    fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if self.want.tty || (self.want.stdout && self.want.stderr) {
            if self.want.stdout || !self.want.tty {
                out.extend_from_slice(data);
            }
            return;
        }
        while !data.is_empty() {
            if self.left == 0 {
                let take = (8 - self.header.len()).min(data.len());
                self.header.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.header.len() == 8 {
                    let len = u32::from_be_bytes([
                        self.header[4],
                        self.header[5],
                        self.header[6],
                        self.header[7],
                    ]);
                    self.left = len as usize;
                    self.keep = match self.header[0] {
                        1 => self.want.stdout,
                        2 => self.want.stderr,
                        _ => false,
                    };
                    if self.keep && self.left > 0 {
                        out.extend_from_slice(&self.header);
                    }
                    self.header.clear();
                }
            } else {
                let take = self.left.min(data.len());
                if self.keep {
                    out.extend_from_slice(&data[..take]);
                }
                self.left -= take;
                data = &data[take..];
            }
        }
    }
}

/// The log so far, framed (or raw with a tty), for `logs=1`.
async fn past_logs(engine: Arc<Engine>, id: String, want: Want) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let _ = engine.logs(&id, &ReadOptions::default(), |entry| {
            let (wanted, stream) = match entry.stream {
                LogStream::Stdout => (want.stdout, Stream::Stdout),
                LogStream::Stderr => (want.stderr || want.tty, Stream::Stderr),
            };
            if wanted {
                match want.tty {
                    true => out.extend_from_slice(entry.log.as_bytes()),
                    false => out.extend_from_slice(&mux::frame(stream, entry.log.as_bytes())),
                }
            }
            ControlFlow::Continue(())
        });
        out
    })
    .await
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keeps_the_streams_asked_for_across_reads() {
        let want = Want {
            stdout: false,
            stderr: true,
            tty: false,
        };
        let mut filter = FrameFilter::new(want);
        let mut input = mux::frame(Stream::Stdout, b"out");
        input.extend(mux::frame(Stream::Stderr, b"err"));
        let mut out = Vec::new();
        for byte in &input {
            filter.feed(std::slice::from_ref(byte), &mut out);
        }
        assert_eq!(out, mux::frame(Stream::Stderr, b"err"));
    }
}
