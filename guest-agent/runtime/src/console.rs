//! process.terminal: the container's init opens a pty inside the container (its own devpts
//! instance), makes it its controlling terminal and stdio, and hands the master side to the
//! caller through the --console-socket Unix socket (SCM_RIGHTS), as runc does.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, Winsize};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::Mode;
use nix::unistd::{dup2, setsid};
use oci_spec::runtime::Box as ConsoleSize;

use crate::error::{Context, Result};

nix::ioctl_write_int_bad!(tiocsctty, libc::TIOCSCTTY);
nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, Winsize);

/// Connects to the caller's console socket (done by the runtime before any fork, so a bad
/// path is reported straight away).
pub fn connect_socket(path: &Path) -> Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context(|| "Cannot create a socket for the console".into())?;
    let addr =
        UnixAddr::new(path).context(|| format!("Bad console socket path {}", path.display()))?;
    connect(fd.as_raw_fd(), &addr)
        .context(|| format!("Cannot connect to console socket {}", path.display()))?;
    Ok(fd)
}

/// Creates the pty, sends its master, and makes its slave our stdio and controlling tty.
pub fn setup(socket: RawFd, size: Option<&ConsoleSize>) -> Result<()> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .context(|| "Cannot open /dev/ptmx in the container (is devpts mounted?)".into())?;
    grantpt(&master).context(|| "grantpt failed".into())?;
    unlockpt(&master).context(|| "unlockpt failed".into())?;
    let slave_name = ptsname_r(&master).context(|| "ptsname failed".into())?;
    let slave = open(
        Path::new(&slave_name),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("Cannot open {slave_name}"))?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if let Some(size) = size {
        let ws = Winsize {
            ws_row: size.height() as u16,
            ws_col: size.width() as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one Winsize from the valid pointer we pass.
        unsafe { tiocswinsz(slave.as_raw_fd(), &ws) }
            .context(|| "Cannot set the terminal size".into())?;
    }
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let name = slave_name.as_bytes();
    sendmsg::<()>(
        socket,
        &[IoSlice::new(name)],
        &cmsg,
        MsgFlags::empty(),
        None,
    )
    .context(|| "Cannot send the terminal to the console socket".into())?;
    drop(master);
    // A new session, so the pty can become our controlling terminal.
    let _ = setsid();
    // SAFETY: TIOCSCTTY takes an integer argument; no memory is passed.
    unsafe { tiocsctty(slave.as_raw_fd(), 0) }
        .context(|| "Cannot make the pty the controlling terminal".into())?;
    for target in 0..=2 {
        dup2(slave.as_raw_fd(), target).context(|| "Cannot attach the pty to stdio".into())?;
    }
    Ok(())
}
