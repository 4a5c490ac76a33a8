//! A small Docker API client over the engine's Unix socket (hyper's HTTP/1 client, one
//! connection per request): the control service reads ports and events through the same
//! API every other client uses, so it never reaches into the engine's state directly.

use std::io;
use std::path::Path;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("Cannot reach the engine at {0}")]
    Connect(String, #[source] io::Error),
    #[error("The engine's connection failed")]
    Http(#[from] hyper::Error),
    #[error("Invalid request")]
    Request(#[from] hyper::http::Error),
    #[error("The engine answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("The engine's answer is not the JSON expected")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, DockerError>;

/// Sends one request on a new connection and returns the response with its body unread.
pub async fn send<B>(
    socket: &Path,
    method: Method,
    path: &str,
    body: B,
) -> Result<Response<Incoming>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| DockerError::Connect(socket.display().to_string(), e))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "engine connection ended");
        }
    });
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "berth")
        .header("content-type", "application/json")
        .body(body)?;
    Ok(sender.send_request(request).await?)
}

/// The whole body of a successful answer; any other status is an error with the
/// engine's message.
pub async fn body(response: Response<Incoming>) -> Result<Bytes> {
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(DockerError::Status {
            status: status.as_u16(),
            message: message(&bytes),
        });
    }
    Ok(bytes)
}

pub async fn get_json(socket: &Path, path: &str) -> Result<serde_json::Value> {
    let response = send(socket, Method::GET, path, Empty::<Bytes>::new()).await?;
    Ok(serde_json::from_slice(&body(response).await?)?)
}

/// A POST without a body; a 304 (already stopped, already started) counts as done.
pub async fn post(socket: &Path, path: &str) -> Result<()> {
    let response = send(socket, Method::POST, path, Empty::<Bytes>::new()).await?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(());
    }
    body(response).await.map(drop)
}

/// True when the engine answers `/_ping`.
pub async fn ping(socket: &Path) -> bool {
    match send(socket, Method::GET, "/_ping", Empty::<Bytes>::new()).await {
        Ok(response) => body(response).await.is_ok(),
        Err(_) => false,
    }
}

/// The pid of the process serving `socket` (SO_PEERCRED), for Health when the agent does
/// not supervise the engine itself.
pub fn server_pid(socket: &Path) -> Option<u32> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
    let pid = getsockopt(&stream, PeerCredentials).ok()?.pid();
    u32::try_from(pid).ok()
}

/// Docker's `{"message": ...}`, or the raw text.
fn message(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).trim().to_string())
}
