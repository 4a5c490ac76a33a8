//! `exec`: a new process inside a running container — same namespaces (joined through
//! /proc/INIT/ns), same cgroup, its own identity, capabilities, rlimits and seccomp.

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use super::Container;
use crate::error::{Context, Result, RuntimeError};
use crate::namespaces::{self, Namespaces};
use crate::process::{self, Executable};
use crate::spawn::{self, Parent};
use crate::state::Status;
use crate::sync::{self, Message};

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub process: Process,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    /// Return once the process runs instead of waiting for it.
    pub detach: bool,
    pub preserve_fds: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct ExecOutcome {
    pub pid: i32,
    /// The exit code (128+N for a signal), when not detached.
    pub exit_code: Option<i32>,
}

impl Container {
    pub fn exec(&self, opts: ExecOptions) -> Result<ExecOutcome> {
        self.require(&[Status::Created, Status::Running], "exec", "running")?;
        crate::spec::validate_process(&opts.process)?;
        if opts.process.terminal().unwrap_or(false) && opts.console_socket.is_none() {
            return Err(RuntimeError::InvalidSpec(
                "a terminal needs --console-socket".into(),
            ));
        }
        let spec = self.bundle()?.spec;
        let linux = spec.linux().clone().unwrap_or_default();
        let ns = self.target_namespaces(linux.namespaces().as_deref().unwrap_or_default())?;
        let console = match &opts.console_socket {
            Some(p) => Some(crate::console::connect_socket(p)?),
            None => None,
        };
        let seccomp = linux.seccomp().clone();
        if !opts.detach {
            // The exec'd process is stage 1's child; as a subreaper we inherit it to wait.
            nix::sys::prctl::set_child_subreaper(true)
                .context(|| "Cannot become a subreaper".into())?;
        }
        let (parent_chan, child_chan) = sync::pair()?;
        let cgroup = self.cgroup()?;
        let mut parent = ExecParent { cgroup: &cgroup };
        let pid = spawn::spawn(&ns, &mut parent, &parent_chan, child_chan, |_chan| {
            if let Some(socket) = &console {
                crate::console::setup(socket.as_raw_fd(), opts.process.console_size().as_ref())?;
            }
            let exe = Executable::resolve(&opts.process)?;
            let nnp = opts.process.no_new_privileges().unwrap_or(false);
            process::apply_identity(&opts.process, if nnp { None } else { seccomp.as_ref() })?;
            process::enter_cwd(opts.process.cwd())?;
            process::cloexec_from(3 + opts.preserve_fds as i32)?;
            if nnp {
                if let Some(s) = &seccomp {
                    crate::seccomp::load(s)?;
                }
            }
            Err(exe.exec())
        })?;
        drop(console);
        // Our end reads EOF when the child's end closes on execve.
        match parent_chan.recv()? {
            None => {}
            Some(Message::Error(msg)) => {
                let _ = waitpid(pid, None);
                return Err(RuntimeError::Init(msg));
            }
            Some(other) => {
                return Err(RuntimeError::Init(format!(
                    "unexpected exec message {other:?}"
                )))
            }
        }
        if let Some(path) = &opts.pid_file {
            std::fs::write(path, pid.as_raw().to_string())
                .context(|| format!("Cannot write pid file {}", path.display()))?;
        }
        let exit_code = if opts.detach {
            None
        } else {
            Some(wait_exit(pid)?)
        };
        Ok(ExecOutcome {
            pid: pid.as_raw(),
            exit_code,
        })
    }

    /// Every namespace of the container that differs from ours, as a path to join.
    fn target_namespaces(&self, list: &[oci_spec::runtime::LinuxNamespace]) -> Result<Namespaces> {
        let mut ns = Namespaces::default();
        for entry in list {
            let flag = namespaces::flag(entry.typ());
            let name = namespaces::proc_name(flag);
            let theirs = PathBuf::from(format!("/proc/{}/ns/{name}", self.state.pid));
            let ours = PathBuf::from(format!("/proc/self/ns/{name}"));
            let same = match (std::fs::metadata(&theirs), std::fs::metadata(&ours)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                (Err(e), _) => {
                    return Err(e).context(|| format!("Cannot read {}", theirs.display()))
                }
                _ => false,
            };
            if !same {
                ns.join.push((flag, theirs));
            }
        }
        ns.join
            .sort_by_key(|(f, _)| *f != CloneFlags::CLONE_NEWUSER);
        Ok(ns)
    }
}

pub fn wait_exit(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e).context(|| format!("Cannot wait for process {pid}")),
        }
    }
}

struct ExecParent<'a> {
    cgroup: &'a crate::cgroups::CgroupManager,
}

impl Parent for ExecParent<'_> {
    fn join_cgroup(&mut self, pid: Pid) -> Result<()> {
        Ok(self.cgroup.add_process(pid.as_raw())?)
    }

    fn write_id_maps(&mut self, _pid: Pid) -> Result<()> {
        Err(RuntimeError::Init(
            "exec never creates a user namespace".into(),
        ))
    }
}
