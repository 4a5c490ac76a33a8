//! `berth-agent serve`: the long-running engine behind the Docker API socket.

use std::path::Path;

use anyhow::Context;
use berth_engine::container::config::SharedPaths;
use berth_engine::engine::DEFAULT_SUPERVISE_INTERVAL;

use crate::api::state::{AppState, DaemonInfo};
use crate::cli::Cli;

pub fn serve(cli: &Cli, socket: &Path, vsock_port: Option<u32>) -> anyhow::Result<u8> {
    let engine = super::open(cli, Some(DEFAULT_SUPERVISE_INTERVAL))?;
    if cli.shares_only || !cli.shared_paths.is_empty() {
        // Berth's own paths a bind may name: named volumes' data and this API's socket.
        let internal = [cli.root.join("volumes"), socket.to_path_buf()];
        engine.restrict_binds(SharedPaths::new(&cli.shared_paths, &internal));
        tracing::info!(shared = ?cli.shared_paths, "bind mounts only from shared folders");
    }
    // Before the socket exists: whoever finds the API up (the host after a VM boot) finds
    // the `always` and `unless-stopped` containers running again, as with dockerd.
    engine.start_by_policy();
    let daemon = DaemonInfo {
        root: cli.root.clone(),
        id: engine_id(&cli.root)?,
    };
    let state = AppState::new(engine, daemon);
    // Two workers: the engine's own calls run on the blocking pool, the reactor only moves
    // bytes; more workers cost memory and buy nothing on a small VM.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berth-api")
        .enable_all()
        .build()
        .context("Cannot start the async runtime")?;
    runtime.block_on(crate::api::serve(state, socket, vsock_port))?;
    Ok(0)
}

/// A stable ID for the engine root, made once and kept in `engine-id` (docker's `ID` in
/// `docker info`).
fn engine_id(root: &Path) -> anyhow::Result<String> {
    let path = root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        if !id.trim().is_empty() {
            return Ok(id.trim().to_string());
        }
    }
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(root).with_context(|| format!("Cannot create {}", root.display()))?;
    std::fs::write(&path, &id).with_context(|| format!("Cannot write {}", path.display()))?;
    Ok(id)
}
