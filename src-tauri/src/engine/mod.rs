//! The engine commands: the daemon's status, start, stop, restart, and the watch stream.

pub mod spawn;
pub mod status;
pub mod watch;

use std::time::Duration;

use berth_host::backend::Status;
use berth_host::daemon::proto::DaemonRequest;
use berth_host::daemon::vm_setup::build_vm;
use berth_host::daemon::{ClientError, DaemonClient};
use berth_host::settings::Settings;
use tauri::ipc::Channel;
use tauri::{State, Window};

use crate::error::CmdResult;
use crate::state::AppState;
use crate::streams::StreamId;
use status::EngineStatus;
use watch::EngineWatch;

/// How long the daemon may take to accept a start or restart (it answers at once).
const ASK_TIMEOUT: Duration = Duration::from_secs(10);
/// A stop answers once the VM is off.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// The status as the UI shows it; never an error (no daemon is `stopped`).
pub async fn status_of(state: &AppState) -> EngineStatus {
    let settings = || Settings::load(&state.dirs).unwrap_or_default();
    match DaemonClient::new(&state.dirs).status().await {
        Ok(report) => {
            state.engine.set_spawn_error(None);
            EngineStatus::from_report(report)
        }
        Err(ClientError::NotRunning) => {
            EngineStatus::not_running(&state.dirs, &settings(), state.engine.spawn_error())
        }
        Err(e) => EngineStatus::unreachable(
            &state.dirs,
            &settings(),
            crate::error::AppError::from(e).message(),
        ),
    }
}

#[tauri::command]
pub async fn engine_status(state: State<'_, AppState>) -> CmdResult<EngineStatus> {
    Ok(status_of(&state).await)
}

#[tauri::command]
pub async fn engine_start(state: State<'_, AppState>) -> CmdResult<()> {
    start(&state).await
}

pub async fn start(state: &AppState) -> CmdResult<()> {
    let client = DaemonClient::new(&state.dirs);
    match client.expect_ok(&DaemonRequest::Start, ASK_TIMEOUT).await {
        Ok(()) => {}
        Err(ClientError::NotRunning) => spawn::start_daemon(state)?,
        Err(e) => return Err(e.into()),
    }
    state.engine.wake.notify_waiters();
    Ok(())
}

#[tauri::command]
pub async fn engine_stop(state: State<'_, AppState>) -> CmdResult<()> {
    stop(&state).await
}

/// Stops the VM and the daemon; without a daemon (it was killed), a VM it left running
/// is stopped from here, as `berth stop` does.
pub async fn stop(state: &AppState) -> CmdResult<()> {
    let client = DaemonClient::new(&state.dirs);
    let result = match client.expect_ok(&DaemonRequest::Stop, STOP_TIMEOUT).await {
        // The daemon exits right after answering: a closed connection is success too.
        Ok(()) | Err(ClientError::Closed) => Ok(()),
        Err(ClientError::NotRunning) => {
            let vm = build_vm(&state.dirs, &Settings::load(&state.dirs)?)?;
            if matches!(vm.status().await, Status::Running { .. }) {
                vm.stop().await?;
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    };
    state.engine.wake.notify_waiters();
    result
}

#[tauri::command]
pub async fn engine_restart(state: State<'_, AppState>) -> CmdResult<()> {
    restart(&state).await
}

pub async fn restart(state: &AppState) -> CmdResult<()> {
    let client = DaemonClient::new(&state.dirs);
    match client.expect_ok(&DaemonRequest::Restart, ASK_TIMEOUT).await {
        Ok(()) => Ok(()),
        Err(ClientError::NotRunning) => start(state).await,
        Err(e) => Err(e.into()),
    }
}

#[tauri::command]
pub async fn engine_watch(
    window: Window,
    state: State<'_, AppState>,
    on_event: Channel<EngineWatch>,
) -> CmdResult<StreamId> {
    let id = state.streams.next_id();
    let app_state = state.inner().clone();
    state.streams.spawn(
        id,
        window.label(),
        watch::follow(app_state, move |message| on_event.send(message).is_ok()),
    );
    Ok(id)
}
