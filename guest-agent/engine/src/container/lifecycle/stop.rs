//! Signals and waiting: `stop` (the stop signal, then SIGKILL to every process after the
//! timeout), `kill`, `pause`/`unpause` (the cgroup freezer) and `wait`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::sync::record_exit;
use super::{Ctx, LifecycleError, Result};
use crate::container::config::parse_signal;
use crate::container::record::{ContainerRecord, ContainerStatus, Status};
use crate::container::spec;
use crate::monitor::ExitRecord;

/// `stop` waits this long (seconds) for the stop signal to work when neither the request
/// nor the container says.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;
/// How long a SIGKILLed container may take to be reported gone.
const KILL_WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// Sleeps `poll`, then doubles it up to [`POLL`]: an exit that comes at once (a short
/// `run --rm`) is seen within a millisecond or two, a long wait costs little.
fn pause_and_back_off(poll: &mut Duration) {
    std::thread::sleep(*poll);
    *poll = (*poll * 2).min(POLL);
}

/// Who asks for a stop: it decides what the restart policies make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopBy {
    /// `docker stop`: no policy restarts the container while this engine runs, and
    /// `unless-stopped` keeps it stopped at the next daemon start too.
    User,
    /// The machine shutting down (the VM agent's power-down): as docker's daemon
    /// shutdown, no stop by the user, so `always` and `unless-stopped` containers start
    /// again at the next daemon start (`policy::starts_with_daemon`).
    Shutdown,
}

/// Stops a running (or paused) container; by the user, it is recorded as such, so no
/// restart policy brings it back. `timeout` (seconds) defaults to the container's
/// `stop_timeout`, else 10.
pub fn stop(
    ctx: &Ctx,
    record: &ContainerRecord,
    timeout: Option<u32>,
    by: StopBy,
) -> Result<ContainerStatus> {
    let id = &record.id;
    let by_user = by == StopBy::User;
    let mut status = ctx.containers.status(id)?;
    match status.status {
        Status::Running | Status::Paused => {}
        // Between two runs nothing runs: the stop only cancels the restart.
        Status::Restarting => {
            status.status = Status::Exited;
            status.stopped_by_user |= by_user;
            ctx.containers.set_status(id, &status)?;
            return Ok(status);
        }
        Status::Removing => return Err(busy(id)),
        Status::Created | Status::Exited | Status::Dead => {
            return Err(LifecycleError::AlreadyStopped(id.clone()))
        }
    }
    // Saved first: an engine killed during the stop must not restart the container later.
    // A shutdown's stop leaves the flag as it is (false: the container runs), and holds
    // the container's lock until the exit is recorded, so the supervisor never sees this
    // exit as one to restart after.
    if by_user {
        status.stopped_by_user = true;
        ctx.containers.set_status(id, &status)?;
    }
    let dir = ctx.containers.container_dir(id);
    let timeout = timeout
        .or(record.config.stop_timeout)
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    // A paused container is thawed once signalled, so that it can act on the signal.
    let thaw = status.status == Status::Paused;
    signal(ctx, id, stop_signal(ctx, record), false, thaw)?;
    let exit = match wait_for_exit(&dir, Duration::from_secs(timeout.into())) {
        Some(exit) => exit,
        None => {
            signal(ctx, id, libc::SIGKILL, true, thaw)?;
            wait_for_exit(&dir, KILL_WAIT).ok_or_else(|| LifecycleError::DidNotExit(id.clone()))?
        }
    };
    record_exit(ctx, id, status, &exit)
}

/// Sends `signal` (a name or number) to the container's init. The stop signal and SIGKILL
/// count as a stop by the user, as in docker: no restart policy undoes them.
pub fn kill(ctx: &Ctx, record: &ContainerRecord, signal_text: &str) -> Result<()> {
    let id = &record.id;
    let number = parse_signal(signal_text)?;
    let mut status = ctx.containers.status(id)?;
    if !matches!(status.status, Status::Running | Status::Paused) {
        return Err(LifecycleError::NotRunning(id.clone()));
    }
    if number == libc::SIGKILL || number == stop_signal(ctx, record) {
        status.stopped_by_user = true;
        ctx.containers.set_status(id, &status)?;
    }
    let thaw = status.status == Status::Paused && number == libc::SIGKILL;
    signal(ctx, id, number, false, thaw)
}

