//! The engine facade the Docker API server and `berth-agent` call: every store opened on
//! one root, containers reattached at open, one lock per container so two operations on
//! the same container never interleave, and a supervisor that applies restart policies.
//!
//! Calls block and take `&self`; an `Engine` is shared between threads as is.
//!
//! Restart policies: `open` starts a supervisor thread that looks at every container each
//! `supervise` interval (200 ms by default): a container whose monitor wrote `exit.json`
//! is recorded as exited and, when its policy says so, restarted after docker's back-off
//! (see `container::lifecycle::policy`). With `supervise: None` no thread runs and the
//! caller calls [`Engine::reap`] instead (tests that want every step in their hands).
//! Every operation on a container also syncs it first, so nothing waits for a tick to see
//! that a container ended.

mod attach;
mod attach_socket;
mod autostart;
pub mod build;
mod console;
mod copy;
mod error;
mod exec;
mod exec_live;
mod exec_tty;
mod exit_watch;
mod images;
mod network;
mod stats;
mod supervisor;
#[cfg(test)]
mod tests_attach;
#[cfg(test)]
mod tests_fixture;
#[cfg(test)]
mod tests_root;
#[cfg(test)]
mod tests_root_autoremove;
#[cfg(test)]
mod tests_root_autostart;
#[cfg(test)]
mod tests_root_gc;
#[cfg(test)]
mod tests_root_leaks;
#[cfg(test)]
mod tests_root_reattach;
#[cfg(test)]
mod tests_root_restart;
mod top;
mod usage;
mod volumes;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::container::config::ContainerConfig;
use crate::container::lifecycle;
use crate::container::record::{ContainerRecord, ContainerStatus, Status};
use crate::container::store::ContainerStore;
use crate::events::EventBus;
use crate::image::layers::LayerStore;
use crate::image::store::{Store, DEFAULT_ROOT};
use crate::logs::{self, Entry, ReadOptions, ReadStats};
use crate::monitor::{Launch, EXIT_FILE};
use crate::volume::VolumeStore;

pub use attach::{
    parse_detach_keys, AttachEnd, AttachError, AttachOptions, Demux, DetachWatch,
    DEFAULT_DETACH_KEYS,
};
pub use console::ConsoleError;
pub use copy::CopyError;
pub use error::{EngineError, Result};
pub use exec::{ExecConfig, ExecError, ExecStdio};
pub use exec_tty::{set_window_size, RawTerminal};
pub use images::{ImageDeleted, ImageRemoveError, ImagesPruned};
pub use lifecycle::{ErrorKind, StopBy};
pub use network::NetworkCallError;
pub use stats::{Stats, StatsError};
use supervisor::Supervisor;
pub use top::{Top, TopError};
pub use usage::{ImagePart, UsageError};
pub use volumes::VolumeRemoveError;

/// berth-runtime's state root when none is given: tmpfs, gone with the machine, as the
/// containers are.
pub const DEFAULT_RUNTIME_ROOT: &str = "/run/berth/runtime";
/// How often the supervisor looks for ended containers.
pub const DEFAULT_SUPERVISE_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Images, layers, volumes and containers (`/var/lib/berth`).
    pub root: PathBuf,
    pub runtime_root: PathBuf,
    /// How monitors run: `berth-agent` execs itself (`Launch::Exec`); tests fork.
    pub monitor_launch: Launch,
    /// The supervisor's interval; `None`: no supervisor thread, call [`Engine::reap`].
    pub supervise: Option<Duration>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            root: PathBuf::from(DEFAULT_ROOT),
            runtime_root: PathBuf::from(DEFAULT_RUNTIME_ROOT),
            monitor_launch: Launch::InProcess,
            supervise: Some(DEFAULT_SUPERVISE_INTERVAL),
        }
    }
}

#[derive(Debug)]
pub struct Engine {
    inner: Arc<Inner>,
    // Dropped (and joined) with the engine.
    _supervisor: Option<Supervisor>,
}

#[derive(Debug)]
struct Inner {
    images: Store,
    layers: LayerStore,
    volumes: VolumeStore,
    containers: ContainerStore,
    runtime_root: PathBuf,
    launch: Launch,
    events: EventBus,
    /// Write end of the supervisor's wake-up pipe (set when a supervisor runs): a started
    /// container's monitor joins the set of pidfds it waits on at once.
    supervisor_wake: std::sync::OnceLock<std::os::fd::OwnedFd>,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// When each container waiting to be restarted is due; one missing is due at once
    /// (an engine that restarted forgot its back-off).
    due: Mutex<HashMap<String, Instant>>,
    /// Networks, addresses, published ports (crate::network; the network engineer's field).
    network: Arc<crate::network::Networks>,
    /// In the VM: the folders bind mounts may come from ([`Engine::restrict_binds`]).
    shared_paths: std::sync::OnceLock<crate::container::config::SharedPaths>,
}

