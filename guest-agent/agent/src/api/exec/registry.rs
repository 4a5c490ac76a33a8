//! The exec sessions the API knows: created, running, or ended a short while ago (clients
//! read the exit code after the stream ends). Ended sessions are forgotten after
//! [`KEEP_ENDED`], and with their container.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use berth_engine::engine::{set_window_size, Engine};
use bollard_stubs::models::ExecConfig;

use crate::api::error::{ApiError, ApiResult};

/// How long an ended session stays inspectable.
const KEEP_ENDED: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Default)]
pub struct ExecRegistry {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

#[derive(Debug)]
pub struct Session {
    pub id: String,
    /// The container's full id.
    pub container_id: String,
    /// The request as created.
    pub config: ExecConfig,
    state: Mutex<SessionState>,
}

#[derive(Debug, Default)]
pub struct SessionState {
    pub started: bool,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub ended: Option<Instant>,
    /// The pty master while a terminal session runs (for resize).
    master: Option<OwnedFd>,
    /// A size asked for before the terminal existed; applied when it arrives.
    pending_size: Option<(u16, u16)>,
}

impl Session {
    pub fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the session started; a second start is a conflict, as with docker.
    pub fn begin(&self) -> ApiResult<()> {
        let mut state = self.state();
        if state.started {
            return Err(ApiError::conflict(format!(
                "Exec command {} has already run",
                self.id
            )));
        }
        state.started = true;
        state.running = true;
        Ok(())
    }

    /// The terminal arrived: keep it for resizes, and apply a size asked for meanwhile.
    pub fn set_terminal(&self, master: OwnedFd) {
        let mut state = self.state();
        if let Some((rows, cols)) = state.pending_size.take() {
            let _ = set_window_size(master.as_fd(), rows, cols);
        }
        state.master = Some(master);
    }

    /// Resizes the terminal now, or once it exists.
    pub fn resize(&self, rows: u16, cols: u16) -> ApiResult<()> {
        let mut state = self.state();
        match &state.master {
            Some(master) => set_window_size(master.as_fd(), rows, cols)
                .map_err(|e| ApiError::internal(format!("Cannot resize the terminal: {e}"))),
            None if state.running || !state.started => {
                state.pending_size = Some((rows, cols));
                Ok(())
            }
            None => Err(ApiError::conflict(format!(
                "Exec {} is not running",
                self.id
            ))),
        }
    }

    pub fn finish(&self, exit_code: i64) {
        let mut state = self.state();
        state.running = false;
        state.exit_code = Some(exit_code);
        state.ended = Some(Instant::now());
        state.master = None;
    }
}

impl ExecRegistry {
    pub fn insert(&self, session: Session) -> Arc<Session> {
        let session = Arc::new(session);
        self.lock().insert(session.id.clone(), session.clone());
        session
    }

    pub fn get(&self, id: &str) -> ApiResult<Arc<Session>> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
    }

    /// Forgets sessions that ended long ago, and those whose container is gone (a session
    /// that never started or ended; a running one ends with its container anyway).
    pub fn prune(&self, engine: &Engine) {
        let sessions: Vec<Arc<Session>> = self.lock().values().cloned().collect();
        let stale: Vec<String> = sessions
            .iter()
            .filter(|s| {
                let state = s.state();
                let old = state.ended.is_some_and(|at| at.elapsed() > KEEP_ENDED);
                old || (!state.running && engine.inspect(&s.container_id).is_err())
            })
            .map(|s| s.id.clone())
            .collect();
        let mut map = self.lock();
        for id in stale {
            map.remove(&id);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Session {
    pub fn new(id: String, container_id: String, config: ExecConfig) -> Session {
        Session {
            id,
            container_id,
            config,
            state: Mutex::default(),
        }
    }
}
