//! The monitor's only loop: one poll(2) over the container's output, its exit (pidfd), the
//! attach socket and clients, and the stdin pipe when input is waiting. Single-threaded,
//! one fixed 16 KiB read buffer, no allocation that grows with the container's output.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::attach::{Attach, Input};
use super::setup::Running;
use super::sys;
use crate::logs::{Stream, Writer};

const BUF: usize = 16 * 1024;

/// After the init exits, output still in flight is read for at most this long: processes
/// left outside a pid namespace could otherwise hold the pipes open forever.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Orphans reparented to the monitor (a container without its own pid namespace) are
/// reaped at least this often; without a pidfd this is also how the exit is noticed.
const TICK_MS: i32 = 1000;
const TICK_WITHOUT_PIDFD_MS: i32 = 100;

#[derive(Debug, Clone, Copy)]
enum Slot {
    Output(usize),
    Exit,
    Listener,
    Stdin,
    Client(usize),
}

/// The init's wait status (exit code or signal) and when it was collected.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ended {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub at: SystemTime,
}

#[derive(Debug)]
pub(super) struct Loop {
    pid: i32,
    pidfd: Option<OwnedFd>,
    outputs: [Option<OwnedFd>; 2],
    stdin: Option<OwnedFd>,
    /// Client input the stdin pipe did not take yet (at most one read).
    pending: Vec<u8>,
    stdin_once: bool,
    /// Close stdin once `pending` is written.
    close_stdin: bool,
    tty: bool,
    attach: Attach,
    pub writer: Writer,
    /// How the init ended, once it is reaped.
    exit: Option<Ended>,
    exited_at: Option<Instant>,
    /// The first failure to write the log; output keeps flowing to clients regardless.
    pub log_error: Option<String>,
    fds: Vec<libc::pollfd>,
    slots: Vec<Slot>,
}

impl Loop {
    pub fn new(running: Running, tty: bool, stdin_once: bool) -> Loop {
        Loop {
            pid: running.pid,
            pidfd: running.pidfd,
            outputs: running.outputs,
            stdin: running.stdin,
            pending: Vec::new(),
            stdin_once,
            close_stdin: false,
            tty,
            attach: Attach::new(running.attach, tty),
            writer: running.writer,
            exit: None,
            exited_at: None,
            log_error: None,
            fds: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Runs until the container has exited and its output is drained; returns how it ended.
    pub fn run(&mut self) -> Ended {
        let mut buf = [0u8; BUF];
        loop {
            let timeout = match self.exited_at {
                None if self.pidfd.is_some() => TICK_MS,
                None => TICK_WITHOUT_PIDFD_MS,
                Some(at) => {
                    let left = DRAIN_AFTER_EXIT.saturating_sub(at.elapsed());
                    if left.is_zero() || self.outputs.iter().all(Option::is_none) {
                        break;
                    }
                    left.as_millis() as i32 + 1
                }
            };
            self.prepare();
            if sys::poll(&mut self.fds, timeout).is_err() {
                // EINTR (or ENOMEM): look at everything again.
                continue;
            }
            self.reap();
            for k in (0..self.slots.len()).rev() {
                if let Slot::Client(index) = self.slots[k] {
                    self.on_client(index, self.fds[k].revents, &mut buf);
                }
            }
            // Accept before handing out output: a client that connected before the
            // container's first output (attach, then start) must receive it.
            let listener_ready = self
                .slots
                .iter()
                .zip(&self.fds)
                .any(|(slot, fd)| matches!(slot, Slot::Listener) && fd.revents != 0);
            if listener_ready {
                self.attach.accept();
            }
            for k in 0..self.slots.len() {
                let revents = self.fds[k].revents;
                if revents == 0 {
                    continue;
                }
                match self.slots[k] {
                    Slot::Output(i) => self.on_output(i, &mut buf),
                    // The pidfd can wake us a moment before the zombie is waitable: if
                    // reap() missed it, fall back to short ticks rather than spin.
                    Slot::Exit => self.pidfd = None,
                    Slot::Stdin => self.flush_stdin(),
                    Slot::Listener | Slot::Client(_) => {}
                }
            }
        }
        let now = SystemTime::now();
        for stream in [Stream::Stdout, Stream::Stderr] {
            self.log_result(|w| w.finish(stream, now));
        }
        // Without a status (only if waiting failed), the record says -1.
        self.exit.unwrap_or(Ended {
            code: None,
            signal: None,
            at: now,
        })
    }

    fn prepare(&mut self) {
        self.fds.clear();
        self.slots.clear();
        let mut add = |fd: i32, events: i16, slot: Slot| {
            self.fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            self.slots.push(slot);
        };
        for (i, out) in self.outputs.iter().enumerate() {
            if let Some(fd) = out {
                add(fd.as_raw_fd(), libc::POLLIN, Slot::Output(i));
            }
        }
        if let Some(fd) = &self.pidfd {
            add(fd.as_raw_fd(), libc::POLLIN, Slot::Exit);
        }
        add(
            self.attach.listener.as_raw_fd(),
            libc::POLLIN,
            Slot::Listener,
        );
        let stdin_busy = !self.pending.is_empty();
        if let (Some(fd), true) = (&self.stdin, stdin_busy) {
            add(fd.as_raw_fd(), libc::POLLOUT, Slot::Stdin);
        }
        for (i, client) in self.attach.clients.iter().enumerate() {
            // While stdin is busy, client input waits in the socket (back-pressure).
            let events = if client.reading && !stdin_busy {
                libc::POLLIN
            } else {
                0
            };
            add(self.attach.client_fd(i), events, Slot::Client(i));
        }
    }

    /// Reaps every child that has exited; records the init's status.
    fn reap(&mut self) {
        loop {
            let (pid, status) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, (Some(code), None)),
                Ok(WaitStatus::Signaled(pid, sig, _)) => (pid, (None, Some(sig as i32))),
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(_) => continue,
            };
            if pid.as_raw() == self.pid {
                let (code, signal) = status;
                let at = SystemTime::now();
                self.exit = Some(Ended { code, signal, at });
                self.exited_at = Some(Instant::now());
                self.pidfd = None;
                // Nobody can read it any more.
                self.stdin = None;
                self.pending.clear();
            }
        }
    }

