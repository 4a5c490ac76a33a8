//! What every handler shares: the engine, facts about this daemon, and the exec sessions
//! created but not yet started.

use std::path::PathBuf;
use std::sync::Arc;

use berth_engine::engine::Engine;

use super::error::{ApiError, ApiResult};
use super::exec::ExecRegistry;

#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub daemon: Arc<DaemonInfo>,
    pub execs: Arc<ExecRegistry>,
}

/// Facts `/info` and `/version` report.
#[derive(Debug)]
pub struct DaemonInfo {
    /// The engine's root (`DockerRootDir`).
    pub root: PathBuf,
    /// A stable ID for this engine root (docker's `ID`).
    pub id: String,
}

impl AppState {
    pub fn new(engine: Engine, daemon: DaemonInfo) -> AppState {
        AppState {
            engine: Arc::new(engine),
            daemon: Arc::new(daemon),
            execs: Arc::default(),
        }
    }

    /// Runs a blocking engine call on tokio's blocking pool: engine calls take locks,
    /// touch disk and wait for processes.
    pub async fn run<T, F>(&self, call: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> ApiResult<T> + Send + 'static,
    {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || call(&engine))
            .await
            .map_err(|e| ApiError::internal(format!("engine call failed: {e}")))?
    }
}
