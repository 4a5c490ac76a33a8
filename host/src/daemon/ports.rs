//! The bookkeeping of published ports: which host listeners are open, which failed and
//! why. Pure (generic over the listener handle) so the rules are unit-tested without
//! sockets; [`super::forward`] does the I/O.
//!
//! Rules: `added` is idempotent (the agent may repeat one around its snapshot); an
//! `added` for a port that failed retries it; after a reconnect the snapshot is the truth,
//! so listeners it does not mention are closed ([`PortTable::begin_resync`] /
//! [`PortTable::end_resync`]).

use std::collections::BTreeMap;

use berth_protocol::{PortEvent, Proto};

use super::proto::{ForwardedPort, PortError};

/// One host listener: protocol, the address the container asked for, the host port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortKey {
    pub proto: ProtoKey,
    pub host_ip: String,
    pub host_port: u16,
}

/// [`Proto`] with an order, for the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProtoKey {
    Tcp,
    Udp,
}

impl PortKey {
    pub fn of(event: &PortEvent) -> PortKey {
        PortKey {
            proto: match event.proto {
                Proto::Tcp => ProtoKey::Tcp,
                Proto::Udp => ProtoKey::Udp,
            },
            host_ip: event.host_ip.clone(),
            host_port: event.host_port,
        }
    }
}

#[derive(Debug)]
enum State<H> {
    /// Reserved by an `added` whose listener is being opened.
    Opening,
    Listening {
        handle: H,
        bound: String,
    },
    Failed(String),
}

#[derive(Debug)]
struct Entry<H> {
    event: PortEvent,
    state: State<H>,
    /// The resync generation that last confirmed it.
    seen: u64,
}

#[derive(Debug)]
pub struct PortTable<H> {
    entries: BTreeMap<PortKey, Entry<H>>,
    generation: u64,
}

impl<H> Default for PortTable<H> {
    fn default() -> Self {
        PortTable {
            entries: BTreeMap::new(),
            generation: 0,
        }
    }
}

impl<H> PortTable<H> {
    /// Records an `added`; true when the caller must open a listener (new, or failed before).
    pub fn added(&mut self, event: &PortEvent) -> bool {
        let generation = self.generation;
        let entry = self.entries.entry(PortKey::of(event)).or_insert(Entry {
            event: event.clone(),
            state: State::Failed(String::new()),
            seen: generation,
        });
        entry.seen = generation;
        entry.event = event.clone();
        match entry.state {
            State::Opening | State::Listening { .. } => false,
            State::Failed(_) => {
                entry.state = State::Opening;
                true
            }
        }
    }

    /// The listener for `key` is open at `bound`. Returns the handle back if the port was
    /// removed meanwhile (the caller drops it, closing the listener).
    pub fn opened(&mut self, key: &PortKey, handle: H, bound: String) -> Option<H> {
        match self.entries.get_mut(key) {
            Some(entry) if matches!(entry.state, State::Opening) => {
                entry.state = State::Listening { handle, bound };
                None
            }
            _ => Some(handle),
        }
    }

