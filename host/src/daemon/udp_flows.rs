//! The flows of one published UDP port: which client addresses have a vsock connection to
//! the agent open, and which to give up when the table is full. Pure (generic over the
//! flow's handle, with the clock passed in where it matters) so the rules are unit-tested
//! without sockets; [`super::udp`] does the I/O.
//!
//! UDP has no connections, so a flow is a client address (docker-proxy keeps one socket per
//! client address the same way). Rules: a flow idle for [`IDLE`] in both directions ends
//! (docker-proxy: 90 s; conntrack's default for UDP streams: 120 s); at most [`MAX_FLOWS`]
//! are kept, and a new client beyond that takes the place of the one idle the longest, so a
//! burst of clients (or spoofed addresses) costs a bounded number of vsock connections and
//! never locks new clients out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A flow with no datagram either way for this long ends.
pub const IDLE: Duration = Duration::from_secs(60);
/// Flows kept per published port.
pub const MAX_FLOWS: usize = 1024;

/// When a flow last carried a datagram, either way; shared by the table (which reads it to
/// evict) and the flow's task (which touches it for replies and expires on it).
#[derive(Debug, Clone)]
pub struct Activity {
    base: Instant,
    /// Milliseconds after `base`.
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub fn new(now: Instant) -> Activity {
        Activity {
            base: now,
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn touch(&self) {
        self.touch_at(Instant::now());
    }

    pub fn touch_at(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.base).as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    pub fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// How long the flow has been quiet.
    pub fn idle_at(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last())
    }
}

#[derive(Debug)]
struct Entry<H> {
    /// Tells this flow from a later one of the same client (an ended flow's late report
    /// must not remove its successor).
    id: u64,
    handle: H,
    activity: Activity,
}

#[derive(Debug)]
pub struct FlowTable<H> {
    flows: HashMap<SocketAddr, Entry<H>>,
    max: usize,
}

impl<H> FlowTable<H> {
    pub fn new(max: usize) -> FlowTable<H> {
        FlowTable {
            flows: HashMap::new(),
            max: max.max(1),
        }
    }

    pub fn get(&self, peer: &SocketAddr) -> Option<&H> {
        self.flows.get(peer).map(|e| &e.handle)
    }

    pub fn activity(&self, peer: &SocketAddr) -> Option<&Activity> {
        self.flows.get(peer).map(|e| &e.activity)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Adds a flow for `peer` (replacing one it had); when the table is full, the flow idle
    /// the longest makes room. Returns the handles to drop (the replaced or evicted flow).
    pub fn insert(&mut self, peer: SocketAddr, id: u64, handle: H, activity: Activity) -> Vec<H> {
        let mut gone = Vec::new();
        if let Some(old) = self.flows.remove(&peer) {
            gone.push(old.handle);
        }
        if self.flows.len() >= self.max {
            let idlest = self
                .flows
                .iter()
                .min_by_key(|(_, e)| e.activity.last())
                .map(|(peer, _)| *peer);
            if let Some(entry) = idlest.and_then(|p| self.flows.remove(&p)) {
                gone.push(entry.handle);
            }
        }
        self.flows.insert(
            peer,
            Entry {
                id,
                handle,
                activity,
            },
        );
        gone
    }

    /// The flow `id` of `peer` ended by itself; its handle, if it is still the current one.
    pub fn ended(&mut self, peer: &SocketAddr, id: u64) -> Option<H> {
        match self.flows.get(peer) {
            Some(entry) if entry.id == id => self.flows.remove(peer).map(|e| e.handle),
            _ => None,
        }
    }

    /// Forgets `peer`'s flow, whichever it is (its task is gone).
    pub fn remove(&mut self, peer: &SocketAddr) -> Option<H> {
        self.flows.remove(peer).map(|e| e.handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn activity_counts_both_directions_and_never_goes_back() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        assert_eq!(
            a.idle_at(t0 + Duration::from_secs(61)),
            Duration::from_secs(61)
        );
        a.clone().touch_at(t0 + Duration::from_secs(30));
        a.touch_at(t0 + Duration::from_secs(10));
        assert_eq!(
            a.idle_at(t0 + Duration::from_secs(61)),
            Duration::from_secs(31)
        );
        assert!(a.idle_at(t0 + Duration::from_secs(90)) >= IDLE);
    }

    #[test]
    fn a_full_table_evicts_the_flow_idle_the_longest() {
        let t0 = Instant::now();
        let mut table = FlowTable::new(3);
        for (i, quiet_since) in [(1u16, 20u64), (2, 5), (3, 30)] {
            let activity = Activity::new(t0);
            activity.touch_at(t0 + Duration::from_secs(quiet_since));
            assert!(table.insert(peer(i), i.into(), i, activity).is_empty());
        }
        // Client 2 has been quiet the longest: the fourth client takes its place.
        let gone = table.insert(peer(4), 4, 4, Activity::new(t0 + Duration::from_secs(40)));
        assert_eq!(gone, vec![2]);
        assert_eq!(table.len(), 3);
        assert!(table.get(&peer(2)).is_none());
        assert_eq!(table.get(&peer(4)), Some(&4));
    }

    #[test]
    fn a_late_end_report_spares_the_clients_next_flow() {
        let t0 = Instant::now();
        let mut table = FlowTable::new(MAX_FLOWS);
        table.insert(peer(1), 1, "first", Activity::new(t0));
        assert_eq!(
            table.insert(peer(1), 2, "second", Activity::new(t0)),
            vec!["first"]
        );
        assert_eq!(table.ended(&peer(1), 1), None);
        assert_eq!(table.get(&peer(1)), Some(&"second"));
        assert_eq!(table.ended(&peer(1), 2), Some("second"));
        assert_eq!(table.len(), 0);
    }
}
