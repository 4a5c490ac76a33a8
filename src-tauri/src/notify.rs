//! Desktop notifications for what goes wrong while the window may be hidden: a port that
//! could not be published, the engine failing. A monitor follows the daemon for the
//! app's life (and keeps the tray's status current).

use berth_host::daemon::proto::{EventKind, Phase};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::engine::watch::{follow, EngineWatch};
use crate::state::AppState;
use crate::tray::Tray;

/// Shows a notification; a desktop without a notification service just logs it.
pub fn notify(app: &AppHandle, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("notification {title:?} not shown ({e}): {body}");
    }
}

pub fn spawn_monitor(app: AppHandle) {
    let state = app.state::<AppState>().inner().clone();
    let started_ms = unix_ms();
    let mut last_phase: Option<Phase> = None;
    tauri::async_runtime::spawn(follow(state, move |message| {
        match message {
            EngineWatch::Status { status } => {
                if let Some(tray) = app.try_state::<Tray>() {
                    tray.update(&status);
                }
                // A failure seen as it happens (not one found at launch).
                if status.phase == Phase::Failed && last_phase.is_some_and(|p| p != Phase::Failed) {
                    let reason = status.last_error.as_deref().unwrap_or("no reason given");
                    notify(&app, "Berth's engine failed", reason);
                }
                last_phase = Some(status.phase);
            }
            // The history replays old events: only new ones notify.
            EngineWatch::Event { event } if event.unix_ms >= started_ms => {
                if event.kind == EventKind::PortError {
                    notify(&app, "A port could not be published", &event.message);
                }
            }
            EngineWatch::Event { .. } => {}
        }
        true
    }));
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
