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
    let mut decide = Notifier::new(unix_ms());
    tauri::async_runtime::spawn(follow(state, move |message| {
        if let EngineWatch::Status { status } = &message {
            if let Some(tray) = app.try_state::<Tray>() {
                tray.update(status);
            }
        }
        if let Some((title, body)) = decide.on(&message) {
            notify(&app, title, &body);
        }
        true
    }));
}

/// Which engine news deserves a notification: a failure seen as it happens (not one
/// found at launch), and a port error that is new (the history replays old events).
#[derive(Debug)]
struct Notifier {
    started_ms: u64,
    last_phase: Option<Phase>,
}

impl Notifier {
    fn new(started_ms: u64) -> Notifier {
        Notifier {
            started_ms,
            last_phase: None,
        }
    }

    fn on(&mut self, message: &EngineWatch) -> Option<(&'static str, String)> {
        match message {
            EngineWatch::Status { status } => {
                let was = self.last_phase.replace(status.phase);
                let failed_now =
                    status.phase == Phase::Failed && was.is_some_and(|p| p != Phase::Failed);
                failed_now.then(|| {
                    let reason = status.last_error.as_deref().unwrap_or("no reason given");
                    ("Berth's engine failed", reason.to_string())
                })
            }
            EngineWatch::Event { event }
                if event.unix_ms >= self.started_ms && event.kind == EventKind::PortError =>
            {
                Some(("A port could not be published", event.message.clone()))
            }
            EngineWatch::Event { .. } => None,
        }
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::status::{EngineStatus, Event};
    use berth_host::settings::Settings;
    use berth_host::state::StateDirs;

    fn status(phase: Phase, error: Option<&str>) -> EngineWatch {
        let mut status =
            EngineStatus::not_running(&StateDirs::at("/b"), &Settings::default(), None);
        status.phase = phase;
        status.last_error = error.map(str::to_string);
        EngineWatch::Status {
            status: Box::new(status),
        }
    }

    fn event(unix_ms: u64, kind: EventKind) -> EngineWatch {
        EngineWatch::Event {
            event: Event {
                unix_ms,
                kind,
                message: "Cannot listen on 127.0.0.1:8080".into(),
            },
        }
    }

    #[test]
    fn a_failure_notifies_when_it_happens_not_when_found_at_launch() {
        let mut n = Notifier::new(1000);
        assert_eq!(n.on(&status(Phase::Failed, Some("old"))), None);
        assert_eq!(n.on(&status(Phase::Booting, None)), None);
        let (title, body) = n.on(&status(Phase::Failed, Some("QEMU exited"))).unwrap();
        assert_eq!(
            (title, body.as_str()),
            ("Berth's engine failed", "QEMU exited")
        );
        // Still failed: not again.
        assert_eq!(n.on(&status(Phase::Failed, Some("QEMU exited"))), None);
    }

    #[test]
    fn only_new_port_errors_notify() {
        let mut n = Notifier::new(1000);
        assert_eq!(n.on(&event(999, EventKind::PortError)), None);
        assert_eq!(n.on(&event(2000, EventKind::PortAdded)), None);
        let (title, body) = n.on(&event(2000, EventKind::PortError)).unwrap();
        assert_eq!(title, "A port could not be published");
        assert!(body.contains("8080"));
    }
}
