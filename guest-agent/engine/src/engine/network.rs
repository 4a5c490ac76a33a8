//! The engine's network calls.

use super::Engine;
use crate::network::ContainerNetwork;

impl Engine {
    /// The container's endpoints and published ports while it runs; `None` when it has
    /// none (not running, or `--network none`/`host` without ports).
    pub fn container_network(&self, _id: &str) -> Option<ContainerNetwork> {
        None
    }
}
