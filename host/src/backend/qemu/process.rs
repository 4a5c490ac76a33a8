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

/// A process the VM needs beside QEMU (vhost-device-vsock, virtiofsd): started before QEMU,
/// ready once it has created the socket QEMU connects to.
#[derive(Debug)]
pub struct Helper<'a> {
    /// How errors name it (`virtiofsd for /home/me`).
    pub name: &'a str,
    /// Its stdout and stderr, whose tail explains a failed start.
    pub log: &'a Path,
    pub pid_file: &'a Path,
    pub socket: &'a Path,
}

/// How long a helper may take to create its socket.
const HELPER_READY: Duration = Duration::from_secs(5);

/// Spawns `command` as `helper` (its own process group, so a Ctrl-C aimed at the CLI does not
/// take the VM down; output to its log; its pid recorded) and waits for its socket.
pub fn spawn_helper(
    mut command: std::process::Command,
    helper: Helper<'_>,
) -> crate::backend::Result<std::process::Child> {
    use crate::backend::BackendError;
    use std::os::unix::process::CommandExt;
    let _ = std::fs::remove_file(helper.socket);
    let create_log = || {
        std::fs::File::create(helper.log).map_err(BackendError::io(format!(
            "Cannot create the {} log",
            helper.name
        )))
    };
    let (out, err) = (create_log()?, create_log()?);
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(BackendError::io(format!("Cannot start {}", helper.name)))?;
    let _ = std::fs::write(helper.pid_file, format!("{}\n", child.id()));
    let mut exited = None;
    let ready = wait_until(HELPER_READY, || {
        exited = child.try_wait().ok().flatten();
        exited.is_some() || helper.socket.exists()
    });
    let failed = |what: String| {
        BackendError::Failed(format!(
            "{} {what}: {}",
            helper.name,
            super::files::tail(helper.log, 10).trim()
        ))
    };
    if let Some(status) = exited {
        return Err(failed(format!("exited at start ({status})")));
    }
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed(format!(
            "did not create {} within {HELPER_READY:?}",
            helper.socket.display()
        )));
    }
    Ok(child)
}
