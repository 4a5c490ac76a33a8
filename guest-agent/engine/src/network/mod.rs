//! Container networking: bridge networks, veth pairs, addresses, NAT, published ports and
//! the embedded DNS resolver. See docs/networking.md.
//!
//! A container on bridge networks gets a network namespace of its own, made by the engine
//! before the runtime starts it (`netns`), one veth pair per network with its end in the
//! namespace (`netlink`), an address from the network's persistent leases (`store`),
//! published ports reserved on the host and DNATed to it (`ports`, `firewall`), and on
//! user-defined networks a resolver that knows the other containers by name (`dns`). The
//! runtime joins that namespace (`NetworkNamespace::Join`), so networks can be connected
//! and disconnected while the container runs, and the namespace lives as long as the
//! engine says.

mod dns;
mod firewall;
mod host;
mod manager;
pub mod netlink;
mod netns;
pub mod ports;
mod registry;
mod store;
#[cfg(test)]
mod tests_root;
#[cfg(test)]
mod tests_root_udp;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::container::config::{ConfigError, ContainerConfig};
use crate::container::lifecycle::ErrorKind;
use crate::container::record::ContainerRecord;
use crate::container::spec::NetworkNamespace;
use crate::image::store::Store;

pub use manager::{
    Attachment, EventSink, Membership, NetworkCreate, NetworkView, Networks, MEMBERSHIP_FILE,
    STATE_FILE,
};
pub use store::NetworkRecord;

/// Removes the bridges and rules of engine roots that no longer exist (an engine opening
/// does this too). For tests and tools that delete a root.
pub fn sweep_stale_roots() {
    host::sweep_stale_roots();
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("network {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} is a pre-defined network and cannot be removed")]
    Predefined(String),
    /// A host port another program (or container) holds.
    #[error("{0}")]
    PortAllocated(String),
    #[error("Cannot {action}")]
    Host {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

impl NetworkError {
    /// What the API answers (a pre-defined network's removal is docker's 403, which the
    /// API layer checks with [`NetworkError::is_forbidden`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            NetworkError::NotFound(_) => ErrorKind::NotFound,
            NetworkError::Conflict(_) | NetworkError::PortAllocated(_) => ErrorKind::Conflict,
            NetworkError::Predefined(_) => ErrorKind::Conflict,
            NetworkError::Invalid(_) => ErrorKind::InvalidArgument,
            NetworkError::Host { .. } => ErrorKind::Internal,
        }
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self, NetworkError::Predefined(_))
    }
}

pub type Result<T, E = NetworkError> = std::result::Result<T, E>;

/// What the network module decided for a starting container: the namespace the runtime
/// joins and what its /etc files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSetup {
    pub namespace: NetworkNamespace,
    /// The container's own addresses (for /etc/hosts).
    pub addresses: Vec<IpAddr>,
    /// What `host-gateway` means: the gateway of its first network.
    pub host_gateway: Option<IpAddr>,
    /// The embedded resolver on user-defined networks; empty: the host's name servers.
    pub nameservers: Vec<IpAddr>,
}

impl From<NetworkNamespace> for NetworkSetup {
    fn from(namespace: NetworkNamespace) -> Self {
        NetworkSetup {
            namespace,
            addresses: Vec::new(),
            host_gateway: None,
            nameservers: Vec::new(),
        }
    }
}

/// Sets up the networking of the container about to start in `container_dir`, by the
/// engine that owns it. Without an engine (a bare lifecycle call), a private namespace.
pub fn attach(
    images: &Store,
    record: &ContainerRecord,
    container_dir: &Path,
) -> Result<NetworkSetup> {
    let Some(networks) = registry::lookup(container_dir) else {
        return Ok(NetworkNamespace::Private.into());
    };
    let exposed: BTreeSet<String> = if record.config.publish_all_ports {
        images
            .resolve(&record.image_id)
            .and_then(|image| images.config(&image))
            .ok()
            .and_then(|config| config.config().as_ref()?.exposed_ports().clone())
            .map(|ports| ports.into_iter().collect())
            .unwrap_or_default()
    } else {
        BTreeSet::new()
    };
    networks.attach(record, container_dir, &exposed)
}

/// Ends the networking of the container in `container_dir` (its run ended): ports, rules,
/// address leases, names, namespace.
pub fn release(container_dir: &Path) {
    let Some(id) = container_dir.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    match registry::lookup(container_dir) {
        Some(networks) => networks.detach(id),
        None => {
            // No engine to tell: at least the namespace (and with it the veths) goes.
            if let Ok(a) =
                crate::container::record::read_json::<Attachment>(&container_dir.join(STATE_FILE))
            {
                let _ = netns::remove(&a.netns);
                let _ = std::fs::remove_file(container_dir.join(STATE_FILE));
            }
        }
    }
}

/// Checks the published ports of a container config (called by `ContainerConfig::validate`).
pub fn validate_ports(config: &ContainerConfig) -> Result<(), ConfigError> {
    ports::validate(config)
}

/// A container's place on its networks while it runs: what `docker inspect` shows under
/// `NetworkSettings` and `docker ps` under `PORTS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNetwork {
    /// Network name -> the container's endpoint on it.
    pub networks: BTreeMap<String, Endpoint>,
    pub ports: Vec<PublishedPort>,
}

/// One container's attachment to one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network_id: String,
    pub endpoint_id: String,
    /// IPv4 address, without prefix.
    pub ip: String,
    pub prefix_len: u8,
    pub gateway: String,
    pub mac: String,
    pub aliases: Vec<String>,
}

/// A container port reachable on the engine's host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    pub host_ip: String,
    pub host_port: u16,
}
