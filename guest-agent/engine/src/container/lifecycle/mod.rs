//! A container's lifecycle on top of the stores and the monitor: create, start, stop,
//! kill, pause, wait, remove, and bringing a saved status in line with what its monitor
//! did while nobody watched (`sync`). These functions do no locking; the engine
//! (`crate::engine`) serialises the operations on one container.
//!
//! The truth about a started container is its monitor's: `exit.json` appears (last,
//! atomically) when the container is gone. The engine's `state.json` follows it, so an
//! engine killed at any moment loses nothing: the next `sync` reads what the monitor wrote.
//! To recognise its monitor after a restart, the engine saves `monitor.json` (pid and
//! /proc start time) next to the monitor's own files: a pid alone could have been reused.

mod create;
mod error;
mod identity;
mod policy;
mod remove;
mod start;
mod stop;
mod sync;

use std::path::Path;

use crate::container::store::ContainerStore;
use crate::image::layers::LayerStore;
use crate::image::store::Store;
use crate::monitor::Launch;
use crate::volume::VolumeStore;

pub use create::create;
pub use error::{chain, ErrorKind, LifecycleError, Result};
pub use identity::MonitorIdentity;
pub use policy::{backoff, should_restart, starts_with_daemon};
pub use remove::remove;
pub use start::start;
pub use stop::{kill, pause, stop, unpause, wait, StopBy};
pub use sync::{is_active, sync, Synced};

/// Everything a lifecycle operation works with.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub images: &'a Store,
    pub layers: &'a LayerStore,
    pub volumes: &'a VolumeStore,
    pub containers: &'a ContainerStore,
    /// berth-runtime's state root.
    pub runtime_root: &'a Path,
    pub launch: &'a Launch,
}

impl Ctx<'_> {
    fn parts(&self) -> crate::container::prepare::Parts<'_> {
        crate::container::prepare::Parts {
            images: self.images,
            layers: self.layers,
            volumes: self.volumes,
        }
    }

    /// The container's runtime state, if the runtime still has one.
    fn runtime(&self, id: &str) -> Option<berth_runtime::Container> {
        berth_runtime::Container::load(self.runtime_root, id).ok()
    }
}

fn now() -> String {
    crate::logs::format_rfc3339_nano(std::time::SystemTime::now())
}