impl Engine {
    /// Opens every store under `root` and reattaches to the containers left running: see
    /// `lifecycle::sync` for what each saved status becomes.
    pub fn open(options: EngineOptions) -> Result<Engine> {
        let root = &options.root;
        let inner = Arc::new(Inner {
            images: Store::open(root).map_err(lifecycle::LifecycleError::from)?,
            layers: LayerStore::open(root)?,
            volumes: VolumeStore::open(root).map_err(lifecycle::LifecycleError::from)?,
            containers: ContainerStore::open(root).map_err(lifecycle::LifecycleError::from)?,
            // Before runtime_root moves: the namespaces live next to the runtime's state.
            network: crate::network::Networks::open(root, &options.runtime_root),
            runtime_root: options.runtime_root,
            launch: options.monitor_launch,
            events: EventBus::default(),
            supervisor_wake: std::sync::OnceLock::new(),
            locks: Mutex::default(),
            due: Mutex::default(),
            shared_paths: std::sync::OnceLock::new(),
        });
        // Network events go to the engine's bus; ports of running containers are
        // reserved again once reattach has settled which containers still run.
        let sink: std::sync::Weak<Inner> = Arc::downgrade(&inner);
        inner.network.set_sink(sink);
        inner.reattach();
        inner.network.resume();
        let supervisor = match options.supervise {
            Some(interval) => Some(Supervisor::start(inner.clone(), interval)?),
            None => None,
        };
        Ok(Engine {
            inner,
            _supervisor: supervisor,
        })
    }

    pub fn images(&self) -> &Store {
        &self.inner.images
    }

    pub fn layers(&self) -> &LayerStore {
        &self.inner.layers
    }

    pub fn volumes(&self) -> &VolumeStore {
        &self.inner.volumes
    }

    /// Where the engine's events go (containers publish their own; the API layer adds
    /// image, volume and network ones).
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// From now on, refuses bind mounts from outside `policy`'s folders (at create and at
    /// start): the VM's engine, where only shared host folders are the user's. Set once.
    pub fn restrict_binds(&self, policy: crate::container::config::SharedPaths) {
        let _ = self.inner.shared_paths.set(policy);
    }

    fn check_binds(&self, config: &ContainerConfig) -> lifecycle::Result<()> {
        match self.inner.shared_paths.get() {
            Some(policy) => Ok(policy.check(config)?),
            None => Ok(()),
        }
    }

    pub fn create(&self, name: Option<&str>, config: ContainerConfig) -> Result<ContainerRecord> {
        self.check_binds(&config)?;
        let record = lifecycle::create(&self.inner.ctx(), name, config)?;
        self.inner.publish(&record, "create", &[]);
        Ok(record)
    }

