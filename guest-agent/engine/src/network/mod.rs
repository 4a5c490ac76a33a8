//! Container networking: bridge networks, veth pairs, addresses, NAT, published ports and
//! the embedded DNS resolver. (Being built; see docs/networking.md.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
