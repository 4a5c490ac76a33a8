//! The macOS backend: Apple's Virtualization.framework, driven through `objc2-virtualization`.
//!
//! The VM lives inside this process (the framework runs it in an XPC service it owns), so there
//! is no VMM pid and no socket files: the [`VzBackend`] holds the `VZVirtualMachine` and the
//! serial dispatch queue every call on it must go through. Works on Apple Silicon and Intel
//! Macs alike (the guest kernel must match the host architecture). The process needs the
//! `com.apple.security.virtualization` entitlement.

mod config;
mod delegate;
mod queue;

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use block2::RcBlock;
use dispatch2::DispatchQueue;
use objc2::rc::Retained;
use objc2::runtime::ProtocolObject;
use objc2::AllocAnyThread;
use objc2_foundation::NSError;
use objc2_virtualization::{VZVirtualMachine, VZVirtualMachineState};

use super::{Backend, BackendError, Result, Status, VmConfig};
use crate::transport::macos::VzTransport;
use crate::transport::Transport;
use delegate::{Observed, VmDelegate};
pub(crate) use queue::{OnQueue, VmHandle};

/// How long `start` waits for the framework's completion handler.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `kill` waits for the framework to confirm a hard stop.
const KILL_TIMEOUT: Duration = Duration::from_secs(15);
/// The console log's tail carried by [`Status::Crashed`].
const CONSOLE_TAIL_BYTES: u64 = 4096;

/// One Virtualization.framework VM.
#[derive(Debug)]
pub struct VzBackend {
    console_log: Mutex<PathBuf>,
    running: Mutex<Option<Running>>,
}

/// What exists while a VM object exists (running, or stopped and kept for its status).
#[derive(Debug)]
struct Running {
    vm: Arc<VmHandle>,
    /// Kept alive here: `VZVirtualMachine.delegate` is a weak reference.
    _delegate: OnQueue<Retained<VmDelegate>>,
    observed: Arc<Mutex<Observed>>,
}

impl VzBackend {
    /// A backend whose console log goes to `state_dir/console.log` until `start` is given
    /// another state directory.
    pub fn new(state_dir: PathBuf) -> Self {
        VzBackend {
            console_log: Mutex::new(state_dir.join("console.log")),
            running: Mutex::new(None),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn describe(error: &NSError) -> String {
    error.localizedDescription().to_string()
}

/// Runs `call` on the VM's queue, handing it a completion block, and waits for the block.
fn call_with_completion(
    vm: &VmHandle,
    timeout: Duration,
    what: &str,
    call: impl FnOnce(&VZVirtualMachine, &block2::DynBlock<dyn Fn(*mut NSError)>) + Send,
) -> Result<()> {
    let (done_tx, done_rx) = mpsc::channel::<std::result::Result<(), String>>();
    let block = OnQueue::new(RcBlock::new(move |error: *mut NSError| {
        // SAFETY: the framework passes either nil or a valid NSError that outlives this call.
        let outcome = match unsafe { error.as_ref() } {
            Some(error) => Err(describe(error)),
            None => Ok(()),
        };
        // The waiter may have given up (timeout): nobody to tell then.
        let _ = done_tx.send(outcome);
    }));
    vm.with_vm(|machine| call(machine, block.get()));
    match done_rx.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(reason)) => Err(BackendError::Failed(format!("{what} failed: {reason}"))),
        Err(_) => Err(BackendError::Failed(format!(
            "{what} did not complete within {}s",
            timeout.as_secs()
        ))),
    }
}

impl Backend for VzBackend {
    fn name(&self) -> String {
        "vz".into()
    }

