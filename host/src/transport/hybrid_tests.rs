//! Hybrid vsock against a fake device: a Unix socket server playing each edge case.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::*;

/// A one-connection fake device: checks the CONNECT line, then answers `reply` (or, with
/// `None`, says nothing and holds the socket open), then sends `after`.
async fn fake_device(
    reply: Option<&'static [u8]>,
    after: &'static [u8],
) -> (tempfile::TempDir, HybridVsock) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vsock.sock");
    let listener = UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut line = [0u8; 10];
        conn.read_exact(&mut line).await.unwrap();
        assert_eq!(&line, b"CONNECT 7\n");
        match reply {
            // An empty reply: the device closes without a word, as for a port without listener.
            Some(b"") => drop(conn),
            Some(reply) => {
                conn.write_all(reply).await.unwrap();
                let _ = conn.write_all(after).await;
                let mut echo = [0u8; 4];
                if conn.read_exact(&mut echo).await.is_ok() {
                    let _ = conn.write_all(&echo).await;
                }
            }
            None => tokio::time::sleep(Duration::from_secs(30)).await,
        }
    });
    let transport = HybridVsock::new(path).with_timeout(Duration::from_millis(500));
    (dir, transport)
}

#[tokio::test]
async fn ok_hands_over_the_raw_stream_without_eating_bytes() {
    let (_dir, transport) = fake_device(Some(b"OK 1073741824\n"), b"HI").await;
    let mut stream = transport.connect(7).await.unwrap();
    let mut hi = [0u8; 2];
    stream.read_exact(&mut hi).await.unwrap();
    assert_eq!(&hi, b"HI");
    stream.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");
}

#[tokio::test]
async fn a_closed_socket_means_no_listener() {
    let (_dir, transport) = fake_device(Some(b""), b"").await;
    let err = transport.connect(7).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert!(err.to_string().contains("port 7"), "{err}");
}

#[tokio::test]
async fn garbage_is_refused() {
    for reply in [&b"NOPE\n"[..], b"OK banana\n", &[b'x'; 100]] {
        let reply: &'static [u8] = Box::leak(reply.to_vec().into_boxed_slice());
        let (_dir, transport) = fake_device(Some(reply), b"").await;
        let err = transport.connect(7).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }
}

#[tokio::test]
async fn silence_times_out() {
    let (_dir, transport) = fake_device(None, b"").await;
    let started = std::time::Instant::now();
    let err = transport.connect(7).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_missing_socket_is_a_clear_error() {
    let transport = HybridVsock::new("/nonexistent/berth/vsock.sock");
    let err = transport.connect(7).await.unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/berth/vsock.sock"),
        "{err}"
    );
}
