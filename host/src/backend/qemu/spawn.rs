//! Booting: take the lock, prepare the disk, pick the accelerator and vsock device, start
//! vhost-device-vsock and one virtiofsd per share, then QEMU, and hand QEMU to a reaper
//! thread that records its exit.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::accel::{self, ProbeSetup};
use super::args::{qemu_args, VsockDevice};
use super::files::{read_pid, tail, Files};
use super::process::{wait_until, Exit};
use super::{binary, disk, vhost, virtiofs, QemuBackend, VsockChoice};
use crate::backend::{Backend, BackendError, Result, Status, VmConfig};
use crate::state::{LockError, VmLock};

pub fn start(backend: &QemuBackend, config: &VmConfig) -> Result<()> {
    let files = Files::new(&config.state_dir);
    std::fs::create_dir_all(&files.dir).map_err(BackendError::io(format!(
        "Cannot create {}",
        files.dir.display()
    )))?;
    let mine = backend.inner().files == files && backend.inner().reaped.is_some();
    backend.inner().files = files.clone();
    if let Status::Running { pid } = backend.status() {
        return Err(match (mine, pid) {
            (true, _) => BackendError::AlreadyRunning,
            (false, pid) => BackendError::RunningElsewhere {
                pid: pid.unwrap_or(0),
            },
        });
    }
    let lock = take_lock(&files)?;

    for stale in [
        files.qemu_exit(),
        files.stop_requested(),
        files.qmp(),
        files.qemu_pid(),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    disk::ensure_disk(&config.disk, config.disk_size_bytes)?;
    let qemu = binary::find_qemu(backend.options.path_var.as_deref())?;
    let choice = accel::choose(
        &ProbeSetup {
            qemu: qemu.clone(),
            kernel: config.kernel.clone(),
            kvm_device: "/dev/kvm".into(),
            timeout: backend.options.probe_timeout,
        },
        &files,
        backend.options.accel.as_deref(),
    )?;
    if let Some(warning) = &choice.warning {
        // Visible on purpose: TCG is several times slower and the user should know why.
        eprintln!("berth: {warning}");
        tracing::warn!("{warning}");
    }
    backend.inner().accel = Some(choice.accel);

    let vsock = match backend.options.vsock {
        VsockChoice::Kernel => VsockDevice::Kernel {
            cid: berth_protocol::DEFAULT_GUEST_CID,
        },
        VsockChoice::VhostUser => VsockDevice::VhostUser,
        VsockChoice::Auto if Path::new("/dev/vhost-vsock").exists() => VsockDevice::Kernel {
            cid: berth_protocol::DEFAULT_GUEST_CID,
        },
        VsockChoice::Auto => VsockDevice::VhostUser,
    };
    // Before anything is started: a missing virtiofsd is a clear error, not a QEMU one.
    let virtiofsd = if config.shares.is_empty() {
        None
    } else {
        Some(binary::find_virtiofsd(backend.options.path_var.as_deref())?)
    };
    let device = match vsock {
        VsockDevice::VhostUser => {
            let bin = binary::find_vhost_device_vsock(backend.options.path_var.as_deref())?;
            Some(vhost::start(
                &bin,
                &files,
                berth_protocol::DEFAULT_GUEST_CID,
            )?)
        }
        VsockDevice::Kernel { .. } => {
            let _ = std::fs::remove_file(files.vhost_pid());
            let _ = std::fs::remove_file(files.hybrid_vsock());
            None
        }
    };

    let mut helpers: Vec<Child> = device.into_iter().collect();
    if let Some(virtiofsd) = virtiofsd {
        match virtiofs::start(&virtiofsd, &files, &config.shares) {
            Ok(children) => helpers.extend(children),
            Err(e) => {
                stop_helpers(&files, helpers);
                return Err(e);
            }
        }
    } else {
        virtiofs::stop(&files);
    }

    let args = qemu_args(config, choice.accel, vsock, &files);
    tracing::info!(?args, accel = ?choice.accel, reason = %choice.reason, "starting QEMU");
    let child = match spawn_qemu(&qemu, &args, &files, &lock) {
        Ok(child) => child,
        Err(e) => {
            stop_helpers(&files, helpers);
            return Err(e);
        }
    };
    let pid = child.id();
    let _ = std::fs::write(files.qemu_pid(), format!("{pid}\n"));
    let lock = Arc::new(Mutex::new(Some(lock)));
    if let Some(l) = lock.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        let _ = l.record_pid(pid);
    }
    let reaped = reap(child, helpers, files.clone(), lock.clone());
    {
        let mut inner = backend.inner();
        inner.reaped = Some(reaped.clone());
        inner.lock = lock;
    }
    wait_for_qmp(&files, &reaped, backend.options.spawn_timeout)
}

