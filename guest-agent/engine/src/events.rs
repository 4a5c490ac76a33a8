//! What happened in the engine, as Docker's `/events` stream reports it: a bus every part
//! of the engine (and the API layer, for images and networks) publishes to, and any number
//! of subscribers read from.
//!
//! Subscribers get a bounded channel each: one that stops reading loses its oldest events
//! rather than growing the engine's memory (docker's event log is a ring buffer too). A
//! short ring of past events serves `since`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Events kept for subscribers that ask for past ones (`docker events --since`).
const HISTORY: usize = 256;
/// Events a slow subscriber may have pending before it misses new ones.
const PENDING: usize = 1024;

/// One event: `container start`, `image tag`, `network connect`, `port add`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `container`, `image`, `volume`, `network`, `port` (Berth's own: a published port
    /// opened or closed, for the host's forwarder).
    pub kind: &'static str,
    pub action: String,
    /// The object's ID (or name, for volumes and images by reference).
    pub actor: String,
    /// `name`, `image`, `exitCode`, labels...
    pub attributes: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch.
    pub time_nano: i64,
}

impl Event {
    pub fn new(kind: &'static str, action: impl Into<String>, actor: impl Into<String>) -> Self {
        let time_nano = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Event {
            kind,
            action: action.into(),
            actor: actor.into(),
            attributes: BTreeMap::new(),
            time_nano,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attributes.insert(key.to_string(), value.into());
        self
    }
}

#[derive(Debug, Default)]
pub struct EventBus {
    inner: Mutex<BusInner>,
}

#[derive(Debug, Default)]
struct BusInner {
    history: VecDeque<Event>,
    subscribers: Vec<SyncSender<Event>>,
}

impl EventBus {
    pub fn publish(&self, event: Event) {
        tracing::debug!(kind = event.kind, action = %event.action, actor = %event.actor, "event");
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.subscribers.retain(|tx| {
            !matches!(
                tx.try_send(event.clone()),
                Err(TrySendError::Disconnected(_))
            )
        });
        if inner.history.len() == HISTORY {
            inner.history.pop_front();
        }
        inner.history.push_back(event);
    }

    /// New events from now on, after the remembered ones at or after `since_nano` (none
    /// when `None`). Dropping the receiver unsubscribes.
    pub fn subscribe(&self, since_nano: Option<i64>) -> Receiver<Event> {
        let (tx, rx) = sync_channel(PENDING);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(since) = since_nano {
            for event in inner.history.iter().filter(|e| e.time_nano >= since) {
                let _ = tx.try_send(event.clone());
            }
        }
        inner.subscribers.push(tx);
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_see_new_events_and_past_ones_since() {
        let bus = EventBus::default();
        bus.publish(Event::new("container", "create", "a"));
        let live = bus.subscribe(None);
        let past = bus.subscribe(Some(0));
        bus.publish(Event::new("container", "start", "a").with("name", "web"));
        assert_eq!(live.recv().unwrap().action, "start");
        assert!(live.try_recv().is_err());
        let actions: Vec<String> = past.try_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["create", "start"]);
    }

    #[test]
    fn a_dropped_subscriber_is_forgotten() {
        let bus = EventBus::default();
        drop(bus.subscribe(None));
        bus.publish(Event::new("image", "tag", "x"));
        assert!(bus.inner.lock().unwrap().subscribers.is_empty());
    }
}
