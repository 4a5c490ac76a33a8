//! What every command shares (Tauri managed state).

use std::sync::{Arc, Mutex};

use berth_host::state::StateDirs;
use tokio::sync::Notify;

use crate::streams::Streams;
use crate::terminals::Terminals;

#[derive(Debug, Clone)]
pub struct AppState {
    pub dirs: StateDirs,
    pub streams: Streams,
    pub terminals: Terminals,
    pub engine: EngineShared,
}

/// Between the engine commands and the watchers of the daemon.
#[derive(Debug, Clone, Default)]
pub struct EngineShared {
    /// Wakes watchers waiting to reconnect (a daemon was just started), so the UI does
    /// not wait out a back-off.
    pub wake: Arc<Notify>,
    /// Why the last daemon this app started exited early: shown as the status's
    /// `lastError` while no daemon runs.
    pub spawn_error: Arc<Mutex<Option<String>>>,
}

impl EngineShared {
    pub fn spawn_error(&self) -> Option<String> {
        self.spawn_error.lock().expect("spawn error lock").clone()
    }

    pub fn set_spawn_error(&self, error: Option<String>) {
        *self.spawn_error.lock().expect("spawn error lock") = error;
    }
}

impl AppState {
    pub fn new(dirs: StateDirs) -> AppState {
        AppState {
            dirs,
            streams: Streams::default(),
            terminals: Terminals::default(),
            engine: EngineShared::default(),
        }
    }
}
