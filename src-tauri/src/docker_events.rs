//! `docker_events`: the engine's event stream, as Docker's `EventMessage` JSON; the
//! container list follows it instead of polling.

use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tauri::ipc::Channel;
use tauri::{State, Window};

use crate::docker;
use crate::error::CmdResult;
use crate::state::AppState;
use crate::streams::StreamId;

#[tauri::command]
pub async fn docker_events(
    window: Window,
    state: State<'_, AppState>,
    on_event: Channel<EventMessage>,
) -> CmdResult<StreamId> {
    let docker = docker::connect(&state.dirs)?;
    // A ping first, so an engine that is not up rejects the command rather than ending
    // the stream silently.
    docker.ping().await?;
    let id = state.streams.next_id();
    state.streams.spawn(id, window.label(), async move {
        let mut events = docker.events(None::<EventsOptions>);
        while let Some(Ok(event)) = events.next().await {
            if on_event.send(event).is_err() {
                return;
            }
        }
    });
    Ok(id)
}

#[tauri::command]
pub async fn stream_cancel(state: State<'_, AppState>, id: u32) -> CmdResult<()> {
    state.streams.cancel(id);
    // A terminal's id names its output stream too: cancelling it closes the terminal.
    state.terminals.forget(id);
    Ok(())
}
