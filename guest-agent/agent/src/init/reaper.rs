//! The one place that calls `waitpid(-1)`.
//!
//! As PID 1 the agent inherits every orphan in the VM (container monitors whose engine
//! died, daemonised helpers), and a zombie nobody reaps keeps its pid forever. But the
//! agent's own children (the engine, exec sessions) need their exit statuses, so a blanket
//! reaper would steal them. [`Children`] reaps everything and hands the statuses of the
//! children it spawned to whoever is waiting for them; orphans are reaped silently.

use std::collections::HashMap;
use std::io::{self, Read};
use std::process::{Command, Stdio};
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
        let (child, status) = self.spawn_child(command)?;
        // Dropping a std Child neither kills nor waits: the status comes from `reap`.
        Ok((child.id(), status))
    }

    /// Runs `command` to its end from blocking code, as `Command::output` would for its
    /// stderr: std's own `waitpid(pid)` would race [`Children::reap`], which may take the
    /// status first and leave std with ECHILD ("No child process": it once cost a boot
    /// its data disk, mke2fs having run fine).
    pub fn run_blocking(&self, command: &mut Command) -> io::Result<(WaitStatus, String)> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let (mut child, status) = self.spawn_child(command)?;
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            pipe.read_to_string(&mut stderr)?;
        }
        let status = status
            .blocking_recv()
            .map_err(|_| io::Error::other("the reaper stopped"))?;
        Ok((status, stderr))
    }

    /// Spawns and registers under the lock (see [`Children::spawn`]); the caller must not
    /// wait on the returned `Child` itself.
    fn spawn_child(
        &self,
        command: &mut Command,
    ) -> io::Result<(std::process::Child, oneshot::Receiver<WaitStatus>)> {
        let mut waiters = self.lock();
        let child = command.spawn()?;
        let (tx, rx) = oneshot::channel();
        waiters.insert(child.id() as i32, tx);
        Ok((child, rx))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Set in the child process the test re-runs itself in: `waitpid(-1)` there cannot
    /// steal the children of the other tests of this binary.
    const ISOLATED: &str = "BERTH_REAPER_TEST_ISOLATED";

    #[test]
    fn a_command_run_from_blocking_code_gets_its_status_while_the_reaper_runs() {
        if std::env::var_os(ISOLATED).is_none() {
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "init::reaper::tests::a_command_run_from_blocking_code_gets_its_status_while_the_reaper_runs", "--nocapture"])
                .env(ISOLATED, "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && text.contains("1 passed"), "{text}");
            return;
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let children = Children::new();
        // Reaping without pause, so the race is lost at once rather than now and then.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reaper = {
            let (children, done) = (children.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    children.reap();
                    std::thread::yield_now();
                }
            })
        };
        // mke2fs at boot is such a command: with std's own wait, the reaper took its status
        // now and then and the command "failed" with ECHILD.
        for _ in 0..40 {
            let children = children.clone();
            let (status, stderr) = runtime
                .block_on(runtime.spawn_blocking(move || {
                    children.run_blocking(Command::new("sh").args(["-c", "echo oops >&2; exit 3"]))
                }))
                .unwrap()
                .unwrap();
            assert!(matches!(status, WaitStatus::Exited(_, 3)), "{status:?}");
            assert_eq!(stderr, "oops\n");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reaper.join().unwrap();
    }
}
