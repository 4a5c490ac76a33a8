//! The per-container monitor: a small process that owns a container's stdio, writes its
//! log, serves attach clients and records its exit status, and that keeps running when the
//! engine stops (DESIGN.md, "Containers outlive the engine"; the shape of conmon and the
//! containerd shims).
//!
//! Life of a monitor:
//! 1. [`spawn`] (in the engine) forks, `setsid`s and forks again, so the monitor is in its
//!    own session, is reparented away from the engine at once and survives its death. The
//!    grandchild runs [`run`] directly, or execs `berth-agent monitor`, which calls
//!    [`run_from_env`].
//! 2. The monitor becomes a child subreaper, writes `monitor.pid`, opens the log, listens on
//!    `attach.sock`, and makes the container's stdio: pipes, or a pty whose master arrives
//!    on `console.sock` (the runtime's `--console-socket`).
//! 3. A short-lived child of the monitor puts the pipes on its fds 0-2 (the runtime hands its
//!    own stdio to the container), creates and starts the container with `berth-runtime`,
//!    reports the pid and exits: the container's init is reparented to the monitor, and the
//!    runtime's code and allocations never weigh on the monitor's memory.
//! 4. A single-threaded poll(2) loop copies output to the log and to attach clients, and
//!    client input to the container's stdin, until the init has exited and its output is
//!    drained. Then the runtime container is deleted and `exit.json` written (last, atomically:
//!    its presence means the container is gone and may be started again).
//!
//! Files in the container's directory: `monitor.pid`, `exit.json`, `attach.sock`,
//! `console.sock` (only while a tty container starts), `<id>-json.log` (+ rotated files).

mod attach;
mod event_loop;
mod exit;
mod setup;
mod spawn;
pub mod sys;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::logs::{LogError, WriterOptions};

pub use exit::ExitRecord;
pub use spawn::{run, run_from_env, spawn, Launch, Started, CONFIG_ENV, READY_FD_ENV};

pub const PID_FILE: &str = "monitor.pid";
pub const EXIT_FILE: &str = "exit.json";
pub const ATTACH_SOCKET: &str = "attach.sock";
pub const CONSOLE_SOCKET: &str = "console.sock";

/// What the engine asks a monitor to run. Serialized to JSON for `berth-agent monitor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// The container id, also the runtime's id.
    pub id: String,
    /// `containers/<id>`: the monitor's files and the log live here.
    pub container_dir: PathBuf,
    /// The OCI bundle to create the container from.
    pub bundle: PathBuf,
    /// berth-runtime's state root (`/run/berth/runtime`).
    pub runtime_root: PathBuf,
    /// A pty instead of pipes; must match the bundle's `process.terminal`.
    #[serde(default)]
    pub tty: bool,
    /// Give the container a stdin that attach clients write to (else /dev/null).
    #[serde(default)]
    pub stdin: bool,
    /// Close the container's stdin when the first attach client that wrote to it leaves.
    #[serde(default)]
    pub stdin_once: bool,
    #[serde(default)]
    pub log: WriterOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("Cannot {what}")]
    Sys {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("Cannot start container {id}: {reason}")]
    Start { id: String, reason: String },
    #[error("The monitor failed: {0}")]
    Reported(String),
    #[error("The monitor exited before reporting whether the container started")]
    NoReport,
    #[error("Invalid monitor configuration")]
    Config(#[source] serde_json::Error),
}

impl MonitorError {
    pub(crate) fn sys(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> MonitorError {
        let what = what.into();
        move |source| MonitorError::Sys { what, source }
    }

    pub(crate) fn nix(what: impl Into<String>) -> impl FnOnce(nix::Error) -> MonitorError {
        let what = what.into();
        move |errno| MonitorError::Sys {
            what,
            source: errno.into(),
        }
    }
}

/// The whole error chain on one line: the monitor reports it across a pipe or into exit.json.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
