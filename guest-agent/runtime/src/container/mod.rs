//! The builder API the engine and the CLI use: `ContainerBuilder::create`, then
//! `Container::{start, kill, delete, exec, pause, resume}`. One file per verb.

mod create;
mod delete;
mod exec;
pub mod kill;
mod start;

use std::path::{Path, PathBuf};

use crate::cgroups::CgroupManager;
use crate::error::Result;
use crate::spec::{validate_id, Bundle};
use crate::state::{ContainerState, Status};

pub use exec::{wait_exit, ExecOptions, ExecOutcome};
pub use kill::parse_signal;

/// Where state lives when `--root` is not given.
pub const DEFAULT_ROOT: &str = "/run/berth-runtime";

#[derive(Debug, Clone)]
pub struct ContainerBuilder {
    id: String,
    root: PathBuf,
    bundle: PathBuf,
    console_socket: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    preserve_fds: u32,
}

impl ContainerBuilder {
    pub fn new(id: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        ContainerBuilder {
            id: id.into(),
            root: root.into(),
            bundle: PathBuf::from("."),
            console_socket: None,
            pid_file: None,
            preserve_fds: 0,
        }
    }

    pub fn bundle(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bundle = dir.into();
        self
    }

    pub fn console_socket(mut self, path: Option<PathBuf>) -> Self {
        self.console_socket = path;
        self
    }

    pub fn pid_file(mut self, path: Option<PathBuf>) -> Self {
        self.pid_file = path;
        self
    }

    /// Pass fds 3 .. 3+n to the container process, in addition to 0-2.
    pub fn preserve_fds(mut self, n: u32) -> Self {
        self.preserve_fds = n;
        self
    }

    /// Sets up the container and leaves its init waiting for `start`.
    pub fn create(self) -> Result<Container> {
        validate_id(&self.id)?;
        create::create(self)
    }
}

#[derive(Debug, Clone)]
pub struct Container {
    pub state: ContainerState,
    root: PathBuf,
}

impl Container {
    pub fn load(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        Ok(Container {
            state: ContainerState::load(root, id)?,
            root: root.to_path_buf(),
        })
    }

    pub fn id(&self) -> &str {
        &self.state.id
    }

    pub fn status(&self) -> Status {
        self.state.current_status(&self.root)
    }

    pub fn dir(&self) -> PathBuf {
        ContainerState::dir(&self.root, &self.state.id)
    }

    pub fn cgroup(&self) -> Result<CgroupManager> {
        let path = &self.state.cgroup_path;
        Ok(CgroupManager::new(Some(path.as_path()), &self.state.id)?)
    }

    /// The bundle's spec, re-read: the state only records where the bundle is.
    pub fn bundle(&self) -> Result<Bundle> {
        Bundle::load(&self.state.bundle)
    }

    /// Pids of every process in the container's cgroup.
    pub fn pids(&self) -> Result<Vec<i32>> {
        Ok(self.cgroup()?.pids()?)
    }

    pub fn pause(&self) -> Result<()> {
        self.require(&[Status::Running], "pause", "running")?;
        Ok(self.cgroup()?.freeze()?)
    }

    pub fn resume(&self) -> Result<()> {
        self.require(&[Status::Running], "resume", "running")?;
        Ok(self.cgroup()?.thaw()?)
    }

    fn require(
        &self,
        allowed: &[Status],
        action: &'static str,
        expected: &'static str,
    ) -> Result<Status> {
        let status = self.status();
        if allowed.contains(&status) {
            Ok(status)
        } else {
            Err(crate::error::RuntimeError::WrongState {
                id: self.state.id.clone(),
                status: status.to_string(),
                action,
                expected,
            })
        }
    }
}
