//! The engine's network calls: networks (create, list, inspect, remove, prune), containers
//! on them (connect, disconnect), and what a running container's networking looks like.

use super::EngineError;
use super::{Engine, Inner};
use crate::container::config::EndpointConfig;
use crate::container::lifecycle;
use crate::container::record::ContainerRecord;
use crate::events::Event;
use crate::network::{
    ContainerNetwork, EventSink, NetworkCreate, NetworkError, NetworkRecord, NetworkView,
};

impl EventSink for Inner {
    fn publish(&self, event: Event) {
        self.events.publish(event);
    }
}

/// A network call's error: the network's own, or the container's (not found...).
#[derive(Debug, thiserror::Error)]
pub enum NetworkCallError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// Boxed: an engine error is large, and network calls fail rarely.
    #[error(transparent)]
    Container(Box<EngineError>),
}

impl From<EngineError> for NetworkCallError {
    fn from(e: EngineError) -> Self {
        NetworkCallError::Container(Box::new(e))
    }
}

impl NetworkCallError {
    pub fn kind(&self) -> lifecycle::ErrorKind {
        match self {
            NetworkCallError::Network(e) => e.kind(),
            NetworkCallError::Container(e) => e.kind(),
        }
    }

    /// Docker answers 403 to removing a pre-defined network.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, NetworkCallError::Network(e) if e.is_forbidden())
    }
}

type Result<T> = std::result::Result<T, NetworkCallError>;

impl Engine {
    /// The container's endpoints and published ports while it runs; `None` when it has
    /// none (not running, or `--network none`/`host`).
    pub fn container_network(&self, id: &str) -> Option<ContainerNetwork> {
        self.inner.network.container_network(id)
    }

    pub fn network_create(&self, request: NetworkCreate) -> Result<NetworkRecord> {
        Ok(self.inner.network.create(request)?)
    }

    pub fn network_list(&self) -> Vec<NetworkView> {
        self.inner.network.list()
    }

    /// By name, ID or unique ID prefix.
    pub fn network_inspect(&self, reference: &str) -> Result<NetworkView> {
        Ok(self.inner.network.inspect(reference)?)
    }

    pub fn network_remove(&self, reference: &str) -> Result<()> {
        Ok(self.inner.network.remove(reference)?)
    }

    /// Removes the unused user-defined networks `keep` does not keep; their names.
    pub fn network_prune(&self, keep: impl Fn(&NetworkRecord) -> bool) -> Vec<String> {
        self.inner.network.prune(keep)
    }

    /// Connects a container to a network: at once when it runs, at its next start anyway.
    pub fn network_connect(
        &self,
        network: &str,
        container: &str,
        endpoint: EndpointConfig,
    ) -> Result<()> {
        self.with_container(container, |inner, record, running| {
            let dir = inner.containers.container_dir(&record.id);
            inner
                .network
                .connect(record, &dir, network, endpoint, running)
        })
    }

    /// Disconnects a container from a network (at once when it runs).
    pub fn network_disconnect(&self, network: &str, container: &str, force: bool) -> Result<()> {
        self.with_container(container, |inner, record, _| {
            let dir = inner.containers.container_dir(&record.id);
            inner.network.disconnect(record, &dir, network, force)
        })
    }

    /// Removes every bridge and rule this engine put on the host (its records stay): for
    /// tests, and before an engine root is deleted.
    pub fn network_remove_host_state(&self) {
        self.inner.network.remove_host_state();
    }

    /// Runs `op` holding the container's lock, with whether it is running.
    fn with_container(
        &self,
        reference: &str,
        op: impl FnOnce(&Inner, &ContainerRecord, bool) -> crate::network::Result<()>,
    ) -> Result<()> {
        let mut outcome = Ok(());
        self.inner.locked(reference, |ctx, record| {
            let running = ctx
                .containers
                .status(&record.id)
                .is_ok_and(|s| lifecycle::is_active(s.status));
            outcome = op(&self.inner, record, running);
            Ok(())
        })?;
        Ok(outcome?)
    }
}
