//! A plain GET on the Docker socket for the one answer bollard's models cannot read:
//! `/system/df` changed shape in API 1.52 (bollard-stubs 1.53 knows only the new one),
//! and the engine answers the older shape, as the docker CLI 28 expects.

use berth_host::daemon::Paths;
use berth_host::state::StateDirs;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::error::{AppError, CmdResult};

/// The JSON answer to `GET path` (path includes the `/v1.xx` prefix and the query).
pub async fn get_json(dirs: &StateDirs, path: &str) -> CmdResult<serde_json::Value> {
    let socket = Paths::new(dirs).docker_socket;
    let stream = tokio::net::UnixStream::connect(&socket)
        .await
        .map_err(|e| AppError::io("Cannot reach Berth's Docker socket", e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http_error)?;
    tokio::spawn(conn);
    let request = hyper::Request::get(path)
        .header("Host", "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|e| AppError::msg(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(http_error)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(http_error)?
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::msg(format!("Bad answer from the engine: {e}")))?;
    if !status.is_success() {
        let message = value["message"].as_str().unwrap_or("request failed");
        return Err(AppError::msg(message.to_string()));
    }
    Ok(value)
}

fn http_error(e: hyper::Error) -> AppError {
    AppError::msg(format!("Cannot talk to the engine: {e}"))
}
