//! `exec`: a new process in a running container, built from the container's own process
//! (capabilities, rlimits, no_new_privileges, env) with the command, env, user and working
//! directory of the request, run through berth-runtime's exec and waited for.
//!
//! berth-runtime's exec gives the new process the caller's fds 0-2 and makes the caller a
//! child subreaper. So the engine forks a helper that puts the requested stdio on 0-2 and
//! calls it: the engine's own stdio and process attributes stay untouched, and the helper's
//! exit status is the exec'd process's. A failure before the process ran comes back on a
//! close-on-exec pipe, so it is an error of the call, not an exit code.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use berth_runtime::{Container, ExecOptions};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{dup2, fork, pipe2, ForkResult};
use oci_spec::runtime::{Process, Spec};

use super::{Engine, EngineError};
use crate::container::lifecycle::{self, ErrorKind, LifecycleError};
use crate::container::prepare::bundle_dir;
use crate::container::record::{ContainerRecord, Status};
use crate::container::spec::merge::merge_env;
use crate::container::user::{self, UserError};

/// What to run. Empty `user` / `working_dir`: the container's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecConfig {
    pub cmd: Vec<String>,
    /// `KEY=VALUE` entries over the container's environment.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    /// A pty instead of the caller's stdio (see `exec_tty`).
    pub tty: bool,
    /// With `tty`: the window size, rows and columns (default: the caller's terminal's).
    pub console_size: Option<(u16, u16)>,
}

/// Where the exec'd process's stdin, stdout and stderr go.
#[derive(Debug)]
pub enum ExecStdio {
    /// The engine's own fds 0-2 (the command line).
    Inherit,
    /// stdin, stdout, stderr.
    Fds([OwnedFd; 3]),
}

fn sys(action: &'static str) -> impl Fn(nix::Error) -> ExecError {
    move |e| ExecError::Sys(action, e.into())
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("Invalid exec request: {0}")]
    Invalid(String),
    #[error(transparent)]
    User(#[from] UserError),
    #[error("Cannot read the runtime spec {path}")]
    Spec {
        path: String,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("Cannot {0}")]
    Sys(&'static str, #[source] std::io::Error),
    #[error("exec failed: {0}")]
    Failed(String),
}

impl From<EngineError> for ExecError {
    fn from(e: EngineError) -> Self {
        ExecError::Engine(Box::new(e))
    }
}

impl ExecError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExecError::Engine(e) => e.kind(),
            ExecError::Invalid(_) | ExecError::User(_) => ErrorKind::InvalidArgument,
            ExecError::Spec { .. } | ExecError::Sys(..) | ExecError::Failed(_) => {
                ErrorKind::Internal
            }
        }
    }
}

impl Engine {
    /// Runs `config` in the running container `reference` and returns its exit code (128+N
    /// when killed by signal N). A stopped container: Conflict "is not running"; a paused
    /// one: Conflict "is paused".
    pub fn exec(
        &self,
        reference: &str,
        config: &ExecConfig,
        stdio: ExecStdio,
    ) -> Result<i32, ExecError> {
        validate(config)?;
        let record = self.running(reference)?;
        let dir = self.inner.containers.container_dir(&record.id);
        let process = build_process(&bundle_dir(&dir), config)?;
        let container = Container::load(&self.inner.runtime_root, &record.id)
            .map_err(|e| EngineError::from(LifecycleError::from(e)))?;
        let options = ExecOptions {
            process,
            console_socket: None,
            pid_file: None,
            detach: false,
            preserve_fds: 0,
        };
        if config.tty {
            return super::exec_tty::run_tty(&container, options, config.console_size, stdio);
        }
        run_forked(&container, options, stdio)
    }

    /// The record of `reference` after a sync, if it is running (not paused).
    pub(super) fn running(&self, reference: &str) -> Result<ContainerRecord, EngineError> {
        self.inner.locked(reference, |ctx, record| {
            match ctx.containers.status(&record.id)?.status {
                Status::Running => Ok(record.clone()),
                Status::Paused => Err(LifecycleError::Paused(record.id.clone())),
                _ => Err(LifecycleError::NotRunning(record.id.clone())),
            }
        })
    }
}

pub(super) fn validate(config: &ExecConfig) -> Result<(), ExecError> {
    if config.cmd.is_empty() {
        return Err(ExecError::Invalid("no command given".into()));
    }
    if config.cmd.iter().any(|a| a.contains('\0')) {
        return Err(ExecError::Invalid("the command contains a NUL byte".into()));
    }
    for entry in &config.env {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        if key.is_empty() || entry.contains('\0') {
            return Err(ExecError::Invalid(format!("invalid env entry {entry:?}")));
        }
    }
    Ok(())
}

