//! `rm`: a stopped container (or, with force, any, killed first) loses its root mount,
//! runtime state, directory and, with `volumes`, its anonymous volumes.

use std::time::Duration;

use super::stop::wait_for_exit;
use super::sync::record_exit;
use super::{Ctx, LifecycleError, Result};
use crate::container::prepare::{anonymous_volume_names, release};
use crate::container::record::{ContainerRecord, Status};

const KILL_WAIT: Duration = Duration::from_secs(30);

pub fn remove(ctx: &Ctx, record: &ContainerRecord, force: bool, volumes: bool) -> Result<()> {
    let id = &record.id;
    let dir = ctx.containers.container_dir(id);
    let mut status = ctx.containers.status(id)?;
    let running = matches!(status.status, Status::Running | Status::Paused);
    if (running || status.status == Status::Restarting) && !force {
        return Err(LifecycleError::RemoveRunning(id.clone()));
    }
    if running {
        status.stopped_by_user = true;
        ctx.containers.set_status(id, &status)?;
        if let Some(container) = ctx.runtime(id) {
            let _ = container.kill(libc::SIGKILL, true);
            // The cgroup v1 freezer holds even a SIGKILLed process.
            if status.status == Status::Paused {
                let _ = container.resume();
            }
        }
        let exit =
            wait_for_exit(&dir, KILL_WAIT).ok_or_else(|| LifecycleError::DidNotExit(id.clone()))?;
        status = record_exit(ctx, id, status, &exit)?;
    }
    status.status = Status::Removing;
    ctx.containers.set_status(id, &status)?;
    // Leftovers of a monitor that died without cleaning up.
    if let Some(container) = ctx.runtime(id) {
        container.delete(true)?;
    }
    release(&dir)?;
    let anonymous = anonymous_volume_names(&dir);
    ctx.containers.remove(id)?;
    if volumes {
        for name in anonymous {
            // Anonymous volumes belong to this container alone.
            ctx.volumes.remove(&name, true, &|_| false)?;
        }
    }
    Ok(())
}
