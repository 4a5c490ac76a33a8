//! Starting the daemon in the background, for `berth start` and the desktop app: its
//! own session (no terminal, so closing the one it was started from does not end it,
//! and neither does quitting the app), output appended to `daemon.log`.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};

use super::Paths;
use crate::state::StateDirs;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("Cannot open the daemon log {path}")]
    Log {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot start the Berth daemon ({exe})")]
    Spawn {
        exe: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `<berth> daemon` detached; `berth` is the CLI executable.
pub fn spawn_daemon(dirs: &StateDirs, berth: &Path) -> Result<Child, SpawnError> {
    let log_path = Paths::new(dirs).log;
    let open_log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| SpawnError::Log {
                path: log_path.clone(),
                source,
            })
    };
    let mut command = std::process::Command::new(berth);
    command
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(open_log()?)
        .stderr(open_log()?);
    // SAFETY: runs in the forked child before exec and only calls setsid(2), which is
    // async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    command.spawn().map_err(|source| SpawnError::Spawn {
        exe: berth.to_path_buf(),
        source,
    })
}
