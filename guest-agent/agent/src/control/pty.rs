//! The PTY side of exec: a pseudo-terminal whose slave becomes the command's controlling
//! terminal, and the master read and written through tokio's reactor.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

use berth_protocol::TtySize;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::pty::{openpty, Winsize};
use tokio::io::unix::AsyncFd;

/// The master side.
pub type Master = AsyncFd<File>;

fn winsize(size: TtySize) -> Winsize {
    Winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// Gives `command` a new session whose controlling terminal is a fresh PTY of `size`;
/// returns the master. The caller spawns the command, then drops it (closing our copy of
/// the slave, so the master reads EIO once the session's processes are gone).
pub fn attach(command: &mut Command, size: TtySize) -> io::Result<Master> {
    let pty = openpty(&winsize(size), None).map_err(io::Error::from)?;
    // openpty's descriptors are inheritable: neither may leak into the command beyond
    // the slave's three copies on 0-2.
    for fd in [&pty.master, &pty.slave] {
        fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(io::Error::from)?;
    }
    fcntl(pty.master.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(io::Error::from)?;
    let slave: OwnedFd = pty.slave;
    command
        .stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::from(slave));
    // SAFETY: between fork and exec only async-signal-safe calls: setsid(2) and ioctl(2)
    // on fd 0 (already the slave: std installs stdio before pre_exec hooks run).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(command, || {
            nix::unistd::setsid().map_err(io::Error::from)?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // SAFETY: the File owns the master descriptor and moves into the AsyncFd, so the fd
    // stays open and the same for the AsyncFd's whole life.
    unsafe { AsyncFd::register(File::from(pty.master)) }.map_err(io::Error::from)
}

/// Reads what the command wrote; 0 at the end (EIO: every slave descriptor is closed).
pub async fn read(master: &Master, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = master.readable().await?;
        match guard.try_io(|fd| fd.get_ref().read(buf)) {
            Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(0),
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

/// Writes all of `data` to the terminal's input.
pub async fn write(master: &Master, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let mut guard = master.writable().await?;
        match guard.try_io(|fd| fd.get_ref().write(data)) {
            Ok(Ok(n)) => data = &data[n..],
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

/// The terminal's new size; the kernel sends SIGWINCH to its foreground group.
pub fn resize(master: &Master, size: TtySize) -> io::Result<()> {
    let ws = winsize(size);
    // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer; the fd is our open master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