pub fn pause(ctx: &Ctx, id: &str) -> Result<()> {
    let mut status = ctx.containers.status(id)?;
    match status.status {
        Status::Running => {}
        Status::Paused => return Err(LifecycleError::Paused(id.to_string())),
        _ => return Err(LifecycleError::NotRunning(id.to_string())),
    }
    runtime(ctx, id)?.pause()?;
    status.status = Status::Paused;
    ctx.containers.set_status(id, &status)?;
    Ok(())
}

pub fn unpause(ctx: &Ctx, id: &str) -> Result<()> {
    let mut status = ctx.containers.status(id)?;
    if status.status != Status::Paused {
        return Err(LifecycleError::NotPaused(id.to_string()));
    }
    runtime(ctx, id)?.resume()?;
    status.status = Status::Running;
    ctx.containers.set_status(id, &status)?;
    Ok(())
}

/// Blocks until the container's current run ends and returns its exit code; at once for a
/// container that is not running. A container between two runs is waited for through its
/// next run.
pub fn wait(ctx: &Ctx, id: &str) -> Result<i32> {
    let dir = ctx.containers.container_dir(id);
    let mut poll = Duration::from_millis(1);
    loop {
        // Looked up each time: a container removed meanwhile is a NotFound, not a hang.
        ctx.containers.get(id)?;
        let status = ctx.containers.status(id)?;
        match status.status {
            Status::Running | Status::Paused => {
                if let Some(exit) = ExitRecord::load(&dir)? {
                    return Ok(exit.exit_code);
                }
            }
            Status::Restarting => {}
            _ => return Ok(status.exit_code),
        }
        pause_and_back_off(&mut poll);
    }
}

/// Polls for `exit.json` for up to `timeout`.
pub(super) fn wait_for_exit(dir: &Path, timeout: Duration) -> Option<ExitRecord> {
    let deadline = Instant::now() + timeout;
    let mut poll = Duration::from_millis(1);
    loop {
        if let Ok(Some(exit)) = ExitRecord::load(dir) {
            return Some(exit);
        }
        if Instant::now() >= deadline {
            return None;
        }
        pause_and_back_off(&mut poll);
    }
}

/// The image's or the container's StopSignal; SIGTERM when neither says or it cannot be
/// read any more (the image was removed).
fn stop_signal(ctx: &Ctx, record: &ContainerRecord) -> i32 {
    let merged = ctx
        .images
        .resolve(&record.image_id)
        .ok()
        .and_then(|image| ctx.images.config(&image).ok())
        .and_then(|image| spec::merge(&record.config, &image).ok());
    merged
        .and_then(|m| parse_signal(&m.stop_signal).ok())
        .unwrap_or(libc::SIGTERM)
}

/// Signals the init (or with `all` every process of the container). A container the
/// runtime no longer knows has just exited: its monitor is writing `exit.json`. With
/// `thaw`, a frozen container is thawed afterwards (the cgroup v1 freezer holds even a
/// SIGKILLed process).
fn signal(ctx: &Ctx, id: &str, number: i32, all: bool, thaw: bool) -> Result<()> {
    let Some(container) = ctx.runtime(id) else {
        return Ok(());
    };
    match container.kill(number, all) {
        Ok(()) => {}
        Err(berth_runtime::RuntimeError::WrongState { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if thaw {
        container.resume()?;
    }
    Ok(())
}

fn runtime(ctx: &Ctx, id: &str) -> Result<berth_runtime::Container> {
    ctx.runtime(id)
        .ok_or_else(|| LifecycleError::NotRunning(id.to_string()))
}

fn busy(id: &str) -> LifecycleError {
    LifecycleError::Busy {
        id: id.to_string(),
        status: "being removed",
    }
}
