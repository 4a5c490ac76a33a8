//! UDP datagrams over a vsock stream ([`crate::Request::Forward`] with [`crate::Proto::Udp`]).
//!
//! A stream has no message boundaries and UDP has nothing else, so each datagram travels as
//! a big-endian u32 length and that many bytes. A zero length is an empty datagram (UDP
//! allows them), not an end: a flow ends when its connection closes between two frames.
//! One connection carries one flow (one client address on the host), so replies need no
//! address either.
//!
//! Reads and writes here are not cancel-safe (a frame may be half read or half written):
//! give each direction a task of its own and end the flow when either ends.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest datagram either side sends or accepts: the largest UDP payload (IPv4 allows
/// 65,507 bytes, IPv6 65,527), rounded up to what a u16 length could say.
pub const MAX_DATAGRAM: usize = 65_535;
/// Bytes before each datagram.
pub const HEADER_LEN: usize = 4;

/// A datagram's frame, header and payload in one buffer (one write for the transport).
pub fn encode(payload: &[u8]) -> io::Result<Vec<u8>> {
    if payload.len() > MAX_DATAGRAM {
        return Err(too_long(payload.len()));
    }
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Writes one datagram.
pub async fn write<W: AsyncWrite + Unpin>(out: &mut W, payload: &[u8]) -> io::Result<()> {
    out.write_all(&encode(payload)?).await?;
    out.flush().await
}

/// Reads the next datagram into `buf` (replacing its content): `false` when the peer
/// closed the connection between two datagrams (the flow's end). A connection that ends
/// inside a frame, or a length over [`MAX_DATAGRAM`], is an error, refused before any
/// allocation.
pub async fn read<R: AsyncRead + Unpin>(input: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match input.read(&mut header[got..]).await? {
            0 if got == 0 => return Ok(false),
            0 => return Err(truncated()),
            n => got += n,
        }
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_DATAGRAM {
        return Err(too_long(len));
    }
    buf.clear();
    buf.resize(len, 0);
    input.read_exact(buf).await.map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => truncated(),
        _ => e,
    })?;
    Ok(true)
}

fn too_long(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("datagram of {len} bytes exceeds {MAX_DATAGRAM}"),
    )
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the peer closed the connection in the middle of a datagram",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut wire: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        let mut got = Vec::new();
        let mut buf = Vec::new();
        while read(&mut wire, &mut buf).await? {
            got.push(buf.clone());
        }
        Ok(got)
    }

    #[tokio::test]
    async fn datagrams_keep_their_boundaries_including_empty_and_largest() {
        let largest = vec![9u8; MAX_DATAGRAM];
        let (mut a, mut b) = tokio::io::duplex(1024);
        let sent = vec![b"one".to_vec(), Vec::new(), b"three".to_vec(), largest];
        let to_send = sent.clone();
        let writer = tokio::spawn(async move {
            for d in &to_send {
                write(&mut a, d).await.unwrap();
            }
        });
        let mut got = Vec::new();
        let mut buf = Vec::new();
        for _ in 0..sent.len() {
            assert!(read(&mut b, &mut buf).await.unwrap());
            got.push(buf.clone());
        }
        writer.await.unwrap();
        assert_eq!(got, sent);
        // The writer is gone: a clean end between frames.
        assert!(!read(&mut b, &mut buf).await.unwrap());
    }

    #[tokio::test]
    async fn oversized_datagrams_are_refused_both_ways() {
        let err = encode(&vec![0u8; MAX_DATAGRAM + 1]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("exceeds"), "{err}");
        // A hostile length: refused from the header alone (nothing follows it).
        let err = read_all(&u32::MAX.to_be_bytes()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let err = read_all(&((MAX_DATAGRAM + 1) as u32).to_be_bytes())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[tokio::test]
    async fn truncated_frames_are_errors_not_ends() {
        // Inside the header.
        let err = read_all(&[0, 0]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // Inside the payload, after a complete datagram.
        let mut wire = encode(b"whole").unwrap();
        wire.extend_from_slice(&10u32.to_be_bytes());
        wire.extend_from_slice(b"part");
        let err = read_all(&wire).await.unwrap_err();
        assert!(err.to_string().contains("middle of a datagram"), "{err}");
        // Nothing at all: an empty flow, not an error.
        assert_eq!(read_all(&[]).await.unwrap(), Vec::<Vec<u8>>::new());
    }
}
