//! `forward` of UDP: the connection becomes one flow (one client address on the host) to a
//! port published in the VM. The agent sends the flow's datagrams from a UDP socket of its
//! own, connected to 127.0.0.1:<port>, where the engine's DNAT takes them to the container
//! (as it does TCP), and frames what comes back (berth_protocol::datagram).
//!
//! The host owns the flow's life (idle expiry, the table's bound): the flow ends when the
//! host closes the connection, or on any error of the connection. A datagram that cannot be
//! sent, and ICMP "port unreachable" (nothing listens in the container yet), are not an end:
//! UDP loses datagrams, the client retries, and a later one may find the server up.

use berth_protocol::datagram::{self, MAX_DATAGRAM};
use berth_protocol::Response;
use tokio::net::UdpSocket;

use super::{reply, Conn, Stream};

pub async fn forward<S: Stream>(mut conn: Conn<S>, port: u16) -> std::io::Result<()> {
    let socket = match connect(port).await {
        Ok(socket) => socket,
        Err(e) => {
            let message = format!("Cannot send UDP to 127.0.0.1:{port} in the VM: {e}");
            return reply(&mut conn, &Response::Error { message }).await;
        }
    };
    reply(&mut conn, &Response::Ok).await?;
    // The BufReader may hold the flow's first datagrams already: read through it.
    let (mut from_host, mut to_host) = tokio::io::split(conn);
    let outbound = async {
        let mut buf = Vec::with_capacity(2048);
        while datagram::read(&mut from_host, &mut buf).await? {
            // A datagram that cannot go (refused, too large for the path) is lost, as UDP
            // loses it; the flow goes on.
            if let Err(e) = socket.send(&buf).await {
                tracing::debug!(%e, "forward udp {port}: datagram dropped");
            }
        }
        Ok(())
    };
    let inbound = async {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match socket.recv(&mut buf).await {
                Ok(n) => datagram::write(&mut to_host, &buf[..n]).await?,
                Err(e) if refused(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    };
    // Either direction ending ends the flow (the host closed it, or the connection broke).
    tokio::select! {
        result = outbound => result,
        result = inbound => result,
    }
}

async fn connect(port: u16) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(("127.0.0.1", 0)).await?;
    socket.connect(("127.0.0.1", port)).await?;
    Ok(socket)
}

/// The ICMP error a connected UDP socket reports when nothing listens at its peer.
fn refused(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::ConnectionRefused
}
