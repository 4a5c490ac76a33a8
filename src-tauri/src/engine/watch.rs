//! Following the daemon: its events (history first), a status after each burst of them,
//! and reconnection with back-off while no daemon runs. `engine_watch` sends what it
//! sees on a channel; the tray and the notifications follow the same way.

use std::time::Duration;

use berth_host::daemon::proto::{DaemonEvent, EventKind};
use berth_host::daemon::DaemonClient;
use serde::Serialize;

use super::status::{EngineStatus, Event};
use crate::state::AppState;

/// What a watcher sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EngineWatch {
    Status { status: Box<EngineStatus> },
    Event { event: Event },
}

/// Events in a burst (the history, a boot's phases) are followed by one status once
/// the burst pauses this long, not one status per event.
const SETTLE: Duration = Duration::from_millis(150);
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Follows the daemon until `sink` returns false (its receiver went away) or the task
/// is aborted.
pub async fn follow(state: AppState, mut sink: impl FnMut(EngineWatch) -> bool + Send) {
    let client = DaemonClient::new(&state.dirs);
    let mut last_status: Option<EngineStatus> = None;
    let mut seen = Seen::default();
    let mut backoff = BACKOFF_MIN;
    // Sends a status when it differs from the last one sent.
    let mut send_status = |status: EngineStatus, sink: &mut dyn FnMut(EngineWatch) -> bool| {
        if last_status.as_ref() == Some(&status) {
            return true;
        }
        last_status = Some(status.clone());
        sink(EngineWatch::Status {
            status: Box::new(status),
        })
    };
    loop {
        match client.events(true).await {
            Ok(mut events) => {
                backoff = BACKOFF_MIN;
                if !send_status(super::status_of(&state).await, &mut sink) {
                    return;
                }
                let mut pending = false;
                loop {
                    tokio::select! {
                        next = events.next() => match next {
                            Some(Ok(event)) => {
                                pending = true;
                                if seen.fresh(&event)
                                    && !sink(EngineWatch::Event { event: event.into() })
                                {
                                    return;
                                }
                            }
                            // The daemon exited (or said something we cannot read).
                            _ => break,
                        },
                        _ = tokio::time::sleep(SETTLE), if pending => {
                            pending = false;
                            if !send_status(super::status_of(&state).await, &mut sink) {
                                return;
                            }
                        }
                    }
                }
                if !send_status(super::status_of(&state).await, &mut sink) {
                    return;
                }
            }
            Err(_) => {
                if !send_status(super::status_of(&state).await, &mut sink) {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = state.engine.wake.notified() => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Which events were sent already: a reconnect to the same daemon replays its history,
/// and the UI should see each event once.
#[derive(Debug, Default)]
struct Seen {
    last_ms: u64,
    at_last_ms: Vec<(EventKind, String)>,
}

impl Seen {
    fn fresh(&mut self, e: &DaemonEvent) -> bool {
        if e.unix_ms < self.last_ms {
            return false;
        }
        if e.unix_ms > self.last_ms {
            self.last_ms = e.unix_ms;
            self.at_last_ms.clear();
        }
        let key = (e.kind, e.message.clone());
        if self.at_last_ms.contains(&key) {
            return false;
        }
        self.at_last_ms.push(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(unix_ms: u64, message: &str) -> DaemonEvent {
        DaemonEvent {
            unix_ms,
            kind: EventKind::Phase,
            message: message.into(),
        }
    }

    #[test]
    fn a_replayed_history_is_not_sent_twice() {
        let mut seen = Seen::default();
        let history = [ev(1, "booting"), ev(2, "a"), ev(2, "b"), ev(3, "running")];
        assert!(history.iter().all(|e| seen.fresh(e)));
        assert!(!history.iter().any(|e| seen.fresh(e)));
        assert!(seen.fresh(&ev(3, "stopping")));
        assert!(seen.fresh(&ev(4, "stopped")));
    }

    #[test]
    fn watch_messages_have_the_contracts_shape() {
        let e = EngineWatch::Event {
            event: ev(7, "running").into(),
        };
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["kind"], "event");
        assert_eq!(json["event"]["kind"], "phase");
        assert_eq!(json["event"]["unixMs"], 7);
    }
}