    fn start(&self, config: &VmConfig) -> Result<()> {
        let mut running = self.running();
        if let Some(existing) = running.as_ref() {
            if is_active(existing.vm.state()) {
                return Err(BackendError::AlreadyRunning);
            }
        }
        // SAFETY: a class method without arguments or threading requirements.
        if !unsafe { VZVirtualMachine::isSupported() } {
            return Err(BackendError::Failed(
                "Virtualization.framework is not supported on this Mac (macOS 11 or later with \
                 hardware virtualization is required)"
                    .into(),
            ));
        }
        std::fs::create_dir_all(&config.state_dir).map_err(BackendError::io(format!(
            "Creating {}",
            config.state_dir.display()
        )))?;
        let console = config.state_dir.join("console.log");
        *self
            .console_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = console.clone();

        let vz_config = config::build(config, &console)?;
        let queue = DispatchQueue::new("dev.berth.vm", None);
        let observed = Arc::new(Mutex::new(Observed::default()));
        let delegate = OnQueue::new(VmDelegate::new(observed.clone()));
        let machine = {
            let mut created = None;
            queue.exec_sync(|| {
                // SAFETY: we are on `queue`, the serial queue the VM is bound to; the
                // configuration was validated by `config::build` and is copied by the
                // initializer; the delegate is kept alive in `Running` for the VM's lifetime.
                let machine = unsafe {
                    let machine = VZVirtualMachine::initWithConfiguration_queue(
                        VZVirtualMachine::alloc(),
                        vz_config.get(),
                        &queue,
                    );
                    machine.setDelegate(Some(ProtocolObject::from_ref(&**delegate.get())));
                    machine
                };
                created = Some(OnQueue::new(machine));
            });
            created.ok_or_else(|| BackendError::Failed("Creating the VM failed".into()))?
        };
        let vm = Arc::new(VmHandle::new(queue, machine));
        call_with_completion(&vm, START_TIMEOUT, "Starting the VM", |machine, done| {
            // SAFETY: `with_vm` runs this on the VM's queue; `done` is a completion handler
            // of the signature the method documents.
            unsafe { machine.startWithCompletionHandler(done) }
        })?;
        *running = Some(Running {
            vm,
            _delegate: delegate,
            observed,
        });
        Ok(())
    }

    fn stop(&self, timeout: Duration) -> Result<()> {
        let vm = match self.running().as_ref() {
            Some(running) if is_active(running.vm.state()) => running.vm.clone(),
            _ => return Err(BackendError::NotRunning),
        };
        // requestStop is the ACPI power button: the guest's init sees it and powers off.
        let asked = vm.with_vm(|machine| {
            // SAFETY: `with_vm` runs this on the VM's queue, as the framework requires.
            unsafe {
                if machine.canRequestStop() {
                    machine.requestStopWithError().map_err(|e| describe(&e))
                } else {
                    Err("the VM cannot take a stop request in its current state".into())
                }
            }
        });
        if let Err(reason) = asked {
            tracing::warn!(%reason, "asking the guest to power off failed; stopping it hard");
            return self.kill();
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !is_active(vm.state()) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        tracing::warn!(
            ?timeout,
            "the guest did not power off in time; stopping it hard"
        );
        self.kill()
    }

    fn kill(&self) -> Result<()> {
        let vm = match self.running().as_ref() {
            Some(running) if is_active(running.vm.state()) => running.vm.clone(),
            _ => return Err(BackendError::NotRunning),
        };
        call_with_completion(&vm, KILL_TIMEOUT, "Stopping the VM", |machine, done| {
            // SAFETY: `with_vm` runs this on the VM's queue; `done` is a completion handler
            // of the signature the method documents.
            unsafe { machine.stopWithCompletionHandler(done) }
        })
    }

    fn status(&self) -> Status {
        let running = self.running();
        let Some(running) = running.as_ref() else {
            return Status::Stopped;
        };
        let state = running.vm.state();
        if is_active(state) {
            return Status::Running { pid: None };
        }
        let observed = running
            .observed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match (state, observed.error) {
            (_, Some(reason)) => self.crashed(reason),
            (VZVirtualMachineState::Error, None) => {
                self.crashed("Virtualization.framework put the VM in its error state".into())
            }
            _ => Status::Stopped,
        }
    }

    fn transport(&self) -> Result<Arc<dyn Transport>> {
        match self.running().as_ref() {
            Some(running) if is_active(running.vm.state()) => {
                Ok(Arc::new(VzTransport::new(running.vm.clone())))
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

impl VzBackend {
    fn crashed(&self, reason: String) -> Status {
        Status::Crashed {
            reason,
            console_tail: console_tail(&self.console_log()),
        }
    }
}

/// Whether the framework counts the VM as existing (anything but stopped or failed).
fn is_active(state: VZVirtualMachineState) -> bool {
    !matches!(
        state,
        VZVirtualMachineState::Stopped | VZVirtualMachineState::Error
    )
}

fn console_tail(path: &std::path::Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(CONSOLE_TAIL_BYTES)));
    let mut tail = Vec::new();
    let _ = file.read_to_end(&mut tail);
    String::from_utf8_lossy(&tail).into_owned()
}
