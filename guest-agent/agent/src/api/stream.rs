//! Streaming response bodies: a producer (often a blocking thread reading the engine)
//! sends chunks into a bounded channel; the body ends when the producer is done, and the
//! producer learns that the client went away when its next send fails.

use std::convert::Infallible;
use std::io::{self, Write};

use axum::body::{Body, Bytes};
use serde::Serialize;
use tokio::sync::mpsc;

/// Chunks a slow client may leave unread before the producer waits.
const BUFFERED: usize = 16;

/// Where a producer writes its chunks.
pub type Sender = mpsc::Sender<Bytes>;

/// A body fed by a channel.
pub fn channel() -> (Sender, Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFERED);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    (tx, Body::from_stream(stream))
}

/// A body fed by `produce` running on a blocking thread (engine calls block). `produce`
/// returns when it is done or when a send fails (the client left).
pub fn blocking(produce: impl FnOnce(Sender) + Send + 'static) -> Body {
    let (tx, body) = channel();
    tokio::task::spawn_blocking(move || produce(tx));
    body
}

/// One JSON value and a newline: docker's progress and event streams.
pub fn json_line(value: &impl Serialize) -> Bytes {
    let mut line = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    Bytes::from(line)
}

/// What a streamed download sends at once: big enough to keep syscalls few.
const CHUNK: usize = 64 * 1024;

/// A blocking `Write` into a streaming response body (on a blocking thread), in chunks
/// of a useful size; the client leaving makes writes fail with `BrokenPipe`.
#[derive(Debug)]
pub struct ChannelWriter {
    tx: Sender,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: Sender) -> ChannelWriter {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
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

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

/// Docker's error line in a progress stream: the CLI reads `errorDetail`, older clients
/// `error`; either way it stops and exits non-zero.
pub fn error_line(message: &str) -> Bytes {
    let detail = bollard_stubs::models::ErrorDetail {
        message: Some(message.to_string()),
        ..Default::default()
    };
    json_line(&serde_json::json!({ "errorDetail": detail, "error": message }))
}

/// Forwards a task's progress `lines` to the client until the task ends, then what is
/// still queued. The task is aborted, and `None` returned, when the client leaves: a pull
/// or push nobody waits for stops (and cleans up after itself).
pub async fn relay<T>(
    tx: &Sender,
    lines: &mut mpsc::UnboundedReceiver<Bytes>,
    task: &mut tokio::task::JoinHandle<T>,
) -> Option<Result<T, tokio::task::JoinError>> {
    let result = loop {
        tokio::select! {
            Some(line) = lines.recv() => {
                if tx.send(line).await.is_err() {
                    task.abort();
                    return None;
                }
            }
            _ = tx.closed() => {
                task.abort();
                return None;
            }
            result = &mut *task => break result,
        }
    };
    while let Ok(line) = lines.try_recv() {
        let _ = tx.send(line).await;
    }
    Some(result)
}
