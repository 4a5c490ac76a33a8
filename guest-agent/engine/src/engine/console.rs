//! Resizing a running container's terminal. The pty master belongs to the container's
//! monitor (a separate process that outlives the engine), so the engine borrows a copy of
//! it with `pidfd_getfd(2)` (Linux 5.6) and sets the window size on that; the container's
//! foreground process gets SIGWINCH as with any terminal.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::exec_tty::set_window_size;
use super::{Engine, EngineError};
use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::container::record::Status;
use crate::monitor::PID_FILE;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("Container {0} has no terminal")]
    NoTerminal(String),
    #[error("Cannot {0}")]
    Io(&'static str, #[source] io::Error),
}

impl From<EngineError> for ConsoleError {
    fn from(e: EngineError) -> Self {
        ConsoleError::Engine(Box::new(e))
    }
}

impl ConsoleError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConsoleError::Engine(e) => e.kind(),
            ConsoleError::NoTerminal(_) => ErrorKind::Conflict,
            ConsoleError::Io(..) => ErrorKind::Internal,
        }
    }
}

impl Engine {
    /// Sets the window size of the running container `reference`'s terminal to `rows` x
    /// `cols`. A container without a tty: Conflict, as docker answers.
    pub fn resize_console(
        &self,
        reference: &str,
        rows: u16,
        cols: u16,
    ) -> Result<(), ConsoleError> {
        let (id, tty, dir) = self.inner.locked(reference, |ctx, record| {
            match ctx.containers.status(&record.id)?.status {
                Status::Running | Status::Paused => {}
                _ => return Err(LifecycleError::NotRunning(record.id.clone())),
            }
            let dir = ctx.containers.container_dir(&record.id);
            Ok((record.id.clone(), record.config.tty, dir))
        })?;
        if !tty {
            return Err(ConsoleError::NoTerminal(id));
        }
        let pid: i32 = fs::read_to_string(dir.join(PID_FILE))
            .map_err(|e| ConsoleError::Io("read the monitor's pid", e))?
            .trim()
            .parse()
            .map_err(|_| ConsoleError::NoTerminal(id.clone()))?;
        let masters = monitor_masters(pid)?;
        if masters.is_empty() {
            return Err(ConsoleError::NoTerminal(id));
        }
        for master in masters {
            set_window_size(std::os::fd::AsFd::as_fd(&master), rows, cols)
                .map_err(|e| ConsoleError::Io("set the terminal size", e))?;
        }
        Ok(())
    }
}

/// Copies of the pty masters the monitor `pid` holds (its descriptors that are a `ptmx`).
fn monitor_masters(pid: i32) -> Result<Vec<OwnedFd>, ConsoleError> {
    let pidfd =
        pidfd_open(pid).map_err(|e| ConsoleError::Io("reach the container's monitor", e))?;
    let entries = fs::read_dir(format!("/proc/{pid}/fd"))
        .map_err(|e| ConsoleError::Io("list the monitor's descriptors", e))?;
    let mut masters = Vec::new();
    for entry in entries.flatten() {
        let is_master = fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().ends_with("ptmx"));
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        if is_master {
            masters.push(
                pidfd_getfd(&pidfd, fd)
                    .map_err(|e| ConsoleError::Io("borrow the monitor's terminal", e))?,
            );
        }
    }
    Ok(masters)
}

fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; no memory
    // is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn pidfd_getfd(pidfd: &OwnedFd, target: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_getfd takes a pidfd, a descriptor number in that process and flags, and
    // returns a new descriptor (close-on-exec) or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above, a descriptor of our own that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
