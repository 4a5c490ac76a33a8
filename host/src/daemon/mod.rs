//! The host daemon (`berth daemon`): one per user, started in the background by
//! `berth start`, outliving the CLI and the GUI. It boots the VM (or reattaches to one an
//! earlier daemon left running), serves the Docker socket, forwards published ports,
//! keeps the guest clock in step and answers the control socket ([`proto`]).
//!
//! Killing the daemon leaves the VM running (QEMU holds the VM lock); the next daemon
//! reattaches without a reboot. `berth stop` stops the VM, then the daemon.
//!
//! Files, all in the runtime directory: `docker.sock`, `daemon.sock` (both 0600),
//! `daemon.pid`, `daemon.lock`, `daemon.log` (written by `berth start`), `vm.json`.

pub mod client;
mod control;
mod docker_socket;
mod forward;
mod lifecycle;
mod ports;
pub mod proto;
mod shared;
#[cfg(unix)]
mod spawn;
mod udp;
mod udp_flows;
pub mod vm_setup;

use std::path::PathBuf;

use crate::settings::SettingsError;
use crate::state::{LockError, StateDirs, StateError};

pub use client::{ClientError, DaemonClient};
#[cfg(unix)]
pub use spawn::{spawn_daemon, SpawnError};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("The Berth daemon is already running (pid {pid})")]
    AlreadyRunning { pid: u32 },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Unsupported(String),
    #[error("Cannot listen on {path}")]
    Listen {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot set up the daemon's signal handlers")]
    Signals(#[source] std::io::Error),
}

/// The daemon's files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub docker_socket: PathBuf,
    pub control_socket: PathBuf,
    pub pid: PathBuf,
    pub lock: PathBuf,
    pub log: PathBuf,
    /// What the daemon that booted the VM knew about it (the backend's name).
    pub vm_info: PathBuf,
}

impl Paths {
    pub fn new(dirs: &StateDirs) -> Paths {
        Paths::in_run(&dirs.run)
    }

    /// The files in a runtime directory.
    pub fn in_run(run: &std::path::Path) -> Paths {
        Paths {
            docker_socket: run.join("docker.sock"),
            control_socket: run.join("daemon.sock"),
            pid: run.join("daemon.pid"),
            lock: run.join("daemon.lock"),
            log: run.join("daemon.log"),
            vm_info: run.join("vm.json"),
        }
    }
}

/// Runs the daemon until `stop` or SIGTERM/SIGINT (which leave the VM running).
pub async fn run(dirs: StateDirs) -> Result<(), DaemonError> {
    lifecycle::run(dirs).await
}
