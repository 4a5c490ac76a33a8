//! What a daemon does as it starts (docker's restore): start the stopped containers whose
//! restart policy says so. Not part of `Engine::open`: a one-shot `berth-agent` command
//! opens an engine too, and must not start a container the user stopped.

use super::Engine;
use crate::container::lifecycle::{self, LifecycleError};

impl Engine {
    /// Starts every exited or dead container that `lifecycle::starts_with_daemon` picks
    /// (`always`, `unless-stopped` not stopped by the user, `on-failure` after a failure),
    /// one after the other, before the caller serves the API: as with docker, a client
    /// that finds the daemon up finds these containers running. A start counts as a new
    /// run (restart count reset, as docker's restore does); one that fails is logged and
    /// the container stays as it was, with its error.
    pub fn start_by_policy(&self) {
        for record in self.inner.containers.list() {
            let result = self.inner.locked(&record.id, |ctx, record| {
                // Synced under the lock: a container found running is left alone.
                let status = ctx.containers.status(&record.id)?;
                if !lifecycle::starts_with_daemon(record.config.restart_policy, &status) {
                    return Ok(false);
                }
                self.check_binds(&record.config)?;
                lifecycle::start(ctx, record, true)?;
                self.inner.cancel_restart(&record.id);
                self.inner.publish(record, "start", &[]);
                Ok::<_, LifecycleError>(true)
            });
            match result {
                Ok(true) => tracing::info!("{}: started by its restart policy", record.name),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    "{}: not started by its restart policy: {}",
                    record.name,
                    lifecycle::chain(&e)
                ),
            }
        }
        self.inner.wake_supervisor();
    }
}