    fn on_output(&mut self, index: usize, buf: &mut [u8]) {
        let Some(fd) = &self.outputs[index] else {
            return;
        };
        let stream = if index == 0 {
            Stream::Stdout
        } else {
            Stream::Stderr
        };
        match nix::unistd::read(fd.as_raw_fd(), buf) {
            Ok(n) if n > 0 => {
                let data = &buf[..n];
                self.log_result(|w| w.write(stream, data, SystemTime::now()));
                self.attach.broadcast(stream, data);
            }
            Err(nix::Error::EAGAIN | nix::Error::EINTR) => {}
            // End of file; EIO from a pty master whose last slave fd closed.
            _ => {
                self.outputs[index] = None;
                self.log_result(|w| w.finish(stream, SystemTime::now()));
            }
        }
    }

    fn on_client(&mut self, index: usize, revents: i16, buf: &mut [u8]) {
        if revents & libc::POLLIN != 0 {
            match self.attach.read_input(index, buf) {
                Input::Data(n) if self.stdin.is_some() => {
                    self.pending.extend_from_slice(&buf[..n]);
                    self.flush_stdin();
                }
                // stdin_once: the container's stdin ends with this client's input (for a
                // tty there is no end-of-file to give without closing its output too).
                Input::Eof if self.stdin_once && !self.tty => {
                    self.close_stdin = true;
                    self.flush_stdin();
                }
                Input::Data(_) | Input::Eof | Input::Nothing | Input::Gone => {}
            }
        } else if revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            self.attach.remove(index);
        }
    }

    fn flush_stdin(&mut self) {
        let Some(fd) = &self.stdin else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            match nix::unistd::write(fd, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(nix::Error::EINTR) => {}
                Err(nix::Error::EAGAIN) => return,
                Err(_) => {
                    // The container closed its stdin.
                    self.stdin = None;
                    self.pending.clear();
                    return;
                }
            }
        }
        if self.close_stdin {
            self.stdin = None;
        }
        if self.pending.capacity() > BUF {
            self.pending.shrink_to(BUF);
        }
    }

    fn log_result(&mut self, f: impl FnOnce(&mut Writer) -> Result<(), crate::logs::LogError>) {
        if let Err(e) = f(&mut self.writer) {
            self.log_error.get_or_insert_with(|| super::chain(&e));
        }
    }
}
