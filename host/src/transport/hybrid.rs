//! Hybrid vsock: the guest's vsock ports reached through one Unix socket on the host, as
//! Firecracker, Cloud Hypervisor and rust-vmm's `vhost-device-vsock` serve it. Each
//! connection starts with `CONNECT <port>\n`; the device answers `OK <host port>\n` once the
//! guest accepted, and from then on the socket carries the guest stream's raw bytes. When
//! nothing listens on the guest port the device closes the socket without a word.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::{BoxStream, ConnectFuture, Transport};

/// The longest acknowledgement accepted: `OK 4294967295\n` is 14 bytes.
const MAX_REPLY: usize = 32;

/// Reaches guest ports through a hybrid vsock Unix socket.
#[derive(Debug, Clone)]
pub struct HybridVsock {
    uds: PathBuf,
    /// How long the connect and the `OK` may take together. A guest that is alive answers
    /// in milliseconds; one that is not answers never, so this bounds every attempt.
    timeout: Duration,
}

impl HybridVsock {
    pub fn new(uds: impl Into<PathBuf>) -> Self {
        HybridVsock {
            uds: uds.into(),
            timeout: Duration::from_secs(3),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn socket_path(&self) -> &std::path::Path {
        &self.uds
    }

    async fn handshake(&self, port: u32) -> io::Result<UnixStream> {
        let mut stream = UnixStream::connect(&self.uds).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot reach the VM's vsock socket {}: {e}",
                    self.uds.display()
                ),
            )
        })?;
        stream
            .write_all(format!("CONNECT {port}\n").as_bytes())
            .await?;
        let reply = read_reply(&mut stream, port).await?;
        parse_ok(&reply, port)?;
        Ok(stream)
    }
}

impl Transport for HybridVsock {
    fn connect(&self, port: u32) -> ConnectFuture<'_> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.handshake(port)).await {
                Ok(Ok(stream)) => Ok(Box::new(stream) as BoxStream),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "guest vsock port {port} did not answer within {:?} (is the VM up?)",
                        self.timeout
                    ),
                )),
            }
        })
    }
}

/// Reads the acknowledgement byte by byte, so not one byte of the guest's stream that may
/// follow it is consumed.
async fn read_reply(stream: &mut UnixStream, port: u32) -> io::Result<Vec<u8>> {
    let mut reply = Vec::with_capacity(MAX_REPLY);
    let mut byte = [0u8; 1];
    loop {
        let n = match stream.read(&mut byte).await {
            Ok(n) => n,
            // The device resets instead of closing on some versions: the same verdict.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("nothing listens on guest vsock port {port}"),
            ));
        }
        if byte[0] == b'\n' {
            return Ok(reply);
        }
        if reply.len() == MAX_REPLY {
            return Err(garbage(port, &reply));
        }
        reply.push(byte[0]);
    }
}

fn parse_ok(reply: &[u8], port: u32) -> io::Result<u32> {
    std::str::from_utf8(reply)
        .ok()
        .and_then(|s| s.strip_prefix("OK "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .ok_or_else(|| garbage(port, reply))
}

fn garbage(port: u32, reply: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "unexpected hybrid vsock reply for port {port}: {:?}",
            String::from_utf8_lossy(reply)
        ),
    )
}

#[cfg(test)]
#[path = "hybrid_tests.rs"]
mod tests;
