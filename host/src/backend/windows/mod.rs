//! The Windows backend: a Hyper-V utility VM created through the Host Compute System API
//! (`computecore.dll`), the same layer Docker's LCOW, containerd's hcsshim and WSL2 build on.
//!
//! The kernel and initramfs boot directly (`LinuxKernelDirect`, Windows 10 1903 / build 18362
//! and later); the data disk is a VHDX; the NIC sits on the Hyper-V NAT network; vsock is
//! Hyper-V sockets. Needs the Hyper-V feature and an elevated (administrator) process.

mod document;
mod hcs;
mod network;
mod vhdx;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use windows::core::GUID;

use super::{Backend, BackendError, Result, Status, VmConfig};
use crate::transport::windows::HvSocketTransport;
use crate::transport::Transport;
use hcs::System;
use network::Endpoint;

/// How long HCS may take to create or start the VM.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a hard stop or a property query may take.
const QUICK_TIMEOUT: Duration = Duration::from_secs(15);
/// The console log's tail carried by [`Status::Crashed`].
const CONSOLE_TAIL_BYTES: u64 = 4096;

/// One HCS VM.
#[derive(Debug)]
pub struct HcsBackend {
    console_log: Mutex<PathBuf>,
    running: Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    /// Declared before `endpoint`: the VM is closed (and so terminated) before its NIC's
    /// endpoint is deleted.
    system: Arc<System>,
    _endpoint: Endpoint,
    /// The VM's runtime GUID: the address hvsock connects to.
    runtime_id: GUID,
    /// Set by stop/kill so a stopped VM is not reported as crashed.
    stop_requested: bool,
}

impl HcsBackend {
    /// A backend whose console log goes to `state_dir/console.log` until `start` is given
    /// another state directory.
    pub fn new(state_dir: PathBuf) -> Self {
        HcsBackend {
            console_log: Mutex::new(state_dir.join("console.log")),
            running: Mutex::new(None),
        }
    }

    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The system of a VM HCS reports as running, if there is one.
    fn live_system(&self) -> Result<Arc<System>> {
        let running = self.running();
        match running.as_ref() {
            Some(vm) if is_running(&vm.system) => Ok(vm.system.clone()),
            _ => Err(BackendError::NotRunning),
        }
    }

    fn mark_stop_requested(&self) {
        if let Some(vm) = self.running().as_mut() {
            vm.stop_requested = true;
        }
    }
}

fn state_of(system: &System) -> Option<String> {
    let properties = system.properties(QUICK_TIMEOUT).ok()?;
    properties["State"].as_str().map(str::to_string)
}

fn is_running(system: &System) -> bool {
    matches!(
        state_of(system).as_deref(),
        Some("Created" | "Running" | "Paused" | "Saved")
    )
}

fn require_file(path: &Path, what: &str) -> Result<PathBuf> {
    path.canonicalize().map_err(|_| BackendError::Missing {
        what: format!("{what} ({})", path.display()),
        hint: "build it with vm-image/".into(),
    })
}

impl Backend for HcsBackend {
    fn name(&self) -> String {
        "hcs".into()
    }

    fn start(&self, config: &VmConfig) -> Result<()> {
        let mut running = self.running();
        if let Some(vm) = running.as_ref() {
            if is_running(&vm.system) {
                return Err(BackendError::AlreadyRunning);
            }
        }
        // Drop a stopped VM (and its endpoint) before making the next one.
        *running = None;

        let kernel = require_file(&config.kernel, "The guest kernel")?;
        let initrd = require_file(&config.initrd, "The guest initramfs")?;
        std::fs::create_dir_all(&config.state_dir).map_err(BackendError::io(format!(
            "Creating {}",
            config.state_dir.display()
        )))?;
        let disk = vhdx::vhdx_path(&config.disk);
        vhdx::ensure_vhdx(&disk, config.disk_size_bytes)?;
        let console = config.state_dir.join("console.log");
        *self
            .console_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = console.clone();

        // HCS wants a GUID-shaped id for a VM whose files it grants access to.
        let id =
            GUID::new().map_err(|e| BackendError::Failed(format!("Making a VM id failed: {e}")))?;
        let id = format!("{id:?}");
        for path in [&kernel, &initrd, &disk] {
            hcs::grant_vm_access(&id, path)?;
        }
        let endpoint = Endpoint::create()?;
        let console_pipe = format!(r"\\.\pipe\berth-{id}-console");
        let boot_config = VmConfig {
            kernel,
            initrd,
            ..config.clone()
        };
        let document = document::build(&document::Parts {
            config: &boot_config,
            disk: &disk,
            console_pipe: &console_pipe,
            endpoint_id: &format!("{:?}", endpoint.id),
            mac: &endpoint.mac,
        });
        let system = System::create(&id, &document.to_string(), START_TIMEOUT)?;
        system.start(START_TIMEOUT)?;
        let properties = system.properties(QUICK_TIMEOUT)?;
        let runtime_id = properties["RuntimeId"]
            .as_str()
            .and_then(|s| GUID::try_from(s.trim_matches(|c| c == '{' || c == '}')).ok())
            .ok_or_else(|| {
                BackendError::Failed(format!(
                    "HCS reported no RuntimeId for the VM: {properties}"
                ))
            })?;
        copy_console(console_pipe, console);
        *running = Some(Running {
            system: Arc::new(system),
            _endpoint: endpoint,
            runtime_id,
            stop_requested: false,
        });
        Ok(())
    }

