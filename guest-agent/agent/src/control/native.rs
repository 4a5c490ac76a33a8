//! `berth-agent control --unix PATH`: the control service outside a VM, over a Unix
//! socket, next to an engine someone else runs (`berth-agent serve`). For tests and for
//! Linux users; time-sync and shutdown answer errors (they act on the VM).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use super::Context;
use crate::init::reaper::Children;

pub fn run_native(socket: &Path, docker_socket: &Path) -> anyhow::Result<u8> {
    // One thread: the service only moves bytes, and exec children are reaped here.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("Cannot start the async runtime")?;
    runtime.block_on(async {
        if let Some(dir) = socket.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("Cannot create {}", dir.display()))?;
        }
        let _ = std::fs::remove_file(socket);
        let listener = tokio::net::UnixListener::bind(socket)
            .with_context(|| format!("Cannot listen on {}", socket.display()))?;
        let children = Children::new();
        tokio::spawn(children.clone().run());
        let ctx = Arc::new(Context {
            docker_socket: docker_socket.to_path_buf(),
            children,
            vm: None,
        });
        tracing::info!("control service on {}", socket.display());
        tokio::select! {
            () = super::serve(listener, ctx) => {}
            () = terminated() => {}
        }
        let _ = std::fs::remove_file(socket);
        Ok(0)
    })
}

async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        },
        _ => std::future::pending().await,
    }
}
