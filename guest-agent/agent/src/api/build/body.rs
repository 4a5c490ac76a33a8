//! A request body read as a blocking `Read` (the builder and other engine calls read on a
//! blocking thread): an async task forwards the body's frames through a small channel, so
//! the upload is paced by the reader, and stops after `cap` bytes.

use std::io::{self, Read};

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Frames in flight between the connection and the reader.
const BUFFERED: usize = 8;

#[derive(Debug)]
pub struct BodyReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    read: u64,
    cap: u64,
}

impl BodyReader {
    /// Starts forwarding `body`; must be called inside the runtime.
    pub fn new(body: Body, cap: u64) -> BodyReader {
        let (tx, rx) = mpsc::channel(BUFFERED);
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            while let Some(frame) = stream.next().await {
                let item = frame.map_err(|e| e.to_string());
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        BodyReader {
            rx,
            current: Bytes::new(),
            read: 0,
            cap,
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        self.read += n as u64;
        if self.read > self.cap {
            return Err(io::Error::other(format!(
                "the request body is larger than {} bytes",
                self.cap
            )));
        }
        Ok(n)
    }
}