    fn stop(&self, timeout: Duration) -> Result<()> {
        let system = self.live_system()?;
        self.mark_stop_requested();
        // HcsShutDownComputeSystem goes through the guest's Hyper-V shutdown integration
        // service (hv_utils); a guest without it refuses, and we terminate instead.
        let deadline = Instant::now() + timeout;
        if let Err(error) = system.shut_down(timeout) {
            tracing::warn!(%error, "the guest did not shut down; terminating the VM");
            return self.kill();
        }
        while Instant::now() < deadline {
            if !is_running(&system) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill()
    }

    fn kill(&self) -> Result<()> {
        let system = self.live_system()?;
        self.mark_stop_requested();
        system.terminate(QUICK_TIMEOUT)
    }

    fn status(&self) -> Status {
        let running = self.running();
        let Some(vm) = running.as_ref() else {
            return Status::Stopped;
        };
        let properties = vm.system.properties(QUICK_TIMEOUT);
        let state = properties
            .as_ref()
            .ok()
            .and_then(|p| p["State"].as_str().map(str::to_string));
        match state.as_deref() {
            Some("Created" | "Running" | "Paused" | "Saved") => Status::Running { pid: None },
            _ if vm.stop_requested => Status::Stopped,
            _ => {
                let reason = match &properties {
                    Ok(p) => format!(
                        "the VM stopped on its own (state {}, exit type {})",
                        p["State"].as_str().unwrap_or("unknown"),
                        p["ExitType"].as_str().unwrap_or("unknown"),
                    ),
                    Err(error) => format!("HCS lost the VM: {error}"),
                };
                Status::Crashed {
                    reason,
                    console_tail: console_tail(&self.console_log()),
                }
            }
        }
    }

    fn transport(&self) -> Result<Arc<dyn Transport>> {
        let running = self.running();
        match running.as_ref() {
            Some(vm) if is_running(&vm.system) => {
                Ok(Arc::new(HvSocketTransport::new(vm.runtime_id)))
            }
            _ => Err(BackendError::NotRunning),
        }
    }

    fn console_log(&self) -> PathBuf {
        self.console_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Copies COM1 into the console log. Hyper-V's VM worker serves the COM port's named pipe;
/// we connect as a client once it exists and copy until the VM closes it.
fn copy_console(pipe: String, log: PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("berth-console".into())
        .spawn(move || {
            let mut source = None;
            for _ in 0..100 {
                match std::fs::File::open(&pipe) {
                    Ok(file) => {
                        source = Some(file);
                        break;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
            let Some(mut source) = source else {
                tracing::warn!(pipe, "could not open the VM's console pipe");
                return;
            };
            let sink = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log);
            match sink {
                Ok(mut sink) => {
                    let _ = std::io::copy(&mut source, &mut sink);
                }
                Err(error) => tracing::warn!(%error, log = %log.display(), "no console log"),
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start the console copier");
    }
}

fn console_tail(path: &Path) -> String {
    use std::io::{Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(CONSOLE_TAIL_BYTES)));
    let mut tail = Vec::new();
    let _ = file.read_to_end(&mut tail);
    String::from_utf8_lossy(&tail).into_owned()
}
