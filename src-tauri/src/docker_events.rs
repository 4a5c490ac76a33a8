//! `docker_events`: the engine's event stream, as Docker's `EventMessage` JSON; the
//! container list follows it instead of polling. The stream outlives engine restarts: it
//! reconnects by itself until the UI cancels it.

use std::time::Duration;

use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tauri::ipc::Channel;
use tauri::{State, Window};

use crate::docker;
use crate::error::CmdResult;
use crate::state::AppState;
use crate::streams::StreamId;

/// Reconnecting after the stream ended (the engine restarted, the VM rebooted, the
/// connection broke): quickly at first, then no more often than this.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

fn reload_event() -> EventMessage {
    EventMessage {
        typ: Some(EventMessageTypeEnum::DAEMON),
        action: Some("reload".to_string()),
        ..Default::default()
    }
}

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
        let mut backoff = BACKOFF_MIN;
        let mut first = true;
        loop {
            // Events may have been missed while the stream was down: a `daemon reload`
            // event (what Docker sends when its state changed wholesale) makes the UI
            // refetch every list.
            if !first && on_event.send(reload_event()).is_err() {
                return;
            }
            first = false;
            let mut events = docker.events(None::<EventsOptions>);
            let mut delivered = false;
            loop {
                match events.next().await {
                    Some(Ok(event)) => {
                        delivered = true;
                        if on_event.send(event).is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!("docker events: {e}; reconnecting");
                        break;
                    }
                    None => break,
                }
            }
            if delivered {
                backoff = BACKOFF_MIN;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
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
