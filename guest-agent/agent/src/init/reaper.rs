//! The one place that calls `waitpid(-1)`.
//!
//! As PID 1 the agent inherits every orphan in the VM (container monitors whose engine
//! died, daemonised helpers), and a zombie nobody reaps keeps its pid forever. But the
//! agent's own children (the engine, exec sessions) need their exit statuses, so a blanket
//! reaper would steal them. [`Children`] reaps everything and hands the statuses of the
//! children it spawned to whoever is waiting for them; orphans are reaped silently.

use std::collections::HashMap;
use std::io;
use std::process::Command;
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use tokio::sync::oneshot;

/// How a child ended, as the control protocol reports it.
pub fn exit_status(status: WaitStatus) -> berth_protocol::ExitStatus {
    match status {
        WaitStatus::Exited(_, code) => berth_protocol::ExitStatus { code, signal: None },
        WaitStatus::Signaled(_, signal, _) => berth_protocol::ExitStatus {
            code: 128 + signal as i32,
            signal: Some(signal as i32),
        },
        // Without WUNTRACED/WCONTINUED no other status is reported; keep a shell's answer.
        _ => berth_protocol::ExitStatus {
            code: 255,
            signal: None,
        },
    }
}

/// The children this process waits for, by pid.
#[derive(Debug, Default)]
pub struct Children {
    waiters: Mutex<HashMap<i32, oneshot::Sender<WaitStatus>>>,
}

impl Children {
    pub fn new() -> Arc<Children> {
        Arc::new(Children::default())
    }

    /// Spawns `command` and returns its pid and its exit status to come.
    ///
    /// The lock is held across the spawn, and [`Children::reap`] only waits under it, so a
    /// child that exits at once is still registered before anyone can reap it (and std's
    /// own `waitpid` after a failed exec never races the reaper).
    pub fn spawn(&self, command: &mut Command) -> io::Result<(u32, oneshot::Receiver<WaitStatus>)> {
        let mut waiters = self.lock();
        let child = command.spawn()?;
        let pid = child.id();
        // Dropping a std Child neither kills nor waits: the status comes from `reap`.
        drop(child);
        let (tx, rx) = oneshot::channel();
        waiters.insert(pid as i32, tx);
        Ok((pid, rx))
    }

    /// Reaps every child that has exited; statuses go to their waiters.
    pub fn reap(&self) {
        let mut waiters = self.lock();
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Err(Errno::EINTR) => continue,
                Err(error) => {
                    tracing::warn!(%error, "waitpid failed");
                    return;
                }
                Ok(status) => {
                    let Some(pid) = status.pid() else { continue };
                    match waiters.remove(&pid.as_raw()) {
                        // The waiter may have gone (a dropped exec session): nothing to do.
                        Some(tx) => drop(tx.send(status)),
                        None => tracing::debug!(pid = pid.as_raw(), "reaped an orphan"),
                    }
                }
            }
        }
    }

    /// Reaps on every SIGCHLD, forever. Signals coalesce, so each wake drains them all.
    pub async fn run(self: Arc<Self>) {
        use tokio::signal::unix::{signal, SignalKind};
        let mut sigchld = match signal(SignalKind::child()) {
            Ok(s) => Some(s),
            Err(error) => {
                tracing::error!(%error, "cannot watch SIGCHLD; reaping every second instead");
                None
            }
        };
        loop {
            self.reap();
            match sigchld.as_mut() {
                Some(s) => {
                    // A periodic pass too: cheap insurance against a missed wake-up.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.recv()).await;
                }
                None => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, oneshot::Sender<WaitStatus>>> {
        // A panic while holding this lock leaves the map consistent (inserts and removes
        // are single operations), so a poisoned lock is still usable.
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }
}
