//! Bringing a container's saved status in line with its monitor: at engine open
//! (reattach), from the engine's supervisor, and before every operation that depends on it.

use std::path::Path;

use super::{Ctx, MonitorIdentity, Result};
use crate::container::prepare::release;
use crate::container::record::{ContainerStatus, Status};
use crate::monitor::ExitRecord;

/// What `sync` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub status: ContainerStatus,
    /// The container was running and has just been found ended (exited, or dead): the
    /// caller applies its restart policy.
    pub ended: bool,
}

/// Running, paused or between two runs: a container `stop` has something to do for.
pub fn is_active(status: Status) -> bool {
    matches!(
        status,
        Status::Running | Status::Paused | Status::Restarting
    )
}

/// Checks the monitor of `id` and saves what it finds:
/// - a running or paused container whose monitor lives stays as it is;
/// - one whose monitor wrote `exit.json` becomes exited with that code and time;
/// - one whose monitor vanished without a word becomes dead, and what is left of it is
///   killed, so that nothing runs that no monitor watches;
/// - a container not recorded as running whose monitor lives (an engine killed between
///   spawning the monitor and saving the status) is adopted as running.
pub fn sync(ctx: &Ctx, id: &str) -> Result<Synced> {
    let mut status = ctx.containers.status(id)?;
    let dir = ctx.containers.container_dir(id);
    let monitor = MonitorIdentity::load(&dir);
    let unchanged = |status| {
        Ok(Synced {
            status,
            ended: false,
        })
    };
    if !matches!(status.status, Status::Running | Status::Paused) {
        return match monitor.filter(|m| m.alive() && status.status != Status::Removing) {
            Some(m) if !dir.join(crate::monitor::EXIT_FILE).exists() => {
                status.status = Status::Running;
                status.pid = m.container_pid;
                status.stopped_by_user = false;
                ctx.containers.set_status(id, &status)?;
                unchanged(status)
            }
            _ => unchanged(status),
        };
    }
    if let Some(exit) = ExitRecord::load(&dir)? {
        let status = record_exit(ctx, id, status, &exit)?;
        return Ok(Synced {
            status,
            ended: true,
        });
    }
    if monitor.is_some_and(|m| m.alive()) {
        return unchanged(status);
    }
    // The monitor may have written exit.json between the two checks above.
    if let Some(exit) = ExitRecord::load(&dir)? {
        let status = record_exit(ctx, id, status, &exit)?;
        return Ok(Synced {
            status,
            ended: true,
        });
    }
    if let Some(container) = ctx.runtime(id) {
        let _ = container.delete(true);
    }
    let _ = release(&dir);
    status.status = Status::Dead;
    status.pid = 0;
    status.finished_at = Some(super::now());
    status.error = "The container's monitor vanished; its processes were killed".into();
    ctx.containers.set_status(id, &status)?;
    Ok(Synced {
        status,
        ended: true,
    })
}

/// Saves `exit` as the end of the container's run and unmounts its root (the monitor
/// writes `exit.json` only after the runtime container, and so every process, is gone).
pub(super) fn record_exit(
    ctx: &Ctx,
    id: &str,
    mut status: ContainerStatus,
    exit: &ExitRecord,
) -> Result<ContainerStatus> {
    status.status = Status::Exited;
    status.pid = 0;
    status.exit_code = exit.exit_code;
    status.finished_at = Some(exit.finished_at.clone());
    status.oom_killed = exit.oom_killed.unwrap_or(false);
    if let Some(error) = &exit.error {
        status.error = error.clone();
    }
    unmount(ctx, id);
    ctx.containers.set_status(id, &status)?;
    Ok(status)
}

fn unmount(ctx: &Ctx, id: &str) {
    let dir = ctx.containers.container_dir(id);
    if let Err(e) = release(Path::new(&dir)) {
        tracing::warn!("{id}: {}", super::chain(&e));
    }
}
