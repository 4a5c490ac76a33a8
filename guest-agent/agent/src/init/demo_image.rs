//! The demo image ships inside the VM image so onboarding works offline (DESIGN.md:
//! offline first): on a boot where the engine lacks berth/hello, it is loaded through the
//! Docker API like any `docker load`.

use std::io::Read;
use std::path::Path;

use futures_util::stream;
use http_body_util::StreamBody;
use hyper::body::{Bytes, Frame};
use hyper::Method;

use crate::control::docker;

pub const ARCHIVE: &str = "/usr/share/berth/images/berth-hello.tar";
const IMAGE: &str = "berth/hello";

pub async fn load_if_missing() {
    let socket = Path::new(super::supervisor::DOCKER_SOCKET);
    match docker::get_json(socket, &format!("/images/{IMAGE}/json")).await {
        Ok(_) => return,
        Err(docker::DockerError::Status { status: 404, .. }) => {}
        Err(e) => {
            super::console::warn(&format!(
                "cannot check for {IMAGE}: {}",
                super::console::chain(&e)
            ));
            return;
        }
    }
    if !Path::new(ARCHIVE).is_file() {
        return;
    }
    match load(socket).await {
        Ok(()) => super::console::info(&format!("loaded {IMAGE} from {ARCHIVE}")),
        Err(e) => super::console::warn(&format!("cannot load {ARCHIVE}: {e}")),
    }
}

/// Streams the archive in 64 KiB chunks from a thread, so PID 1 never holds the whole
/// tar in memory.
async fn load(socket: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(ARCHIVE).map_err(|e| e.to_string())?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    std::thread::spawn(move || loop {
        let mut chunk = vec![0u8; 64 * 1024];
        match file.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    });
    let frames = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk.map(Frame::data), rx))
    });
    let response = docker::send(
        socket,
        Method::POST,
        "/images/load?quiet=1",
        StreamBody::new(frames),
    )
    .await
    .map_err(|e| super::console::chain(&e))?;
    let body = docker::body(response)
        .await
        .map_err(|e| super::console::chain(&e))?;
    // The load answers 200 and reports a failure inside the JSON stream.
    let text = String::from_utf8_lossy(&body);
    match text.contains("\"error") {
        true => Err(text.trim().to_string()),
        false => Ok(()),
    }
}