/// The VM lock, or who holds it.
fn take_lock(files: &Files) -> Result<VmLock> {
    match VmLock::acquire(&files.lock()) {
        Ok(lock) => Ok(lock),
        Err(LockError::Held { pid }) => Err(BackendError::RunningElsewhere { pid }),
        Err(LockError::HeldUnknown) => Err(BackendError::RunningElsewhere {
            pid: read_pid(&files.qemu_pid()).unwrap_or(0),
        }),
        Err(LockError::Open { path, source }) => Err(BackendError::Io {
            context: format!("Cannot open the VM lock {}", path.display()),
            source,
        }),
    }
}

fn spawn_qemu(
    qemu: &Path,
    args: &[std::ffi::OsString],
    files: &Files,
    lock: &VmLock,
) -> Result<Child> {
    let log = std::fs::File::create(files.qemu_log())
        .map_err(BackendError::io("Cannot create the QEMU log"))?;
    let log2 = log
        .try_clone()
        .map_err(BackendError::io("Cannot create the QEMU log"))?;
    let lock_fd = lock.file().as_raw_fd();
    let mut command = Command::new(qemu);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        // Its own process group: a Ctrl-C aimed at the CLI must not take the VM down.
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only calls fcntl(2),
    // which is async-signal-safe, on `lock_fd`, a descriptor the parent keeps open (it is
    // borrowed from `lock`, alive for this whole call). Clearing FD_CLOEXEC lets QEMU inherit
    // the flock, so the VM lock lives exactly as long as the VM.
    unsafe {
        command.pre_exec(move || {
            nix::fcntl::fcntl(
                lock_fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )
            .map(drop)
            .map_err(std::io::Error::from)
        });
    }
    command
        .spawn()
        .map_err(BackendError::io(format!("Cannot start {}", qemu.display())))
}

/// Ends the helpers of a boot that failed before QEMU ran.
fn stop_helpers(files: &Files, helpers: Vec<Child>) {
    for mut helper in helpers {
        let _ = helper.kill();
        let _ = helper.wait();
    }
    vhost::stop(files);
    virtiofs::stop(files);
}

/// Waits for QEMU in a thread: records how it exited, ends the vsock device and the
/// virtiofsd processes, drops the lock.
fn reap(
    mut qemu: Child,
    helpers: Vec<Child>,
    files: Files,
    lock: Arc<Mutex<Option<VmLock>>>,
) -> Arc<AtomicBool> {
    let reaped = Arc::new(AtomicBool::new(false));
    let done = reaped.clone();
    let spawned = std::thread::Builder::new()
        .name("berth-qemu-reaper".into())
        .spawn(move || {
            match qemu.wait() {
                Ok(status) => Exit::from_status(status).write(&files.qemu_exit()),
                Err(e) => tracing::warn!("cannot wait for QEMU: {e}"),
            }
            for mut helper in helpers {
                // Each exits by itself when QEMU disconnects; make sure, then reap it.
                let _ = helper.kill();
                let _ = helper.wait();
            }
            lock.lock().unwrap_or_else(|p| p.into_inner()).take();
            done.store(true, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the QEMU reaper thread: {e}");
    }
    reaped
}

/// QEMU is up once its QMP socket exists; an early exit is a failed start.
fn wait_for_qmp(files: &Files, reaped: &AtomicBool, timeout: Duration) -> Result<()> {
    let ready = wait_until(timeout, || {
        reaped.load(Ordering::SeqCst)
            || std::os::unix::net::UnixStream::connect(files.qmp()).is_ok()
    });
    if reaped.load(Ordering::SeqCst) || !ready {
        if !ready {
            if let Some(pid) = read_pid(&files.qemu_pid()) {
                let _ = std::fs::write(files.stop_requested(), b"failed start\n");
                super::process::signal(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        vhost::stop(files);
        virtiofs::stop(files);
        return Err(BackendError::Failed(format!(
            "QEMU did not start: {}",
            tail(&files.qemu_log(), 10).trim()
        )));
    }
    Ok(())
}
