//! `forward`: the connection becomes one TCP connection to a port in the VM. Half-close
//! passes through (each direction shuts its writer down when its source ends), so
//! request/response protocols that close their sending side still get their answer; after
//! the `Ok` line the bytes travel in half-close frames (berth_protocol::halfclose), because
//! not every vsock transport carries a one-way shutdown. UDP: [`super::forward_udp`].
//!
//! The two directions are two tasks, not one `copy_bidirectional`: on the agent's
//! multi-threaded runtime they copy on both vCPUs at once, which is what a busy stream is
//! limited by under TCG (one thread doing both directions held a published port to half
//! the raw channel's throughput).

use berth_protocol::halfclose::{HalfClose, COPY_BUF};
use berth_protocol::{Proto, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinError;
use tokio_util::task::AbortOnDropHandle;

use super::{reply, Conn, Stream};

pub async fn forward<S: Stream>(mut conn: Conn<S>, proto: Proto, port: u16) -> std::io::Result<()> {
    if proto == Proto::Udp {
        return super::forward_udp::forward(conn, port).await;
    }
    let tcp = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(tcp) => tcp,
        Err(e) => {
            let message = format!("Cannot connect to 127.0.0.1:{port} in the VM: {e}");
            return reply(&mut conn, &Response::Error { message }).await;
        }
    };
    let _ = tcp.set_nodelay(true);
    reply(&mut conn, &Response::Ok).await?;
    let (from_host, to_host) = tokio::io::split(HalfClose::new(conn));
    let (from_port, to_port) = tcp.into_split();
    let inbound = AbortOnDropHandle::new(tokio::spawn(pipe(from_host, to_port)));
    let outbound = AbortOnDropHandle::new(tokio::spawn(pipe(from_port, to_host)));
    // The first error ends both (dropping the other aborts it), as copy_bidirectional did.
    let joined = |copied: Result<std::io::Result<()>, JoinError>| {
        copied.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    };
    tokio::try_join!(async { joined(inbound.await) }, async {
        joined(outbound.await)
    })
    .map(drop)
}

/// Copies until `from` ends, then ends `to`'s direction. Every chunk is flushed: HalfClose
/// holds a frame until a flush, and the peer may wait for these bytes before sending more.
async fn pipe<R, W>(mut from: R, mut to: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
    }
}