    pub fn start(&self, reference: &str) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            self.check_binds(&record.config)?;
            if let Err(e) = lifecycle::start(ctx, record, true) {
                // A `--rm` container that cannot start goes, as in docker: the client
                // waiting for its removal (`docker run --rm`) gets its answer.
                if record.config.auto_remove {
                    if let Err(removal) = self.inner.auto_remove(ctx, record) {
                        tracing::warn!("{}: {}", record.id, lifecycle::chain(&removal));
                    }
                }
                return Err(e);
            }
            self.inner.cancel_restart(&record.id);
            self.inner.wake_supervisor();
            self.inner.publish(record, "start", &[]);
            Ok(())
        })
    }

    /// The stop signal, then SIGKILL after `timeout` seconds (default: the container's
    /// stop timeout, else 10): `docker stop`, a stop by the user.
    pub fn stop(&self, reference: &str, timeout: Option<u32>) -> Result<()> {
        self.stop_by(reference, timeout, StopBy::User)
    }

    /// [`Engine::stop`] for `by`: the VM's power-down stops with [`StopBy::Shutdown`], so
    /// that restart policies bring the container back at the next boot.
    pub fn stop_by(&self, reference: &str, timeout: Option<u32>, by: StopBy) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            self.inner.cancel_restart(&record.id);
            let status = lifecycle::stop(ctx, record, timeout, by)?;
            self.inner.publish_stopped(record, &status);
            // The stop recorded the exit itself, so `sync` will not see it end: `--rm`
            // applies here.
            if record.config.auto_remove {
                self.inner.auto_remove(ctx, record)?;
            }
            Ok(())
        })
    }

    pub fn kill(&self, reference: &str, signal: &str) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            lifecycle::kill(ctx, record, signal)?;
            self.inner
                .publish(record, "kill", &[("signal", signal.to_string())]);
            Ok(())
        })
    }

    /// Stop (if running), then start.
    pub fn restart(&self, reference: &str, timeout: Option<u32>) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            self.inner.cancel_restart(&record.id);
            match lifecycle::stop(ctx, record, timeout, StopBy::User) {
                Ok(status) => self.inner.publish_stopped(record, &status),
                Err(lifecycle::LifecycleError::AlreadyStopped(_)) => {}
                Err(e) => return Err(e),
            }
            lifecycle::start(ctx, record, true)?;
            self.inner.wake_supervisor();
            self.inner.publish(record, "restart", &[]);
            Ok(())
        })
    }

    pub fn pause(&self, reference: &str) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            lifecycle::pause(ctx, &record.id)?;
            self.inner.publish(record, "pause", &[]);
            Ok(())
        })
    }

    pub fn unpause(&self, reference: &str) -> Result<()> {
        self.inner.locked(reference, |ctx, record| {
            lifecycle::unpause(ctx, &record.id)?;
            self.inner.publish(record, "unpause", &[]);
            Ok(())
        })
    }

    /// Blocks until the container's current run ends; its exit code. Takes no lock: a
    /// stop or remove of the same container goes on meanwhile.
    pub fn wait(&self, reference: &str) -> Result<i32> {
        let record = self
            .inner
            .containers
            .get(reference)
            .map_err(lifecycle::LifecycleError::from)?;
        let code = lifecycle::wait(&self.inner.ctx(), &record.id)?;
        self.inner.refresh(&record);
        Ok(code)
    }

    /// Removes a container; a running one only with `force` (killed first). `volumes` also
    /// removes its anonymous volumes.
    pub fn remove(&self, reference: &str, force: bool, volumes: bool) -> Result<()> {
        let id = self.inner.locked(reference, |ctx, record| {
            self.inner.cancel_restart(&record.id);
            let was_running = ctx
                .containers
                .status(&record.id)
                .is_ok_and(|s| lifecycle::is_active(s.status));
            lifecycle::remove(ctx, record, force, volumes)?;
            if was_running {
                self.inner
                    .publish(record, "die", &[("exitCode", "137".into())]);
            }
            self.inner.publish(record, "destroy", &[]);
            Ok(record.id.clone())
        })?;
        self.inner.forget(&id);
        Ok(())
    }

    pub fn rename(&self, reference: &str, new_name: &str) -> Result<ContainerRecord> {
        let old = self
            .inner
            .containers
            .get(reference)
            .map_err(lifecycle::LifecycleError::from)?;
        let record = self
            .inner
            .containers
            .rename(reference, new_name)
            .map_err(lifecycle::LifecycleError::from)?;
        self.inner
            .publish(&record, "rename", &[("oldName", format!("/{}", old.name))]);
        Ok(record)
    }

    /// Containers with their status; only running, paused and restarting ones unless `all`.
    pub fn list(&self, all: bool) -> Vec<(ContainerRecord, ContainerStatus)> {
        self.inner
            .containers
            .list()
            .into_iter()
            .filter_map(|record| {
                let status = self.inner.refresh(&record)?;
                (all || lifecycle::is_active(status.status)).then_some((record, status))
            })
            .collect()
    }

    pub fn inspect(&self, reference: &str) -> Result<(ContainerRecord, ContainerStatus)> {
        let record = self
            .inner
            .containers
            .get(reference)
            .map_err(lifecycle::LifecycleError::from)?;
        match self.inner.refresh(&record) {
            Some(status) => Ok((record, status)),
            None => Err(lifecycle::LifecycleError::from(
                crate::container::store::StoreError::NotFound(reference.to_string()),
            )
            .into()),
        }
    }

    /// The container's log; with `follow`, until the container is no longer running.
    pub fn logs(
        &self,
        reference: &str,
        options: &ReadOptions,
        on_entry: impl FnMut(Entry) -> ControlFlow<()>,
    ) -> Result<ReadStats> {
        let record = self
            .inner
            .containers
            .get(reference)
            .map_err(lifecycle::LifecycleError::from)?;
        let dir = self.inner.containers.container_dir(&record.id);
        let stopped = || {
            let status = self.inner.containers.status(&record.id);
            !matches!(status, Ok(s) if matches!(s.status, Status::Running | Status::Paused))
                || dir.join(EXIT_FILE).exists()
        };
        let path = logs::log_path(&dir, &record.id);
        Ok(logs::read(&path, options, stopped, on_entry)
            .map_err(lifecycle::LifecycleError::from)?)
    }

    /// One round of the supervisor: records containers that ended, applies their restart
    /// policies, restarts those whose back-off is over. The supervisor thread calls it;
    /// without one, the caller does.
    pub fn reap(&self) {
        self.inner.reap();
    }
}
