//! `kill`: a signal to the container's init, or with `all` to every process in its cgroup.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::Container;
use crate::error::{Context, Result, RuntimeError};
use crate::state::Status;

/// "KILL", "SIGKILL", "sigkill" and "9" all name SIGKILL; real-time signals by number.
pub fn parse_signal(text: &str) -> Result<i32> {
    if let Ok(n) = text.parse::<i32>() {
        if (1..=libc::SIGRTMAX()).contains(&n) {
            return Ok(n);
        }
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map(|s| s as i32)
        .map_err(|_| RuntimeError::InvalidSpec(format!("unknown signal {text:?}")))
}

impl Container {
    pub fn kill(&self, signal: i32, all: bool) -> Result<()> {
        self.require(
            &[Status::Created, Status::Running],
            "kill",
            "created or running",
        )?;
        let send = |pid: i32| {
            // SAFETY: kill(2) takes plain integers; an invalid signal number is rejected with EINVAL.
            let rc = unsafe { libc::kill(pid, signal) };
            if rc == 0 {
                Ok(())
            } else {
                Err(nix::Error::last())
            }
        };
        if all {
            for pid in self.pids()? {
                match send(pid) {
                    Ok(()) | Err(nix::Error::ESRCH) => {}
                    Err(e) => return Err(e).context(|| format!("Cannot signal process {pid}")),
                }
            }
            return Ok(());
        }
        send(self.state.pid)
            .context(|| format!("Cannot send signal {signal} to container {}", self.state.id))
    }

    /// SIGKILL and wait (bounded) until init is gone.
    pub(super) fn kill_and_wait(&self) -> Result<()> {
        // A container whose create died before its init existed has pid 0: kill(0) would
        // signal our own process group.
        if self.state.pid <= 0 {
            return Ok(());
        }
        let pid = Pid::from_raw(self.state.pid);
        let _ = kill(pid, Signal::SIGKILL);
        for _ in 0..500 {
            if !self.state.init_alive() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Err(RuntimeError::Setup(format!(
            "Container {} did not die after SIGKILL",
            self.state.id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_short_name_and_number() {
        assert_eq!(parse_signal("SIGKILL").unwrap(), 9);
        assert_eq!(parse_signal("kill").unwrap(), 9);
        assert_eq!(parse_signal("TERM").unwrap(), 15);
        assert_eq!(parse_signal("34").unwrap(), 34);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("1000").is_err());
    }
}