/// The container's process with the request's command, env, user and cwd.
pub(super) fn build_process(bundle: &Path, config: &ExecConfig) -> Result<Process, ExecError> {
    let path = bundle.join("config.json");
    let spec = Spec::load(&path).map_err(|source| ExecError::Spec {
        path: path.display().to_string(),
        source,
    })?;
    let mut process = spec.process().clone().unwrap_or_default();
    let mut env = process.env().clone().unwrap_or_default();
    if let Some(name) = config.user.as_deref().filter(|u| !u.is_empty()) {
        let resolved = user::resolve(&bundle.join("rootfs"), name)?;
        let mut oci_user = process.user().clone();
        oci_user
            .set_uid(resolved.uid)
            .set_gid(resolved.gid)
            .set_additional_gids(Some(resolved.additional_gids.clone()))
            .set_umask(None)
            .set_username(None);
        process.set_user(oci_user);
        env = merge_env(&env, &[format!("HOME={}", resolved.home)]);
    }
    if let Some(cwd) = config.working_dir.as_deref().filter(|d| !d.is_empty()) {
        if !cwd.starts_with('/') {
            return Err(ExecError::Invalid(format!(
                "the working directory {cwd:?} is not absolute"
            )));
        }
        process.set_cwd(cwd.into());
    }
    process
        .set_terminal(Some(config.tty))
        .set_console_size(None)
        .set_args(Some(config.cmd.clone()))
        .set_env(Some(merge_env(&env, &config.env)));
    Ok(process)
}

/// Forks the helper that runs the exec with `stdio` on fds 0-2; its exit code.
pub(super) fn run_forked(
    container: &Container,
    options: ExecOptions,
    stdio: ExecStdio,
) -> Result<i32, ExecError> {
    let (report_r, report_w) = pipe2(OFlag::O_CLOEXEC).map_err(sys("create a pipe"))?;
    // Copies at 3 and up first, so dup2 onto 0-2 cannot overwrite a source still needed.
    let fds = match &stdio {
        ExecStdio::Inherit => None,
        ExecStdio::Fds(fds) => Some(
            fds.iter()
                .map(|fd| high_copy(fd.as_fd()))
                .collect::<Result<Vec<OwnedFd>, _>>()?,
        ),
    };
    // SAFETY: the child only rearranges fds, runs the runtime's exec (which forks and waits
    // as a fresh process would) and leaves with _exit; the engine's monitors run the same
    // way in forked children. Nothing in the child returns into the caller's code.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            drop(report_r);
            let code = child(container, options, fds.as_deref(), report_w);
            // SAFETY: _exit ends the forked child without running the parent's atexit
            // handlers or flushing buffers it shares with the parent.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(report_w);
            drop(fds);
            drop(stdio);
            let mut message = String::new();
            let read = File::from(report_r).read_to_string(&mut message);
            let status = loop {
                match waitpid(child, None) {
                    Err(nix::Error::EINTR) => continue,
                    other => break other.map_err(sys("wait for the exec"))?,
                }
            };
            if !message.is_empty() {
                return Err(ExecError::Failed(message));
            }
            read.map_err(|e| ExecError::Sys("read the exec's report", e))?;
            match status {
                WaitStatus::Exited(_, code) => Ok(code),
                WaitStatus::Signaled(_, signal, _) => Ok(128 + signal as i32),
                other => Err(ExecError::Failed(format!("unexpected status {other:?}"))),
            }
        }
    }
}

pub(super) fn high_copy(fd: std::os::fd::BorrowedFd) -> Result<OwnedFd, ExecError> {
    let raw = fcntl(fd.as_raw_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))
        .map_err(sys("duplicate a descriptor"))?;
    // SAFETY: fcntl just returned this new descriptor; nothing else owns it.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

/// In the forked helper: the exec's exit code, or 127 after reporting why it did not run.
fn child(
    container: &Container,
    options: ExecOptions,
    fds: Option<&[OwnedFd]>,
    report: OwnedFd,
) -> i32 {
    let mut report = File::from(report);
    if let Some(fds) = fds {
        for (target, fd) in fds.iter().enumerate() {
            if let Err(e) = dup2(fd.as_raw_fd(), target as i32) {
                let _ = write!(report, "Cannot set up the exec's stdio: {e}");
                return 127;
            }
        }
    }
    // This helper was forked from a multi-threaded engine and waits as long as the exec
    // runs: every other descriptor it inherited (the API's end of this exec's stdin pipe,
    // other clients' pipes and sockets) would stay open that long, and a process reading
    // its stdin would never see EOF. Only stdio and the report pipe stay.
    let keep = report.as_raw_fd() as libc::c_uint;
    for (first, last) in [(3, keep.saturating_sub(1)), (keep + 1, libc::c_uint::MAX)] {
        if first <= last {
            // SAFETY: close_range only closes descriptors of this (single-threaded, forked)
            // process; none of the ranges holds one still in use.
            unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
        }
    }
    match container.exec(options) {
        Ok(outcome) => outcome.exit_code.unwrap_or(0),
        Err(e) => {
            let _ = report.write_all(lifecycle::chain(&e).as_bytes());
            127
        }
    }
}
