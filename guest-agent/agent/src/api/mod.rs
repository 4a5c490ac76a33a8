//! The Docker Engine API over HTTP/1.1: what the `docker` CLI, compose and the SDKs talk to.
//! Natively it listens on a Unix socket (default /run/berth/docker.sock); in the VM also on
//! a vsock port. One module per resource; handlers are thin adapters over the engine,
//! with bodies and answers in `bollard-stubs`' models.

mod auth;
mod build;
mod commit;
mod containers;
mod df;
pub mod error;
mod exec;
pub mod extract;
pub mod hijack;
mod images;
pub mod mux;
mod networks;
pub mod state;
pub mod stream;
mod system;
pub mod version;
mod volumes;
mod vsock;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower::Layer;

use error::ApiError;
use state::AppState;

/// How long open connections may go on after SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The socket when none is given.
pub const DEFAULT_SOCKET: &str = "/run/berth/docker.sock";

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(system::routes())
        .merge(auth::routes())
        .merge(containers::routes())
        .merge(exec::routes())
        .merge(images::routes())
        .merge(volumes::routes())
        .merge(networks::routes())
        .merge(build::routes())
        .merge(commit::routes())
        .merge(df::routes())
        .fallback(|| async { ApiError::not_found("page not found") })
        .layer(DefaultBodyLimit::max(extract::MAX_JSON_BODY))
        .with_state(state)
}

/// Binds `socket` (replacing a stale one no server answers on) and, in the VM, vsock
/// `vsock_port`, then serves both until SIGTERM or SIGINT.
pub async fn serve(state: AppState, socket: &Path, vsock_port: Option<u32>) -> anyhow::Result<()> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("Cannot create {}", dir.display()))?;
    }
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            anyhow::bail!(
                "Another engine is already serving on {}; stop it first",
                socket.display()
            );
        }
        std::fs::remove_file(socket)
            .with_context(|| format!("Cannot remove the stale socket {}", socket.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(socket)
        .with_context(|| format!("Cannot listen on {}", socket.display()))?;
    // Whoever can reach the socket controls the engine: owner and group only.
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("Cannot set the mode of {}", socket.display()))?;
    tracing::info!("serving the Docker API on {}", socket.display());
    let vsock = vsock_port
        .map(|port| {
            vsock::bind_vsock(port).with_context(|| format!("Cannot listen on vsock port {port}"))
        })
        .transpose()?;
    let listener = vsock::Listeners {
        unix: listener,
        vsock,
    };
    let app = axum::middleware::from_fn(version::strip_prefix).layer(router(state));
    let service = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
    // Graceful: no new connections, running requests finish. Hijacked streams (attach,
    // exec, logs -f, events) may never end on their own, so they get a short grace period;
    // the containers behind them keep running under their monitors.
    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(true);
    });
    tokio::select! {
        result = server => result.context("The API server failed")?,
        _ = async {
            let _ = stopping.changed().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::info!("open connections closed after {SHUTDOWN_GRACE:?}"),
    }
    let _ = std::fs::remove_file(socket);
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
