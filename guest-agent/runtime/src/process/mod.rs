//! Turning the current process into the container's process: rlimits, identity,
//! capabilities, no_new_privs, cwd, fds, seccomp, execve. Shared by container init and exec.

pub mod caps;
pub mod rlimits;
pub mod user;

use std::convert::Infallible;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use nix::unistd::{access, chdir, execve, getcwd, AccessFlags};
use oci_spec::runtime::{LinuxSeccomp, Process};

use crate::error::{Context, Result, RuntimeError};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The process to exec, resolved inside the container before anyone is told "ready", so a
/// missing binary is reported to the caller of create/exec, not lost after start.
#[derive(Debug)]
pub struct Executable {
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

impl Executable {
    pub fn resolve(process: &Process) -> Result<Self> {
        let args = process.args().clone().unwrap_or_default();
        let env = process.env().clone().unwrap_or_default();
        let program = args
            .first()
            .ok_or_else(|| RuntimeError::InvalidSpec("process.args is empty".into()))?;
        let path = find_executable(program, &env, process.cwd())?;
        let cstr = |s: &str| {
            CString::new(s)
                .map_err(|_| RuntimeError::InvalidSpec(format!("{s:?} contains a NUL byte")))
        };
        Ok(Executable {
            path: CString::new(path.into_os_string().into_encoded_bytes()).map_err(|_| {
                RuntimeError::InvalidSpec("executable path contains a NUL byte".into())
            })?,
            args: args.iter().map(|a| cstr(a)).collect::<Result<_>>()?,
            env: env.iter().map(|e| cstr(e)).collect::<Result<_>>()?,
        })
    }

    /// Only returns on failure.
    pub fn exec(&self) -> RuntimeError {
        let err = match execve(&self.path, &self.args, &self.env) {
            Ok(never) => match never {},
            Err(e) => e,
        };
        RuntimeError::Sys {
            context: format!("Cannot execute {}", self.path.to_string_lossy()),
            source: err,
        }
    }
}

fn find_executable(program: &str, env: &[String], cwd: &Path) -> Result<PathBuf> {
    let executable = |p: &Path| p.is_file() && access(p, AccessFlags::X_OK).is_ok();
    if program.contains('/') {
        let path = if Path::new(program).is_absolute() {
            PathBuf::from(program)
        } else {
            cwd.join(program)
        };
        if executable(&path) {
            return Ok(path);
        }
        return Err(RuntimeError::Setup(format!(
            "exec: {program:?}: no such executable file in the container"
        )));
    }
    let search = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    search
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| executable(p))
        .ok_or_else(|| {
            RuntimeError::Setup(format!(
                "exec: {program:?}: executable file not found in $PATH"
            ))
        })
}

/// chdir to process.cwd, then prove we are inside the root: a cwd reached through a leaked
/// directory fd (/proc/self/fd/N, CVE-2024-21626) is outside it, and getcwd says so.
pub fn enter_cwd(cwd: &Path) -> Result<()> {
    chdir(cwd).context(|| format!("Cannot change to the working directory {}", cwd.display()))?;
    match getcwd() {
        Ok(now) if now.is_absolute() => Ok(()),
        _ => Err(RuntimeError::Setup(format!(
            "the working directory {} is outside the container's root",
            cwd.display()
        ))),
    }
}

/// Marks every fd from `first` up close-on-exec, so only 0-2 and the preserved fds reach the
/// container process (our own fds stay usable until execve).
pub fn cloexec_from(first: i32) -> Result<()> {
    // SAFETY: close_range only changes descriptor flags; it has no memory arguments.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // Kernels before 5.11: walk our fd table instead.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .context(|| "Cannot list open file descriptors".into())?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd >= first)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD on an fd number has no memory effects; a stale number fails with EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

pub fn set_no_new_privs() -> Result<()> {
    nix::sys::prctl::set_no_new_privs().context(|| "Cannot set no_new_privs".into())
}

/// Identity and privileges, in the order the kernel needs: rlimits, bounding set (needs
/// CAP_SETPCAP), uid/gid with KEEPCAPS, the other capability sets, no_new_privs.
/// Seccomp goes before the privilege drop when no_new_privs is off (loading a filter then
/// needs CAP_SYS_ADMIN), else as late as possible; the caller passes it in `early_seccomp`.
pub fn apply_identity(process: &Process, early_seccomp: Option<&LinuxSeccomp>) -> Result<()> {
    rlimits::apply(process.rlimits().as_deref().unwrap_or_default())?;
    if let Some(seccomp) = early_seccomp {
        crate::seccomp::load(seccomp)?;
    }
    nix::sys::prctl::set_keepcaps(true)
        .context(|| "Cannot keep capabilities across setuid".into())?;
    // No capabilities object means no capabilities at all, as in runc.
    let spec_caps = process.capabilities().clone().unwrap_or_else(caps::none);
    caps::drop_bounding(&spec_caps)?;
    user::apply(process.user(), true)?;
    caps::set_sets(&spec_caps)?;
    nix::sys::prctl::set_keepcaps(false).context(|| "Cannot reset KEEPCAPS".into())?;
    if process.no_new_privileges().unwrap_or(false) {
        set_no_new_privs()?;
    }
    Ok(())
}

pub fn write_oom_score_adj(value: Option<i32>) -> Result<()> {
    if let Some(v) = value {
        std::fs::write("/proc/self/oom_score_adj", v.to_string())
            .context(|| format!("Cannot set oom_score_adj to {v}"))?;
    }
    Ok(())
}

pub type Never = Infallible;
