//! Processes the backend starts: liveness by pid (robust to pid reuse), signals, bounded
//! waits, and the exit record a reaper leaves for [`super::status`].

use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// True when `pid` runs (not a zombie) and its command line mentions `marker` — a path only
/// our process has on its command line, so a recycled pid is not mistaken for our VMM.
pub fn alive(pid: u32, marker: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the parenthesised command name, which may contain spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z') | Some('X') | None) {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&cmdline).contains(marker)
}

pub fn signal(pid: u32, sig: Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        // ESRCH (already gone) is the outcome we want anyway.
        let _ = kill(Pid::from_raw(pid), sig);
    }
}

/// Polls until `done` or the timeout; true when done.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How the VMM ended, as its reaper saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn from_status(status: ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        }
    }

    pub fn write(self, path: &Path) {
        let text = match self {
            Exit::Code(c) => format!("code {c}\n"),
            Exit::Signal(s) => format!("signal {s}\n"),
        };
        if let Err(e) = std::fs::write(path, text) {
            tracing::warn!("cannot record QEMU's exit in {}: {e}", path.display());
        }
    }

    pub fn read(path: &Path) -> Option<Exit> {
        let text = std::fs::read_to_string(path).ok()?;
        let (kind, n) = text.trim().split_once(' ')?;
        let n = n.parse().ok()?;
        match kind {
            "code" => Some(Exit::Code(n)),
            "signal" => Some(Exit::Signal(n)),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Exit::Code(c) => format!("QEMU exited with status {c}"),
            Exit::Signal(9) => "QEMU was killed (SIGKILL)".into(),
            Exit::Signal(s) => format!("QEMU was killed by signal {s}"),
        }
    }
}
