//! Byte streams with a half-close that survives every vsock transport.
//!
//! vhost-device-vsock (the vsock device where /dev/vhost-vsock is missing) turns the host
//! side's EOF into a full shutdown of the guest's socket, which the guest kernel answers with
//! a reset, and it drops the guest's one-way shutdown. A `docker run` whose CLI closes its
//! sending half (it does so at once without `-i`) would lose the container's output. So the
//! raw-stream ports ([`crate::DOCKER_API_PORT`] and [`crate::Request::Forward`] connections)
//! carry their bytes in frames: a big-endian u32 length and that many bytes; a zero length
//! means "no more bytes this way" (shutdown of the writing half). Each side closes the
//! connection itself only when both halves are done, so no transport ever sees a half-close.
//!
//! [`HalfClose`] wraps any tokio stream and is itself a plain `AsyncRead + AsyncWrite`:
//! `poll_shutdown` sends the end marker, reads end at the peer's marker.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The largest frame a writer sends; a reader refuses longer ones (a hostile or confused
/// peer must not make the other side allocate or trust a huge length).
pub const MAX_FRAME: usize = 256 * 1024;
const HEADER: usize = 4;

/// The copy buffer for streams carried in these frames (each read becomes one frame):
/// tokio's default of 8 KiB makes a frame, a vsock packet and a wake-up per 8 KiB, which
/// under TCG cost published ports most of their throughput.
pub const COPY_BUF: usize = MAX_FRAME;

/// A stream whose halves close independently over any transport.
#[derive(Debug)]
pub struct HalfClose<S> {
    inner: S,
    read: ReadState,
    /// A frame (header and bytes) accepted from the caller but not yet written.
    pending: Vec<u8>,
    pending_sent: usize,
    write_closed: bool,
}

#[derive(Debug, Default)]
struct ReadState {
    header: [u8; HEADER],
    header_got: usize,
    /// Payload bytes of the current frame not yet read.
    remaining: usize,
    eof: bool,
}

impl<S> HalfClose<S> {
    pub fn new(inner: S) -> Self {
        HalfClose {
            inner,
            read: ReadState::default(),
            pending: Vec::new(),
            pending_sent: 0,
            write_closed: false,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncWrite + Unpin> HalfClose<S> {
    /// Writes out the pending frame.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending_sent < self.pending.len() {
            let n = ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.pending_sent..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending_sent += n;
        }
        self.pending.clear();
        self.pending_sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HalfClose<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.read.eof || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.read.remaining > 0 {
                let want = this.read.remaining.min(buf.remaining());
                let mut limited = ReadBuf::new(buf.initialize_unfilled_to(want));
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
                let n = limited.filled().len();
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection in the middle of a frame",
                    )));
                }
                buf.advance(n);
                this.read.remaining -= n;
                return Poll::Ready(Ok(()));
            }
            // A new header.
            let mut header = ReadBuf::new(&mut this.read.header[this.read.header_got..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut header))?;
            let n = header.filled().len();
            if n == 0 {
                if this.read.header_got == 0 {
                    // The connection ended without the end marker (the peer went away):
                    // an end all the same.
                    this.read.eof = true;
                    return Poll::Ready(Ok(()));
                }
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.read.header_got += n;
            if this.read.header_got < HEADER {
                continue;
            }
            this.read.header_got = 0;
            let len = u32::from_be_bytes(this.read.header) as usize;
            if len > MAX_FRAME {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("stream frame of {len} bytes exceeds {MAX_FRAME}"),
                )));
            }
            if len == 0 {
                this.read.eof = true;
            }
            this.read.remaining = len;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HalfClose<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.write_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        ready!(this.poll_drain(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(MAX_FRAME);
        this.pending.extend_from_slice(&(n as u32).to_be_bytes());
        this.pending.extend_from_slice(&buf[..n]);
        // The frame is ours now; try to send it at once, and report it taken either way
        // (flush and the next write finish it).
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        if !this.write_closed {
            this.write_closed = true;
            this.pending.extend_from_slice(&0u32.to_be_bytes());
            ready!(this.poll_drain(cx))?;
        }
        // The end marker is out; the transport itself stays open for the other half.
        Pin::new(&mut this.inner).poll_flush(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn each_half_closes_on_its_own() {
        let (a, b) = tokio::io::duplex(64);
        let (mut a, mut b) = (HalfClose::new(a), HalfClose::new(b));
        a.write_all(b"request").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        // b can still answer after a's half is done, and a reads the whole answer.
        let answer = vec![7u8; 300_000];
        let writer = tokio::spawn(async move {
            b.write_all(&answer).await.unwrap();
            b.shutdown().await.unwrap();
            b
        });
        let mut got = Vec::new();
        a.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 300_000);
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn hostile_frames_are_refused() {
        let (raw, b) = tokio::io::duplex(64);
        let mut b = HalfClose::new(b);
        let mut raw = raw;
        raw.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        let err = b.read(&mut [0u8; 16]).await.unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[tokio::test]
    async fn a_peer_that_vanishes_mid_frame_is_an_error_not_an_end() {
        let (mut raw, b) = tokio::io::duplex(64);
        let mut b = HalfClose::new(b);
        raw.write_all(&10u32.to_be_bytes()).await.unwrap();
        raw.write_all(b"abc").await.unwrap();
        drop(raw);
        let mut got = Vec::new();
        assert!(b.read_to_end(&mut got).await.is_err());
    }
}
