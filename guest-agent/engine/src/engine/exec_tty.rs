//! `exec` with a terminal: the exec'd process opens a pty in the container and sends its
//! master to a console socket the engine listens on (a short path under /tmp: Unix socket
//! paths are limited to 108 bytes); a proxy thread copies the caller's input to the master
//! and the master's output to the caller's stdout until the pty closes.
//!
//! The window size is set before the process runs: the request's, else the caller's
//! terminal's when its stdout is one. [`set_window_size`] changes it on a master;
//! [`RawTerminal`] puts the caller's own terminal in raw mode meanwhile.

use std::fs::File;
use std::io::{self, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;

use berth_runtime::{Container, ExecOptions};
use nix::fcntl::OFlag;
use nix::pty::Winsize;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::unistd::pipe2;
use oci_spec::runtime::BoxBuilder;

use super::exec::{high_copy, run_forked, ExecError, ExecStdio};

nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, Winsize);
nix::ioctl_read_bad!(tiocgwinsz, libc::TIOCGWINSZ, Winsize);

/// How long the proxy keeps reading once the process ended, when something else in the
/// container still holds the pty open.
const DRAIN_MS: i32 = 200;

/// Sets the window size (`rows` x `cols`) of the terminal `master`; the process on it gets
/// SIGWINCH.
pub fn set_window_size(master: BorrowedFd, rows: u16, cols: u16) -> io::Result<()> {
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one Winsize from the valid pointer we pass.
    unsafe { tiocswinsz(master.as_raw_fd(), &size) }?;
    Ok(())
}

/// The window size of the terminal `fd`, if it is one.
fn window_size(fd: BorrowedFd) -> Option<(u16, u16)> {
    let mut size = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one Winsize to the valid, exclusively borrowed pointer.
    unsafe { tiocgwinsz(fd.as_raw_fd(), &mut size) }.ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
}

/// Runs the exec with a pty proxied to `stdio` (stdin and stdout; stderr is unused: a
/// terminal has one output). Its exit code.
pub(super) fn run_tty(
    container: &Container,
    mut options: ExecOptions,
    size: Option<(u16, u16)>,
    stdio: ExecStdio,
) -> Result<i32, ExecError> {
    let io = |action| move |e| ExecError::Sys(action, e);
    let (input, output) = match stdio {
        ExecStdio::Inherit => {
            // SAFETY: fds 0 and 1 stay open for the duration of the call (the engine's stdio).
            let (stdin, stdout) = unsafe { (BorrowedFd::borrow_raw(0), BorrowedFd::borrow_raw(1)) };
            (high_copy(stdin)?, high_copy(stdout)?)
        }
        ExecStdio::Fds([stdin, stdout, _]) => (stdin, stdout),
    };
    if let Some((rows, cols)) = size.or_else(|| window_size(output.as_fd())) {
        let console = BoxBuilder::default()
            .height(u64::from(rows))
            .width(u64::from(cols))
            .build()
            .map_err(|e| ExecError::Invalid(format!("bad terminal size: {e}")))?;
        options.process.set_console_size(Some(console));
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-exec")
        .tempdir_in("/tmp")
        .map_err(io("create the console socket's directory"))?;
    let path = dir.path().join("c.sock");
    let listener = UnixListener::bind(&path).map_err(io("listen on the console socket"))?;
    listener
        .set_nonblocking(true)
        .map_err(io("set up the console socket"))?;
    options.console_socket = Some(path);
    let (wake_r, wake_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| ExecError::Sys("pipe", e.into()))?;
    let proxy = std::thread::Builder::new()
        .name("exec-tty".into())
        .spawn(move || proxy(listener, wake_r, File::from(input), File::from(output)))
        .map_err(io("start the terminal proxy"))?;
    let code = run_forked(container, options, ExecStdio::Inherit);
    // The process is gone (or never ran): the proxy drains and ends.
    let _ = File::from(wake_w).write_all(b"x");
    let copied = proxy
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the terminal proxy panicked")));
    let code = code?;
    copied.map_err(io("copy the exec's terminal"))?;
    Ok(code)
}

/// Accepts the console connection (or ends when woken first), then copies between the
/// caller and the master until the pty closes, or it has been quiet for a while after the
/// process ended.
fn proxy(listener: UnixListener, wake: OwnedFd, input: File, mut output: File) -> io::Result<()> {
    let conn = loop {
        match listener.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [pollfd(listener.as_raw_fd()), pollfd(wake.as_raw_fd())];
                poll(&mut fds, -1)?;
                if fds[0].revents == 0 && fds[1].revents != 0 {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    conn.set_nonblocking(false)?;
    let mut master = File::from(recv_fd(conn.as_raw_fd())?);
    let mut input = Some(input);
    let mut ended = false;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut fds = [
            pollfd(master.as_raw_fd()),
            pollfd(if ended { -1 } else { wake.as_raw_fd() }),
            pollfd(input.as_ref().map_or(-1, |i| i.as_raw_fd())),
        ];
        if poll(&mut fds, if ended { DRAIN_MS } else { -1 })? == 0 {
            return Ok(());
        }
        if fds[0].revents != 0 {
            match master.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => output.write_all(&buf[..n])?,
                // EIO: every slave descriptor is closed.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        ended |= fds[1].revents != 0;
        if fds[2].revents != 0 {
            if let Some(reader) = input.as_mut() {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => input = None,
                    Ok(n) => master.write_all(&buf[..n])?,
                }
            }
        }
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    loop {
        // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The pty master sent with SCM_RIGHTS on `sock` (with the slave's name as data).
pub(super) fn recv_fd(sock: RawFd) -> io::Result<OwnedFd> {
    let mut name = [0u8; 128];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    let mut received = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: SCM_RIGHTS installed these descriptors in our table just now.
            received.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    received.into_iter().next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "no terminal descriptor in the console message",
        )
    })
}

/// A terminal put in raw mode (for a command line attached to a container's terminal: keys
/// such as ctrl-p, ctrl-q and ctrl-c go to the container); its settings come back on drop.
#[derive(Debug)]
pub struct RawTerminal {
    fd: OwnedFd,
    saved: Termios,
}

impl RawTerminal {
    /// Raw mode on `fd` when it is a terminal; `None` when it is not.
    pub fn enter(fd: BorrowedFd) -> io::Result<Option<RawTerminal>> {
        let Ok(saved) = tcgetattr(fd) else {
            return Ok(None);
        };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(fd, SetArg::TCSANOW, &raw)?;
        Ok(Some(RawTerminal {
            fd: fd.try_clone_to_owned()?,
            saved,
        }))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(self.fd.as_fd(), SetArg::TCSANOW, &self.saved);
    }
}
