//! Objective-C objects that may only be touched on the VM's serial dispatch queue, and the
//! handle that owns that queue.
//!
//! `objc2` marks framework objects `!Send`/`!Sync` because Objective-C makes no promise about
//! them. Virtualization.framework does: a `VZVirtualMachine` created with
//! `initWithConfiguration:queue:` may be used from any thread as long as every call runs on
//! that queue. [`VmHandle::with_vm`] is the only way to reach the machine, and it always goes
//! through the queue.

use dispatch2::{DispatchQueue, DispatchRetained};
use objc2::rc::Retained;
use objc2_virtualization::{VZVirtualMachine, VZVirtualMachineState};

/// An Objective-C object moved between threads. Whoever builds one promises that the object
/// is either used on the VM's queue only, or not used concurrently at all (configuration
/// objects built on one thread and handed to the queue once; blocks only invoked by the
/// framework).
///
/// Reach the object through [`OnQueue::get`], never the field, inside closures: a closure that
/// names the field captures only the (non-`Send`) field, not this wrapper.
pub(crate) struct OnQueue<T>(T);

impl<T> OnQueue<T> {
    pub(crate) fn new(object: T) -> Self {
        OnQueue(object)
    }

    pub(crate) fn get(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for OnQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnQueue(..)")
    }
}

// SAFETY: see the type's documentation: the wrapped object is only used on the VM's serial
// queue, or handed over once without concurrent use; retain/release are thread-safe.
unsafe impl<T> Send for OnQueue<T> {}
// SAFETY: as above: shared references are only dereferenced on the VM's serial queue.
unsafe impl<T> Sync for OnQueue<T> {}

/// A running (or stopped) `VZVirtualMachine` with its queue.
pub(crate) struct VmHandle {
    queue: DispatchRetained<DispatchQueue>,
    machine: OnQueue<Retained<VZVirtualMachine>>,
}

impl std::fmt::Debug for VmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VmHandle").finish_non_exhaustive()
    }
}

impl VmHandle {
    pub(crate) fn new(
        queue: DispatchRetained<DispatchQueue>,
        machine: OnQueue<Retained<VZVirtualMachine>>,
    ) -> Self {
        VmHandle { queue, machine }
    }

    /// Runs `f` on the VM's queue and waits for it. Never call it from that queue (it would
    /// deadlock); completion handlers therefore only send results over channels.
    pub(crate) fn with_vm<R: Send>(&self, f: impl FnOnce(&VZVirtualMachine) -> R + Send) -> R {
        let mut result = None;
        self.queue
            .exec_sync(|| result = Some(f(self.machine.get())));
        result.expect("dispatch_sync runs its block before returning")
    }

    pub(crate) fn state(&self) -> VZVirtualMachineState {
        // SAFETY: `with_vm` runs this on the VM's queue, as the framework requires.
        self.with_vm(|machine| unsafe { machine.state() })
    }
}
