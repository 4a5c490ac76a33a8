//! `echo`: every byte the host sends comes back, in half-close frames, until the host's end
//! marker; then the agent ends its half too. The transport and the framing alone, with no
//! socket or container behind them: `bench/forward` measures published ports against it.

use berth_protocol::halfclose::HalfClose;
use berth_protocol::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{reply, Conn, Stream};

/// Large enough that a frame of the host's (up to 256 KiB) is usually echoed in one write.
const BUF: usize = 256 * 1024;

pub async fn echo<S: Stream>(mut conn: Conn<S>) -> std::io::Result<()> {
    reply(&mut conn, &Response::Ok).await?;
    let mut conn = HalfClose::new(conn);
    let mut buf = vec![0u8; BUF];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        conn.write_all(&buf[..n]).await?;
        // HalfClose may hold the frame until the next write; the host waits for these
        // bytes before it sends more, so they must go out before the next read.
        conn.flush().await?;
    }
    conn.shutdown().await
}
