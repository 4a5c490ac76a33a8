//! The container's init process (stage 2 of spawn): it finishes the container inside its
//! namespaces, reports "ready", blocks until `start` opens the exec fifo, then execs the
//! user's process. Every error before "ready" travels back to the caller of create.

use std::convert::Infallible;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use nix::fcntl::OFlag;
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{sethostname, setsid};

use crate::error::{Context, Result, RuntimeError};
use crate::namespaces::Namespaces;
use crate::process::{self, Executable};
use crate::rootfs::{self, MountContext};
use crate::spec::Bundle;
use crate::sync::{Channel, Message};

#[derive(Debug)]
pub struct InitConfig {
    pub id: String,
    pub bundle: Bundle,
    pub namespaces: Namespaces,
    pub cgroup_path: PathBuf,
    pub console_socket: Option<OwnedFd>,
    pub preserve_fds: i32,
    /// O_PATH fd of the exec fifo, opened by the runtime before any namespace change: a
    /// user-namespaced init may not be able to reach the state directory by path.
    pub exec_fifo: OwnedFd,
}

pub fn run(cfg: &InitConfig, chan: &Channel) -> Result<Infallible> {
    let spec = &cfg.bundle.spec;
    let process = cfg.bundle.process()?;
    let hooks = spec.hooks().clone().unwrap_or_default();
    if cfg.namespaces.creates(CloneFlags::CLONE_NEWCGROUP) {
        unshare(CloneFlags::CLONE_NEWCGROUP)
            .context(|| "Cannot create a cgroup namespace".into())?;
    }
    if hooks.prestart().is_some() || hooks.create_runtime().is_some() {
        chan.send(&Message::RunCreateRuntimeHooks)?;
        chan.wait_continue()?;
    }
    let _ = setsid();
    // Our pid as the host sees it, while the host's /proc is still mounted here.
    let host_pid: i32 = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse().ok())
        .unwrap_or(0);
    let dev_null = rootfs::masked::open_host_dev_null()?;
    if !cfg.namespaces.all().contains(CloneFlags::CLONE_NEWNS) {
        return Err(RuntimeError::InvalidSpec(
            "a mount namespace is required".into(),
        ));
    }
    // Device nodes and mounts get exactly the modes asked for.
    umask(Mode::empty());
    let ctx = MountContext {
        bundle: cfg.bundle.dir.clone(),
        cgroupns: cfg.namespaces.all().contains(CloneFlags::CLONE_NEWCGROUP),
        cgroup_path: cfg.cgroup_path.clone(),
    };
    let in_userns = cfg.namespaces.all().contains(CloneFlags::CLONE_NEWUSER);
    let root = rootfs::prepare(spec, &cfg.bundle.rootfs, &ctx, in_userns)?;
    set_hostname(spec, &cfg.namespaces)?;
    if let Some(sysctls) = spec.linux().as_ref().and_then(|l| l.sysctl().clone()) {
        crate::sysctl::apply(&root, &sysctls, cfg.namespaces.all())?;
    }
    process::write_oom_score_adj(process.oom_score_adj())?;
    // runc creates a missing cwd; images rely on it (a WORKDIR that only exists as config).
    let _ = root.mkdir_all(process.cwd(), 0o755);
    rootfs::protect(spec, &root, &dev_null)?;
    drop(dev_null);
    let state_json = hook_state(cfg, host_pid);
    crate::hooks::run_all(hooks.create_container().as_ref(), &state_json)?;
    rootfs::enter(spec, &root)?;
    drop(root);
    if process.terminal().unwrap_or(false) {
        let socket = cfg.console_socket.as_ref().ok_or_else(|| {
            RuntimeError::InvalidSpec("process.terminal needs --console-socket".into())
        })?;
        crate::console::setup(socket.as_raw_fd(), process.console_size().as_ref())?;
    }
    let exe = Executable::resolve(process)?;
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().clone());
    let nnp = process.no_new_privileges().unwrap_or(false);
    let early_seccomp = if nnp { None } else { seccomp.as_ref() };
    process::apply_identity(process, early_seccomp)?;
    process::enter_cwd(process.cwd())?;
    chan.send(&Message::Ready)?;
    let err = match after_start(cfg, &state_json, nnp.then_some(seccomp).flatten()) {
        Ok(()) => exe.exec(),
        Err(e) => e,
    };
    // `create` has returned by now: the container's stderr is the only witness.
    eprintln!(
        "berth-runtime: container {} failed to start: {}",
        cfg.id,
        crate::error::chain(&err)
    );
    Err(err)
}

fn after_start(
    cfg: &InitConfig,
    state_json: &str,
    late_seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
) -> Result<()> {
    wait_for_start(&cfg.exec_fifo)?;
    let hooks = cfg.bundle.spec.hooks().clone().unwrap_or_default();
    crate::hooks::run_all(hooks.start_container().as_ref(), state_json)?;
    process::cloexec_from(3 + cfg.preserve_fds)?;
    if let Some(seccomp) = &late_seccomp {
        crate::seccomp::load(seccomp)?;
    }
    Ok(())
}

pub fn open_path(path: &std::path::Path) -> Result<OwnedFd> {
    let fd = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| format!("Cannot open {}", path.display()))?;
    // SAFETY: open returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks until `start` opens the fifo for reading, then tells it we are going.
fn wait_for_start(fifo: &OwnedFd) -> Result<()> {
    let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .context(|| "Cannot open the exec fifo (is /proc mounted in the container?)".into())?;
    file.write_all(b"0")
        .context(|| "Cannot signal start through the exec fifo".into())
}

fn set_hostname(spec: &oci_spec::runtime::Spec, ns: &Namespaces) -> Result<()> {
    let owns_uts = ns.creates(CloneFlags::CLONE_NEWUTS);
    if let Some(name) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        if !owns_uts {
            return Err(RuntimeError::InvalidSpec(
                "hostname is set but the container has no UTS namespace of its own".into(),
            ));
        }
        sethostname(name).context(|| format!("Cannot set hostname {name:?}"))?;
    }
    if let Some(name) = spec.domainname().as_deref().filter(|h| !h.is_empty()) {
        if !owns_uts {
            return Err(RuntimeError::InvalidSpec(
                "domainname is set but the container has no UTS namespace of its own".into(),
            ));
        }
        let c = std::ffi::CString::new(name)
            .map_err(|_| RuntimeError::InvalidSpec("domainname contains NUL".into()))?;
        // SAFETY: c is a valid NUL-terminated buffer of the length passed.
        let rc = unsafe { libc::setdomainname(c.as_ptr(), name.len()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error())
                .context(|| format!("Cannot set domainname {name:?}"));
        }
    }
    Ok(())
}

fn hook_state(cfg: &InitConfig, pid: i32) -> String {
    serde_json::json!({
        "ociVersion": cfg.bundle.spec.version(),
        "id": cfg.id,
        "status": "created",
        "pid": pid,
        "bundle": cfg.bundle.dir,
        "annotations": cfg.bundle.spec.annotations().clone().unwrap_or_default(),
    })
    .to_string()
}
