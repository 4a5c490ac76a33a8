//! Streaming response bodies: a producer (often a blocking thread reading the engine)
//! sends chunks into a bounded channel; the body ends when the producer is done, and the
//! producer learns that the client went away when its next send fails.

use std::convert::Infallible;

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
