//! The docker CLI on a terminal of the test's own (a pty), for `-it`: what it prints is
//! collected, keys are typed into it, and the window can be resized.
#![allow(dead_code)] // each test binary uses part of it

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::pty::{openpty, Winsize};

nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, Winsize);

pub struct Pty {
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    pub child: Child,
}

fn winsize(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// Runs `command` as the session leader of a new terminal of `rows` x `cols`.
    pub fn spawn(mut command: Command, rows: u16, cols: u16) -> Pty {
        let pty = openpty(Some(&winsize(rows, cols)), None).unwrap();
        let slave: OwnedFd = pty.slave;
        command
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: between fork and exec the child only calls setsid and ioctl, both
        // async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().unwrap();
        let master = File::from(pty.master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            output,
            child,
        }
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the output (from `from` bytes on) contains `text`; where it ends.
    pub fn expect(&self, text: &str, from: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.output.lock().unwrap().clone();
            let start = from.min(out.len());
            let tail = String::from_utf8_lossy(&out[start..]).into_owned();
            if let Some(at) = tail.find(text) {
                return start + at + text.len();
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never appeared; output: {:?}",
                String::from_utf8_lossy(&out)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn len(&self) -> usize {
        self.output.lock().unwrap().len()
    }

    pub fn type_keys(&mut self, keys: &[u8]) {
        self.master.write_all(keys).unwrap();
    }

    /// Changes the window size (the CLI gets SIGWINCH and tells the engine).
    pub fn resize(&self, rows: u16, cols: u16) {
        // SAFETY: TIOCSWINSZ reads one Winsize from the valid pointer passed.
        unsafe { tiocswinsz(self.master.as_raw_fd(), &winsize(rows, cols)) }.unwrap();
    }

    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the command did not end; output: {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