    /// The listener for `key` could not be opened (the host port is taken, ...).
    pub fn failed(&mut self, key: &PortKey, message: String) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.state = State::Failed(message);
        }
    }

    /// Records a `removed`; the handle to drop, if a listener was open.
    pub fn removed(&mut self, event: &PortEvent) -> Option<H> {
        match self.entries.remove(&PortKey::of(event))?.state {
            State::Listening { handle, .. } => Some(handle),
            _ => None,
        }
    }

    /// A fresh snapshot is coming: what it does not confirm is stale.
    pub fn begin_resync(&mut self) {
        self.generation += 1;
    }

    /// Forgets every port the snapshot did not mention; their handles, to drop.
    pub fn end_resync(&mut self) -> Vec<H> {
        let generation = self.generation;
        let stale: Vec<PortKey> = self
            .entries
            .iter()
            .filter(|(_, e)| e.seen != generation)
            .map(|(k, _)| k.clone())
            .collect();
        stale
            .into_iter()
            .filter_map(|k| match self.entries.remove(&k)?.state {
                State::Listening { handle, .. } => Some(handle),
                _ => None,
            })
            .collect()
    }

    /// Forgets everything (the VM stopped); the handles, to drop.
    pub fn clear(&mut self) -> Vec<H> {
        std::mem::take(&mut self.entries)
            .into_values()
            .filter_map(|e| match e.state {
                State::Listening { handle, .. } => Some(handle),
                _ => None,
            })
            .collect()
    }

    pub fn forwarded(&self) -> Vec<ForwardedPort> {
        self.entries
            .values()
            .filter_map(|e| match &e.state {
                State::Listening { bound, .. } => Some(ForwardedPort {
                    proto: e.event.proto,
                    host_ip: bound.clone(),
                    host_port: e.event.host_port,
                    container_port: e.event.container_port,
                    container_id: e.event.container_id.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    pub fn errors(&self) -> Vec<PortError> {
        self.entries
            .values()
            .filter_map(|e| match &e.state {
                State::Failed(message) => Some(PortError {
                    proto: e.event.proto,
                    host_ip: e.event.host_ip.clone(),
                    host_port: e.event.host_port,
                    container_id: e.event.container_id.clone(),
                    message: message.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use berth_protocol::PortAction;

    use super::*;

    fn event(action: PortAction, port: u16) -> PortEvent {
        PortEvent {
            action,
            snapshot: false,
            container_id: "c1".into(),
            proto: Proto::Tcp,
            host_ip: "127.0.0.1".into(),
            host_port: port,
            container_port: 80,
        }
    }

    fn open(table: &mut PortTable<u16>, port: u16) {
        let e = event(PortAction::Added, port);
        assert!(table.added(&e), "{port} should open");
        assert_eq!(
            table.opened(&PortKey::of(&e), port, "127.0.0.1".into()),
            None
        );
    }

    #[test]
    fn added_is_idempotent_and_removed_closes() {
        let mut table = PortTable::default();
        open(&mut table, 8080);
        assert!(!table.added(&event(PortAction::Added, 8080)));
        assert_eq!(table.forwarded().len(), 1);
        assert_eq!(table.removed(&event(PortAction::Removed, 8080)), Some(8080));
        assert_eq!(table.removed(&event(PortAction::Removed, 8080)), None);
        assert!(table.forwarded().is_empty());
    }

    #[test]
    fn a_failed_port_is_reported_and_retried_on_the_next_added() {
        let mut table: PortTable<u16> = PortTable::default();
        let e = event(PortAction::Added, 8081);
        assert!(table.added(&e));
        table.failed(&PortKey::of(&e), "address in use".into());
        let errors = table.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].host_port, errors[0].message.as_str()),
            (8081, "address in use")
        );
        assert!(table.added(&e), "a failed port is retried");
        assert_eq!(table.opened(&PortKey::of(&e), 1, "127.0.0.1".into()), None);
        assert!(table.errors().is_empty());
    }

    #[test]
    fn a_listener_opened_after_its_removal_is_handed_back() {
        let mut table: PortTable<u16> = PortTable::default();
        let e = event(PortAction::Added, 9000);
        assert!(table.added(&e));
        assert_eq!(table.removed(&event(PortAction::Removed, 9000)), None);
        assert_eq!(table.opened(&PortKey::of(&e), 7, "x".into()), Some(7));
    }

    #[test]
    fn a_resync_closes_what_the_snapshot_does_not_mention() {
        let mut table = PortTable::default();
        open(&mut table, 1);
        open(&mut table, 2);
        table.begin_resync();
        assert!(!table.added(&event(PortAction::Added, 2)));
        assert_eq!(table.end_resync(), vec![1]);
        assert_eq!(table.forwarded().len(), 1);
        assert_eq!(table.clear(), vec![2]);
    }
}
