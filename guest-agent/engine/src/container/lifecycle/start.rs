//! `start`: prepare the bundle, spawn the monitor, record the container as running. A
//! failure at any step leaves the container as it was (created or exited) with `error` set:
//! the root is unmounted again and no process is left behind.

use std::sync::Mutex;

use super::{chain, now, Ctx, LifecycleError, MonitorIdentity, Result};
use crate::container::prepare::{prepare, release};
use crate::container::record::{ContainerRecord, Status};
use crate::logs::WriterOptions;
use crate::monitor::{self, MonitorConfig, Started};

/// One monitor fork at a time in this process. A monitor forked without exec
/// (`Launch::InProcess`) keeps every descriptor open at that moment; were another spawn's
/// report pipe among them, that spawn would wait for EOF until the other container ended.
static SPAWN: Mutex<()> = Mutex::new(());

/// Starts `record`'s container. `reset` (a start asked for by a user) clears the restart
/// count and the user's stop; a restart by policy counts one more restart instead.
pub fn start(ctx: &Ctx, record: &ContainerRecord, reset: bool) -> Result<()> {
    let id = &record.id;
    let mut status = ctx.containers.status(id)?;
    match status.status {
        Status::Running => return Err(LifecycleError::AlreadyStarted(id.clone())),
        Status::Paused => return Err(LifecycleError::Paused(id.clone())),
        Status::Removing => {
            return Err(LifecycleError::Busy {
                id: id.clone(),
                status: "being removed",
            })
        }
        Status::Created | Status::Exited | Status::Dead | Status::Restarting => {}
    }
    let dir = ctx.containers.container_dir(id);
    // What a monitor that died without cleaning up left (a Dead container): the runtime
    // would refuse to create the id again.
    if let Some(stale) = ctx.runtime(id) {
        let _ = stale.delete(true);
    }
    MonitorIdentity::clear(&dir);
    let started = launch(ctx, record).and_then(|started| {
        // Saved before the status: an engine killed in between finds this monitor alive at
        // its next open and adopts the container (see `sync`).
        let identity = MonitorIdentity::of(&started);
        identity
            .save(&dir)
            .map_err(|source| kill_unrecorded(ctx, id, source))?;
        Ok(started)
    });
    let started = match started {
        Ok(started) => started,
        Err(e) => {
            let _ = release(&dir);
            if status.status == Status::Restarting {
                status.status = Status::Exited;
            }
            status.error = chain(&e);
            status.pid = 0;
            ctx.containers.set_status(id, &status)?;
            return Err(e);
        }
    };
    status.status = Status::Running;
    status.pid = started.container_pid;
    status.started_at = Some(now());
    status.exit_code = 0;
    status.error.clear();
    status.oom_killed = false;
    status.stopped_by_user = false;
    status.restart_count = if reset { 0 } else { status.restart_count + 1 };
    if let Err(e) = ctx.containers.set_status(id, &status) {
        // A container the engine could not record as running must not run.
        let _ = kill_unrecorded(ctx, id, std::io::Error::other("status not saved"));
        let _ = release(&dir);
        return Err(e.into());
    }
    Ok(())
}

fn launch(ctx: &Ctx, record: &ContainerRecord) -> Result<Started> {
    let dir = ctx.containers.container_dir(&record.id);
    // Networking first (crate::network): the namespace the runtime joins, its interfaces,
    // addresses and published ports; `release` takes it back if anything below fails.
    let network = crate::network::attach(ctx.images, record, &dir)
        .map_err(crate::container::prepare::PrepareError::from)?;
    let prepared = prepare(ctx.parts(), record, &dir, network)?;
    let cfg = MonitorConfig {
        id: record.id.clone(),
        container_dir: dir,
        bundle: prepared.bundle,
        runtime_root: ctx.runtime_root.to_path_buf(),
        tty: record.config.tty,
        stdin: record.config.open_stdin,
        stdin_once: record.config.stdin_once,
        log: WriterOptions::default(),
    };
    let _one_fork = SPAWN.lock().unwrap_or_else(|p| p.into_inner());
    Ok(monitor::spawn(&cfg, ctx.launch)?)
}

/// Kills a container whose start could not be recorded, and waits for its monitor to
/// finish, so the failed start leaves nothing running.
fn kill_unrecorded(ctx: &Ctx, id: &str, source: std::io::Error) -> LifecycleError {
    if let Some(container) = ctx.runtime(id) {
        let _ = container.kill(libc::SIGKILL, true);
    }
    let dir = ctx.containers.container_dir(id);
    super::stop::wait_for_exit(&dir, std::time::Duration::from_secs(10));
    LifecycleError::Store(crate::container::store::StoreError::Io {
        action: "record the start of",
        id: id.to_string(),
        source,
    })
}
