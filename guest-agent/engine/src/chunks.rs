//! Chunks from async producers (HTTP bodies, registry downloads) as a blocking `Read`
//! for the engine's importers and the store's staging, which run on blocking threads.

use std::io::{self, Read};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Reads the chunks a channel delivers, in order; the channel closing is the end, an
/// `Err` chunk the producer's failure.
#[derive(Debug)]
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(chunk) => self.current = chunk?,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
