//! What the control service accepts on: vsock in the VM, a Unix socket natively.

use std::future::Future;
use std::io;

use super::Stream;

pub trait Accept: Send + 'static {
    type Conn: Stream;
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Conn>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Conn = tokio::net::UnixStream;
    async fn accept(&mut self) -> io::Result<Self::Conn> {
        tokio::net::UnixListener::accept(self).await.map(|(s, _)| s)
    }
}

impl Accept for tokio_vsock::VsockListener {
    type Conn = tokio_vsock::VsockStream;
    async fn accept(&mut self) -> io::Result<Self::Conn> {
        tokio_vsock::VsockListener::accept(self)
            .await
            .map(|(s, _)| s)
    }
}
