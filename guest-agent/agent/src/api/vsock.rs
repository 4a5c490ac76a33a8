//! In the VM the Docker API is also served on vsock (the host forwards docker.sock to it
//! byte for byte): one listener type over the Unix socket and the vsock port, so one axum
//! server (one router, one graceful shutdown) serves both.

use std::io;

use berth_protocol::halfclose::HalfClose;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::either::Either;
use tokio_vsock::{VsockAddr, VsockListener, VsockStream};

pub struct Listeners {
    pub unix: UnixListener,
    pub vsock: Option<VsockListener>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("vsock", &self.vsock.is_some())
            .finish()
    }
}

/// Listens on vsock `port` of any CID (the guest's own).
pub fn bind_vsock(port: u32) -> io::Result<VsockListener> {
    VsockListener::bind(VsockAddr::new(tokio_vsock::VMADDR_CID_ANY, port))
}

impl axum::serve::Listener for Listeners {
    // vsock connections carry half-close frames (see berth_protocol::halfclose).
    type Io = Either<UnixStream, HalfClose<VsockStream>>;
    type Addr = ();

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let accepted = match &self.vsock {
                Some(vsock) => tokio::select! {
                    r = self.unix.accept() => r.map(|(s, _)| Either::Left(s)),
                    r = vsock.accept() => r.map(|(s, _)| Either::Right(HalfClose::new(s))),
                },
                None => self.unix.accept().await.map(|(s, _)| Either::Left(s)),
            };
            match accepted {
                Ok(io) => return (io, ()),
                // As axum does for its own listeners: out of descriptors is worth a pause,
                // never an end of the server.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(())
    }
}
