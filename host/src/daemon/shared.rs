//! What the daemon's tasks share: the current [`Vm`], the phase, the port table and the
//! recent events (with a broadcast for `events --follow`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::forward::Listener;
use super::ports::PortTable;
use super::proto::{DaemonEvent, EventKind, Phase};
use crate::settings::Settings;
use crate::vm::Vm;

/// Events kept for `berth status` / `events` without `--follow`.
const EVENT_HISTORY: usize = 200;

#[derive(Debug)]
pub struct Inner {
    pub vm: Vm,
    pub phase: Phase,
    pub backend: String,
    pub reattached: bool,
    /// The settings the VM was booted with (`bind_address` applies to new listeners).
    pub settings: Settings,
    pub last_error: Option<String>,
    pub ports: PortTable<Listener>,
    /// The last client program seen on the Docker socket, and when.
    pub last_docker_client: Option<(String, std::time::Instant)>,
    events: VecDeque<DaemonEvent>,
}

#[derive(Debug, Clone)]
pub struct Shared {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<DaemonEvent>,
    phase_tx: Arc<tokio::sync::watch::Sender<Phase>>,
}

impl Shared {
    pub fn new(vm: Vm, settings: Settings) -> Shared {
        let backend = vm.backend().name();
        Shared {
            inner: Arc::new(Mutex::new(Inner {
                vm,
                phase: Phase::Stopped,
                backend,
                reattached: false,
                settings,
                last_error: None,
                ports: PortTable::default(),
                last_docker_client: None,
                events: VecDeque::new(),
            })),
            events: broadcast::channel(256).0,
            phase_tx: Arc::new(tokio::sync::watch::channel(Phase::Stopped).0),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicked task must not take the daemon's state with it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn vm(&self) -> Vm {
        self.lock().vm.clone()
    }

    pub fn phase(&self) -> Phase {
        self.lock().phase
    }

    /// Waits for phase changes (the port watcher follows the VM's life with it).
    pub fn watch_phase(&self) -> tokio::sync::watch::Receiver<Phase> {
        self.phase_tx.subscribe()
    }

    pub fn set_phase(&self, phase: Phase) {
        {
            let mut inner = self.lock();
            if inner.phase == phase {
                return;
            }
            inner.phase = phase;
            if phase != Phase::Failed {
                inner.last_error = None;
            }
        }
        self.phase_tx.send_replace(phase);
        self.event(EventKind::Phase, phase.describe().to_string());
    }

    pub fn fail(&self, message: String) {
        self.lock().last_error = Some(message.clone());
        self.event(EventKind::Error, message);
        self.set_phase(Phase::Failed);
    }

    /// Records an event, logs it and tells the followers.
    pub fn event(&self, kind: EventKind, message: String) {
        tracing::info!(?kind, "{message}");
        let event = DaemonEvent {
            unix_ms: now_ms(),
            kind,
            message,
        };
        {
            let mut inner = self.lock();
            if inner.events.len() == EVENT_HISTORY {
                inner.events.pop_front();
            }
            inner.events.push_back(event.clone());
        }
        let _ = self.events.send(event);
    }

    /// The recent events and a receiver for the next ones, taken together so none is lost.
    pub fn events(&self) -> (Vec<DaemonEvent>, broadcast::Receiver<DaemonEvent>) {
        let inner = self.lock();
        let rx = self.events.subscribe();
        (inner.events.iter().cloned().collect(), rx)
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
