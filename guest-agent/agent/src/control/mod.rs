//! The control service: one connection per request (DESIGN.md), the first line a
//! [`Request`], the answer a [`Response`] line, and for some requests a stream after it.
//!
//! The service is generic over its listener: in the VM it accepts on vsock
//! [`berth_protocol::CONTROL_PORT`]; natively (`berth-agent control --unix PATH`, for tests
//! and Linux users) on a Unix socket. Natively it serves no time-sync and no shutdown:
//! those act on the VM itself and answer an error.

pub mod docker;
mod echo;
mod exec;
mod forward;
mod forward_udp;
mod health;
mod hello;
mod listener;
mod native;
mod ports;
mod pty;
mod shutdown;
mod time;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use berth_protocol::{Request, Response, MAX_LINE};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::init::disk::DataDisk;
use crate::init::reaper::Children;
use crate::init::supervisor::Supervisor;

pub use listener::Accept;
pub use native::run_native;

/// A control connection's byte stream (vsock or Unix).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A connection after its header: the buffer may already hold the stream's first bytes.
pub type Conn<S> = BufReader<S>;

/// What the handlers need.
#[derive(Debug)]
pub struct Context {
    /// The engine's Docker API socket.
    pub docker_socket: PathBuf,
    pub children: Arc<Children>,
    /// Present when this process is the VM's init.
    pub vm: Option<Vm>,
}

/// The parts only the VM's init has.
#[derive(Debug)]
pub struct Vm {
    pub supervisor: Arc<Supervisor>,
    /// Set once the boot has prepared the data disk (`None` inside: running on tmpfs).
    pub disk: OnceLock<Option<DataDisk>>,
    pub shutting_down: AtomicBool,
}

/// Accepts forever; each connection is served by a task of its own.
pub async fn serve<L: Accept>(mut listener: L, ctx: Arc<Context>) {
    loop {
        match listener.accept().await {
            Ok(conn) => {
                let ctx = ctx.clone();
                tokio::spawn(async move { handle(conn, ctx).await });
            }
            Err(error) => {
                // EMFILE and friends: wait for descriptors to come back, never spin.
                tracing::warn!(%error, "control: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle<S: Stream>(stream: S, ctx: Arc<Context>) {
    let mut conn = BufReader::new(stream);
    let request = match read_request(&mut conn).await {
        Ok(request) => request,
        Err(message) => {
            let _ = reply(&mut conn, &Response::Error { message }).await;
            let _ = conn.shutdown().await;
            return;
        }
    };
    tracing::debug!(?request, "control request");
    let result = match request {
        Request::Hello { .. } => reply(&mut conn, &Response::Hello(hello::hello(&ctx))).await,
        Request::Health => reply(&mut conn, &Response::Health(health::health(&ctx))).await,
        Request::PortEvents => ports::stream(conn, &ctx).await,
        Request::Exec(request) => exec::run(conn, request, &ctx).await,
        Request::Forward { proto, port } => forward::forward(conn, proto, port).await,
        Request::Echo => echo::echo(conn).await,
        Request::TimeSync { unix_nanos } => reply(&mut conn, &time::sync(&ctx, unix_nanos)).await,
        Request::Shutdown { stop_timeout_secs } => {
            shutdown::shutdown(conn, &ctx, stop_timeout_secs).await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "control connection ended");
    }
}

/// The header line, or the message of the error to answer.
async fn read_request<S: Stream>(conn: &mut Conn<S>) -> Result<Request, String> {
    let mut line = Vec::with_capacity(256);
    let limit = (MAX_LINE + 1) as u64;
    match (&mut *conn).take(limit).read_until(b'\n', &mut line).await {
        Err(e) => return Err(format!("Cannot read the request: {e}")),
        Ok(_) if line.len() > MAX_LINE => {
            return Err(berth_protocol::LineError::TooLong.to_string())
        }
        Ok(_) if !line.ends_with(b"\n") => {
            return Err(berth_protocol::LineError::Closed.to_string())
        }
        Ok(_) => {}
    }
    berth_protocol::from_line(&line).map_err(|e| match e {
        berth_protocol::LineError::Json(e) => format!(
            "Unknown or malformed request (this agent speaks protocol {}): {e}",
            berth_protocol::PROTOCOL_VERSION
        ),
        other => other.to_string(),
    })
}

/// Writes one response line.
pub async fn reply<W: AsyncWrite + Unpin>(out: &mut W, response: &Response) -> std::io::Result<()> {
    out.write_all(&berth_protocol::to_line(response)).await?;
    out.flush().await
}

/// An error and its sources, each once (what goes on the wire).
pub fn chain(error: &dyn std::error::Error) -> String {
    crate::init::console::chain(error)
}
