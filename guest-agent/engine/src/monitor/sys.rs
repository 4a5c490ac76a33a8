//! The monitor's system calls that std does not wrap, kept in one place.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// A pipe whose ends are close-on-exec: only what we put on fds 0-2 reaches the container.
pub(super) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC)?)
}

pub(super) fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = OFlag::from_bits_retain(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

pub(super) fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    let flags = if on {
        FdFlag::FD_CLOEXEC
    } else {
        FdFlag::empty()
    };
    fcntl(fd, FcntlArg::F_SETFD(flags))?;
    Ok(())
}

/// Puts `fd` on `target` (which loses close-on-exec, as dup2 does).
pub(super) fn dup_onto(fd: RawFd, target: RawFd) -> io::Result<()> {
    nix::unistd::dup2(fd, target)?;
    Ok(())
}

pub(super) fn dev_null() -> io::Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    Ok(file.into())
}

/// A pollable handle that becomes readable when `pid` exits (also when it already has and
/// is a zombie). `None` on kernels before 5.3: the loop then polls more often.
pub(super) fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

pub(super) fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Receives the one descriptor (the pty master) sent with SCM_RIGHTS on `sock`.
pub(super) fn recv_fd(sock: RawFd) -> io::Result<OwnedFd> {
    let mut name = [0u8; 128];
    let mut iov = [io::IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            let mut owned = fds.into_iter().map(|fd| {
                // SAFETY: SCM_RIGHTS installed these descriptors in our table just now.
                unsafe { OwnedFd::from_raw_fd(fd) }
            });
            if let Some(fd) = owned.next() {
                return Ok(fd);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "no terminal descriptor in the console message",
    ))
}

/// The monitor's signal state, whatever the engine's was (dispositions set to ignore and
/// the blocked mask survive fork and exec): nothing blocked; SIGCHLD at its default, since
/// an ignored SIGCHLD would let the kernel reap the container before we read its status;
/// SIGPIPE ignored, so a write to a gone reader (an attach client, a container that closed
/// its stdin) fails with EPIPE instead of killing the monitor.
pub(super) fn reset_signals() {
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    // SAFETY: SIG_DFL and SIG_IGN install no handler code; only dispositions change.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Undoes the ignored SIGPIPE in the process that creates the container: an ignored signal
/// stays ignored across exec, and `yes | head` in the container must end by SIGPIPE.
pub(super) fn default_sigpipe() {
    // SAFETY: SIG_DFL installs no handler code; it only changes the disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// Ends the process without running the caller's exit handlers or destructors: the monitor
/// may be a fork of a larger program (the engine, a test binary) whose state is not ours.
/// Closes every descriptor from 3 up except `keep`: a monitor forked from the engine must
/// not hold the engine's other files (another start's report pipe would then stay open and
/// that start would wait for this container to exit).
pub(super) fn close_inherited(keep: Option<RawFd>) {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter(|fd| *fd > 2 && Some(*fd) != keep)
            .collect(),
        Err(_) => return,
    };
    for fd in fds {
        // SAFETY: closing a descriptor number has no memory effects; the directory listing's
        // own fd is already closed (EBADF then), and nothing in this process uses the others.
        unsafe { libc::close(fd) };
    }
}

pub(super) fn exit(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Lets go of the memory only the monitor's start needed: code and read-only data of the
/// binary and its libraries (parsing the config, the runtime's create, error paths) and
/// freed heap. The monitor then lives for as long as its container, touching only its
/// event loop; the kernel faults back in, from the page cache, whatever it uses again.
///
/// Only mappings that were never written are dropped: file-backed, not writable, and
/// without anonymous (copy-on-write) pages, so RELRO sections and relocated data, which
/// `MADV_DONTNEED` would reset to the file's bytes, are left alone.
pub fn release_startup_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize, bool)> = None;
    let mut droppable = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-').and_then(|(s, e)| {
            Some((
                usize::from_str_radix(s, 16).ok()?,
                usize::from_str_radix(e, 16).ok()?,
            ))
        }) {
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            let file_backed = path.starts_with('/');
            current = Some((start, end, file_backed && !perms.contains('w')));
        } else if first == "Anonymous:" {
            if let Some((start, end, true)) = current.take() {
                if fields.next() == Some("0") {
                    droppable.push((start, end - start));
                }
            }
        }
    }
    for (start, len) in droppable {
        // SAFETY: the range is a whole mapping of this process, read-only and never
        // written (no anonymous pages): dropping its pages only unmaps them from our page
        // tables; the next access reads the same bytes from the file again.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
    // musl's allocator returns freed memory by itself and has no malloc_trim.
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0)
    };
}
