//! Which engine's network state a container directory belongs to. The lifecycle releases a
//! container from places that know only its directory (`prepare::release`, called when a
//! run ends, from the supervisor, `sync` and `rm`); they find the engine's [`Networks`]
//! here, by the containers directory the engine opened. Weak references: a dropped engine
//! is simply not found.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::manager::Networks;

static ENGINES: Mutex<Vec<(PathBuf, Weak<Networks>)>> = Mutex::new(Vec::new());

pub fn register(containers_dir: &Path, networks: &Arc<Networks>) {
    let mut engines = ENGINES.lock().unwrap_or_else(PoisonError::into_inner);
    engines.retain(|(dir, weak)| weak.strong_count() > 0 && dir != containers_dir);
    engines.push((containers_dir.to_path_buf(), Arc::downgrade(networks)));
}

/// The network state of the engine that owns `container_dir`.
pub fn lookup(container_dir: &Path) -> Option<Arc<Networks>> {
    let parent = container_dir.parent()?;
    let engines = ENGINES.lock().unwrap_or_else(PoisonError::into_inner);
    engines
        .iter()
        .rev()
        .find(|(dir, _)| dir == parent)
        .and_then(|(_, weak)| weak.upgrade())
}
