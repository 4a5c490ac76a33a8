//! vsock connections to the guest. Each backend reaches the guest's vsock ports its own way
//! (AF_VSOCK, hybrid vsock over a Unix socket, VZVirtioSocketDevice, hvsock); the rest of
//! `berth-host` sees a byte stream per connection.

use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

/// A connected stream to one guest port.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

pub type BoxStream = Box<dyn Stream>;
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = io::Result<BoxStream>> + Send + 'a>>;

pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Opens a new connection to `port` in the guest. Fails fast (connection refused,
    /// reset) when nothing listens there yet; callers that wait for boot retry.
    fn connect(&self, port: u32) -> ConnectFuture<'_>;
}

/// Hybrid vsock over a Unix socket (`vhost-device-vsock`, Firecracker).
#[cfg(target_os = "linux")]
pub mod hybrid;
/// The kernel's AF_VSOCK (`/dev/vhost-vsock`).
#[cfg(target_os = "linux")]
pub mod vsock;

#[cfg(target_os = "macos")]
pub mod macos;
#[cfg(windows)]
pub mod windows;
