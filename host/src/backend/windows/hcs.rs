//! Safe wrappers over the Host Compute System calls Berth uses: operations with a timeout,
//! compute system handles that close themselves, and the JSON documents HCS returns.

use std::time::Duration;

use windows::core::{HSTRING, PCWSTR, PWSTR};
use windows::Win32::Foundation::{LocalFree, HLOCAL};
use windows::Win32::System::HostComputeSystem::*;

use crate::backend::{BackendError, Result};

/// An HCS operation: every HCS call is asynchronous and reports through one of these.
#[derive(Debug)]
pub(super) struct Operation(HCS_OPERATION);

impl Operation {
    pub(super) fn new() -> Result<Self> {
        // SAFETY: no context and no callback: the operation is waited on synchronously.
        let op = unsafe { HcsCreateOperation(None, None) };
        if op.is_invalid() {
            return Err(BackendError::Failed("HcsCreateOperation failed".into()));
        }
        Ok(Operation(op))
    }

    pub(super) fn handle(&self) -> HCS_OPERATION {
        self.0
    }

    /// Waits for the operation; returns its result document (JSON, possibly empty).
    pub(super) fn wait(&self, what: &str, timeout: Duration) -> Result<String> {
        let mut document = PWSTR::null();
        let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        // SAFETY: `self.0` is a live operation; `document` receives a LocalAlloc'ed string
        // (or stays null) that `take_document` frees.
        let outcome = unsafe { HcsWaitForOperationResult(self.0, millis, Some(&mut document)) };
        // SAFETY: `document` is null or the string HCS just allocated for us.
        let document = unsafe { take_document(document) };
        match outcome {
            Ok(()) => Ok(document),
            Err(error) => Err(hcs_error(what, &error, &document)),
        }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        // SAFETY: the handle came from HcsCreateOperation and is closed exactly once.
        unsafe { HcsCloseOperation(self.0) }
    }
}

/// An open compute system (our VM).
#[derive(Debug)]
pub(super) struct System(HCS_SYSTEM);

// SAFETY: HCS handles are kernel-object-like handles usable from any thread; the HCS API
// serializes operations on one compute system itself.
unsafe impl Send for System {}
// SAFETY: as above: every method takes the handle by value and HCS synchronizes internally.
unsafe impl Sync for System {}

impl System {
    /// Creates the compute system from its JSON document and waits for HCS to accept it.
    pub(super) fn create(id: &str, document: &str, timeout: Duration) -> Result<Self> {
        let op = Operation::new()?;
        // SAFETY: both strings are valid NUL-terminated wide strings for the call's duration;
        // no security descriptor means HCS's default.
        let system = unsafe {
            HcsCreateComputeSystem(
                &HSTRING::from(id),
                &HSTRING::from(document),
                op.handle(),
                None,
            )
        }
        .map_err(|e| hcs_error("Creating the Hyper-V VM", &e, ""))?;
        let system = System(system);
        op.wait("Creating the Hyper-V VM", timeout)?;
        Ok(system)
    }

    pub(super) fn start(&self, timeout: Duration) -> Result<()> {
        let op = Operation::new()?;
        // SAFETY: a live system handle and operation; null options.
        unsafe { HcsStartComputeSystem(self.0, op.handle(), PCWSTR::null()) }
            .map_err(|e| hcs_error("Starting the Hyper-V VM", &e, ""))?;
        op.wait("Starting the Hyper-V VM", timeout).map(drop)
    }

    /// Asks the guest to shut down (through the Hyper-V shutdown integration service).
    pub(super) fn shut_down(&self, timeout: Duration) -> Result<()> {
        let op = Operation::new()?;
        // SAFETY: a live system handle and operation; null options.
        unsafe { HcsShutDownComputeSystem(self.0, op.handle(), PCWSTR::null()) }
            .map_err(|e| hcs_error("Shutting the Hyper-V VM down", &e, ""))?;
        op.wait("Shutting the Hyper-V VM down", timeout).map(drop)
    }

    pub(super) fn terminate(&self, timeout: Duration) -> Result<()> {
        let op = Operation::new()?;
        // SAFETY: a live system handle and operation; null options.
        unsafe { HcsTerminateComputeSystem(self.0, op.handle(), PCWSTR::null()) }
            .map_err(|e| hcs_error("Terminating the Hyper-V VM", &e, ""))?;
        op.wait("Terminating the Hyper-V VM", timeout).map(drop)
    }

    /// The system's properties document (`State`, `RuntimeId`, `Stopped`, `ExitType`, ...).
    pub(super) fn properties(&self, timeout: Duration) -> Result<serde_json::Value> {
        let op = Operation::new()?;
        // SAFETY: a live system handle and operation; a null query asks for the defaults.
        unsafe { HcsGetComputeSystemProperties(self.0, op.handle(), PCWSTR::null()) }
            .map_err(|e| hcs_error("Querying the Hyper-V VM", &e, ""))?;
        let document = op.wait("Querying the Hyper-V VM", timeout)?;
        serde_json::from_str(&document)
            .map_err(|e| BackendError::Failed(format!("HCS returned unreadable properties: {e}")))
    }
}

impl Drop for System {
    fn drop(&mut self) {
        // SAFETY: the handle came from HcsCreateComputeSystem and is closed exactly once.
        // The document sets ShouldTerminateOnLastHandleClosed, so this also ends the VM.
        unsafe { HcsCloseComputeSystem(self.0) }
    }
}

/// Lets the VM's worker process open `path` (kernel, initrd, disk): Hyper-V VMs run under
/// their own SID and cannot read the user's files otherwise.
pub(super) fn grant_vm_access(vm_id: &str, path: &std::path::Path) -> Result<()> {
    // SAFETY: two valid NUL-terminated wide strings for the call's duration.
    unsafe { HcsGrantVmAccess(&HSTRING::from(vm_id), &HSTRING::from(path.as_os_str())) }.map_err(
        |e| {
            hcs_error(
                &format!("Granting the VM access to {}", path.display()),
                &e,
                "",
            )
        },
    )
}

/// Copies and frees a string HCS or HCN allocated for us.
///
/// # Safety
/// `document` must be null or a NUL-terminated string allocated with LocalAlloc that nothing
/// else frees.
pub(super) unsafe fn take_document(document: PWSTR) -> String {
    if document.is_null() {
        return String::new();
    }
    // SAFETY: per the contract, a valid NUL-terminated wide string.
    let text = unsafe { document.to_string() }.unwrap_or_default();
    // SAFETY: per the contract, LocalAlloc'ed and freed only here.
    unsafe { LocalFree(Some(HLOCAL(document.0.cast()))) };
    text
}

pub(super) fn hcs_error(what: &str, error: &windows::core::Error, document: &str) -> BackendError {
    let detail = if document.is_empty() {
        String::new()
    } else {
        format!(" ({document})")
    };
    BackendError::Failed(format!("{what} failed: {error}{detail}"))
}
