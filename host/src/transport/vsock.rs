//! AF_VSOCK: the kernel's own vsock, for hosts with `/dev/vhost-vsock` (QEMU's
//! `vhost-vsock-pci`). The kernel answers a port without listener with ECONNRESET at once.

use std::io;
use std::time::Duration;

use tokio_vsock::{VsockAddr, VsockStream};

use super::{BoxStream, ConnectFuture, Transport};

#[derive(Debug, Clone)]
pub struct AfVsock {
    cid: u32,
    timeout: Duration,
}

impl AfVsock {
    pub fn new(cid: u32) -> Self {
        AfVsock {
            cid,
            timeout: Duration::from_secs(3),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl Transport for AfVsock {
    fn connect(&self, port: u32) -> ConnectFuture<'_> {
        Box::pin(async move {
            let addr = VsockAddr::new(self.cid, port);
            match tokio::time::timeout(self.timeout, VsockStream::connect(addr)).await {
                Ok(Ok(stream)) => Ok(Box::new(stream) as BoxStream),
                Ok(Err(e)) => Err(io::Error::new(
                    e.kind(),
                    format!("vsock {}:{port}: {e}", self.cid),
                )),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "vsock {}:{port} did not answer within {:?}",
                        self.cid, self.timeout
                    ),
                )),
            }
        })
    }
}
