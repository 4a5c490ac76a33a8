//! `forward`: the connection becomes one TCP connection to a port in the VM. Half-close
//! passes through (copy_bidirectional shuts each direction down when its source ends), so
//! request/response protocols that close their sending side still get their answer; after
//! the `Ok` line the bytes travel in half-close frames (berth_protocol::halfclose), because
//! not every vsock transport carries a one-way shutdown. UDP: [`super::forward_udp`].

use berth_protocol::halfclose::COPY_BUF;
use berth_protocol::{Proto, Response};
use tokio::net::TcpStream;

use super::{reply, Conn, Stream};

pub async fn forward<S: Stream>(mut conn: Conn<S>, proto: Proto, port: u16) -> std::io::Result<()> {
    if proto == Proto::Udp {
        return super::forward_udp::forward(conn, port).await;
    }
    let mut tcp = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(tcp) => tcp,
        Err(e) => {
            let message = format!("Cannot connect to 127.0.0.1:{port} in the VM: {e}");
            return reply(&mut conn, &Response::Error { message }).await;
        }
    };
    let _ = tcp.set_nodelay(true);
    reply(&mut conn, &Response::Ok).await?;
    let mut conn = berth_protocol::halfclose::HalfClose::new(conn);
    tokio::io::copy_bidirectional_with_sizes(&mut conn, &mut tcp, COPY_BUF, COPY_BUF)
        .await
        .map(drop)
}
