//! Hijacked connections (attach, exec start): the client asks for `Upgrade: tcp`, Berth
//! answers `101 UPGRADED`, and the connection becomes a raw byte stream both ways. The
//! client's half-close (shutdown of its write side) reads as EOF here while output still
//! flows back.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;

use super::error::{ApiError, ApiResult};
use super::version::ApiVersion;

/// The upgraded connection, readable and writable with tokio's traits.
pub type Conn = TokioIo<Upgraded>;

/// Answers 101 and runs `session` on the upgraded connection. `multiplexed` says the
/// output is framed (no TTY); clients from API 1.42 on learn it from the content type.
pub fn upgrade<F, Fut>(request: &mut Request, multiplexed: bool, session: F) -> ApiResult<Response>
where
    F: FnOnce(Conn) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let wants_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("tcp"));
    if !wants_upgrade {
        return Err(ApiError::bad_request(
            "this endpoint streams over an upgraded connection: send `Connection: Upgrade` \
             and `Upgrade: tcp`",
        ));
    }
    let on_upgrade = hyper::upgrade::on(&mut *request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => session(TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!("upgrade failed: {e}"),
        }
    });
    let version = request
        .extensions()
        .get::<ApiVersion>()
        .copied()
        .unwrap_or(super::version::CURRENT_VERSION);
    let content_type = if multiplexed && version.at_least(1, 42) {
        "application/vnd.docker.multiplexed-stream"
    } else {
        "application/vnd.docker.raw-stream"
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
