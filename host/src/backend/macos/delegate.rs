//! The VM's delegate: how the framework tells us the guest stopped, or the VM died.

use std::sync::{Arc, Mutex, PoisonError};

use objc2::rc::Retained;
use objc2::{define_class, msg_send, AllocAnyThread, DefinedClass};
use objc2_foundation::{NSError, NSObject, NSObjectProtocol};
use objc2_virtualization::{VZVirtualMachine, VZVirtualMachineDelegate};

/// What the delegate saw, read by `Backend::status`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observed {
    /// The guest powered itself off.
    pub guest_stopped: bool,
    /// The framework stopped the VM because of this error.
    pub error: Option<String>,
}

pub(crate) struct Ivars {
    observed: Arc<Mutex<Observed>>,
}

define_class!(
    // SAFETY: NSObject has no subclassing requirements and `VmDelegate` does not implement
    // Drop. The methods below match the protocol's selectors and signatures.
    #[unsafe(super(NSObject))]
    #[name = "BerthVmDelegate"]
    #[ivars = Ivars]
    pub(crate) struct VmDelegate;

    unsafe impl NSObjectProtocol for VmDelegate {}

    unsafe impl VZVirtualMachineDelegate for VmDelegate {
        #[unsafe(method(guestDidStopVirtualMachine:))]
        fn guest_did_stop(&self, _machine: &VZVirtualMachine) {
            tracing::info!("the guest powered the VM off");
            self.observed().guest_stopped = true;
        }

        #[unsafe(method(virtualMachine:didStopWithError:))]
        fn did_stop_with_error(&self, _machine: &VZVirtualMachine, error: &NSError) {
            let reason = error.localizedDescription().to_string();
            tracing::warn!(%reason, "Virtualization.framework stopped the VM");
            self.observed().error = Some(reason);
        }
    }
);

impl VmDelegate {
    pub(crate) fn new(observed: Arc<Mutex<Observed>>) -> Retained<Self> {
        let this = Self::alloc().set_ivars(Ivars { observed });
        // SAFETY: NSObject's `init` on a freshly allocated object whose ivars are set.
        unsafe { msg_send![super(this), init] }
    }

    fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        self.ivars()
            .observed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
