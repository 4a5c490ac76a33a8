//! The engine's inner workings: per-container locks, reattaching at open, and the
//! supervisor that notices ended containers and restarts them by policy.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::OFlag;
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{EngineError, Inner, Result};
use crate::container::lifecycle::{self, Ctx, LifecycleError};
use crate::container::record::{ContainerRecord, ContainerStatus, Status};
use crate::container::store::StoreError;
use crate::events::Event;

/// The thread running [`Inner::reap`] every interval and whenever a container's monitor
/// exits (see `exit_watch`), stopped and joined on drop.
#[derive(Debug)]
pub(super) struct Supervisor {
    /// Closing it wakes the thread to end.
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    pub(super) fn start(inner: Arc<Inner>, interval: Duration) -> Result<Supervisor> {
        let pipe =
            || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| EngineError::Supervisor(e.into()));
        let (stopped, stop) = pipe()?;
        let (woken, wake) = pipe()?;
        nix::fcntl::fcntl(
            wake.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        )
        .map_err(|e| EngineError::Supervisor(e.into()))?;
        nix::fcntl::fcntl(
            woken.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        )
        .map_err(|e| EngineError::Supervisor(e.into()))?;
        let _ = inner.supervisor_wake.set(wake);
        let thread = std::thread::Builder::new()
            .name("berth-supervisor".into())
            .spawn(move || {
                // Ends when the engine closes its end of the pipe.
                while inner.wait_for_exit(&stopped, &woken, interval) {
                    inner.reap();
                }
            })
            .map_err(EngineError::Supervisor)?;
        Ok(Supervisor {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Inner {
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            images: &self.images,
            layers: &self.layers,
            volumes: &self.volumes,
            containers: &self.containers,
            runtime_root: &self.runtime_root,
            launch: &self.launch,
        }
    }

    fn lock_of(&self, id: &str) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(id.to_string()).or_default().clone()
    }

    /// Runs `op` on the container `reference` names, holding its lock, after bringing its
    /// status up to date.
    pub(super) fn locked<T>(
        &self,
        reference: &str,
        op: impl FnOnce(&Ctx, &ContainerRecord) -> lifecycle::Result<T>,
    ) -> Result<T> {
        let id = self
            .containers
            .get(reference)
            .map_err(LifecycleError::from)?
            .id;
        let lock = self.lock_of(&id);
        let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Removed (or renamed) while we waited for the lock: look it up again.
        let record = self.containers.get(&id).map_err(LifecycleError::from)?;
        let ctx = self.ctx();
        self.sync(&ctx, &record)?;
        Ok(op(&ctx, &record)?)
    }

    /// The container's status, synced unless another operation holds it (then as saved);
    /// `None` once it is removed.
    pub(super) fn refresh(&self, record: &ContainerRecord) -> Option<ContainerStatus> {
        let lock = self.lock_of(&record.id);
        let guard = match lock.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        self.containers.get(&record.id).ok()?;
        if guard.is_some() {
            if let Ok(status) = self.sync(&self.ctx(), record) {
                return Some(status);
            }
        }
        self.containers.status(&record.id).ok()
    }

    /// `lifecycle::sync`, then the restart policy of a container found ended.
    fn sync(&self, ctx: &Ctx, record: &ContainerRecord) -> lifecycle::Result<ContainerStatus> {
        let synced = lifecycle::sync(ctx, &record.id)?;
        let mut status = synced.status;
        if synced.ended {
            self.publish(record, "die", &[("exitCode", status.exit_code.to_string())]);
            if record.config.auto_remove {
                self.auto_remove(ctx, record)?;
                // The caller's operation has no container left to act on.
                return Err(LifecycleError::Store(StoreError::NotFound(
                    record.id.clone(),
                )));
            }
        }
        if synced.ended
            && status.status == Status::Exited
            && lifecycle::should_restart(record.config.restart_policy, &status)
        {
            status.status = Status::Restarting;
            ctx.containers.set_status(&record.id, &status)?;
            let due = Instant::now() + lifecycle::backoff(&status);
            self.due_map().insert(record.id.clone(), due);
        }
        Ok(status)
    }

    /// `--rm`: removes a container that ended, with its anonymous volumes (as docker
    /// does), and publishes `destroy`. The caller holds the container's lock.
    pub(super) fn auto_remove(&self, ctx: &Ctx, record: &ContainerRecord) -> lifecycle::Result<()> {
        self.cancel_restart(&record.id);
        lifecycle::remove(ctx, record, true, true)?;
        self.publish(record, "destroy", &[]);
        // Only the map entry goes: the lock itself lives on until the caller drops it, and
        // whoever looks the id up after that finds no container.
        self.forget(&record.id);
        Ok(())
    }

    /// At open: every container's status is synced with its monitor (running ones whose
    /// monitor lives stay running; the others become exited or dead and their policies
    /// apply), and removals a killed engine left half done are finished.
    pub(super) fn reattach(&self) {
        let ctx = self.ctx();
        for record in self.containers.list() {
            let removing = self
                .containers
                .status(&record.id)
                .is_ok_and(|s| s.status == Status::Removing);
            let result = match removing {
                true => lifecycle::remove(&ctx, &record, true, false),
                false => self.sync(&ctx, &record).map(drop),
            };
            if let Err(e) = result {
                self.warn_unless_removed(&record, &e);
            }
        }
    }

    /// Logs a failed background sync, unless the container is gone (auto-removed).
    fn warn_unless_removed(&self, record: &ContainerRecord, e: &LifecycleError) {
        if self.containers.get(&record.id).is_ok() {
            tracing::warn!("{}: {}", record.id, lifecycle::chain(e));
        }
    }

    /// One supervisor round; containers another operation holds are looked at next time.
    pub(super) fn reap(&self) {
        let ctx = self.ctx();
        for record in self.containers.list() {
            let lock = self.lock_of(&record.id);
            let _guard = match lock.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            if self.containers.get(&record.id).is_err() {
                continue;
            }
            let Ok(status) = self.containers.status(&record.id) else {
                continue;
            };
            let result = match status.status {
                Status::Running | Status::Paused => self.sync(&ctx, &record).map(drop),
                Status::Restarting if self.is_due(&record.id) => {
                    self.cancel_restart(&record.id);
                    lifecycle::start(&ctx, &record, false)
                        .map(|()| self.publish(&record, "start", &[]))
                }
                _ => Ok(()),
            };
            if let Err(e) = result {
                self.warn_unless_removed(&record, &e);
            }
        }
    }

    fn due_map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Instant>> {
        self.due.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_due(&self, id: &str) -> bool {
        !matches!(self.due_map().get(id), Some(due) if *due > Instant::now())
    }

    pub(super) fn cancel_restart(&self, id: &str) {
        self.due_map().remove(id);
    }

    /// A container event, with the attributes docker gives every one (name, image, labels).
    pub(super) fn publish(&self, record: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
        let mut event = Event::new("container", action, &record.id)
            .with("name", &record.name)
            .with("image", &record.config.image);
        for (key, value) in &record.config.labels {
            event = event.with(key, value);
        }
        for (key, value) in extra {
            event = event.with(key, value.clone());
        }
        self.events.publish(event);
    }

    /// `die` and `stop`, as docker reports a stop.
    pub(super) fn publish_stopped(&self, record: &ContainerRecord, status: &ContainerStatus) {
        self.publish(record, "die", &[("exitCode", status.exit_code.to_string())]);
        self.publish(record, "stop", &[]);
    }

    /// Drops what the engine kept in memory about a removed container.
    pub(super) fn forget(&self, id: &str) {
        self.cancel_restart(id);
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.remove(id);
    }
}
