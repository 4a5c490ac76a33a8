//! vsock to a Virtualization.framework guest: `VZVirtioSocketDevice`'s
//! `connectToPort:completionHandler:` hands back a `VZVirtioSocketConnection` whose file
//! descriptor is a connected stream socket. We dup it (the connection closes its own copy when
//! released) and drive it as a tokio `UnixStream`, which only needs a non-blocking stream fd.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use block2::RcBlock;
use objc2_foundation::NSError;
use objc2_virtualization::{VZVirtioSocketConnection, VZVirtioSocketDevice};

use super::{BoxStream, ConnectFuture, Transport};
use crate::backend::macos::{OnQueue, VmHandle};

/// The framework calls the completion handler on refusal too, but not always promptly:
/// bound the wait so a caller polling for boot gets an error rather than a hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections to one running VZ guest.
#[derive(Debug)]
pub struct VzTransport {
    vm: Arc<VmHandle>,
}

impl VzTransport {
    pub(crate) fn new(vm: Arc<VmHandle>) -> Self {
        VzTransport { vm }
    }

    /// Starts the connection on the VM's queue; the result arrives on `done`.
    fn begin(&self, port: u32, done: tokio::sync::oneshot::Sender<io::Result<OwnedFd>>) {
        // The block must be `Fn`; the sender is taken on its single call.
        let done = Mutex::new(Some(done));
        let block = OnQueue::new(RcBlock::new(
            move |connection: *mut VZVirtioSocketConnection, error: *mut NSError| {
                // SAFETY: the framework passes nil or valid objects that outlive this call.
                let (connection, error) = unsafe { (connection.as_ref(), error.as_ref()) };
                let outcome = match (connection, error) {
                    (Some(connection), None) => dup_fd(connection),
                    (_, Some(error)) => Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!("vsock port {port}: {}", error.localizedDescription()),
                    )),
                    (None, None) => Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!("vsock port {port}: no connection and no error"),
                    )),
                };
                if let Some(done) = done.lock().ok().and_then(|mut d| d.take()) {
                    let _ = done.send(outcome);
                }
            },
        ));
        let outcome = self.vm.with_vm(|machine| {
            // SAFETY: `with_vm` runs this on the VM's queue, where the framework requires
            // socket devices to be used; the array holds socket devices by construction.
            unsafe {
                let devices = machine.socketDevices();
                let Some(device) = devices.firstObject() else {
                    return Err("the VM has no vsock device");
                };
                let Ok(device) = device.downcast::<VZVirtioSocketDevice>() else {
                    return Err("the VM's socket device is not a virtio one");
                };
                device.connectToPort_completionHandler(port, block.get());
                Ok(())
            }
        });
        if let Err(reason) = outcome {
            tracing::error!(reason, "cannot open a vsock connection");
        }
    }
}

/// Duplicates the connection's descriptor so it outlives the connection object.
fn dup_fd(connection: &VZVirtioSocketConnection) -> io::Result<OwnedFd> {
    // SAFETY: a property read on a connection the framework just handed us.
    let fd = unsafe { connection.fileDescriptor() };
    if fd < 0 {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the vsock connection has no descriptor",
        ));
    }
    // SAFETY: `fd` is open for as long as `connection` is alive, which spans this call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned()
}

impl Transport for VzTransport {
    fn connect(&self, port: u32) -> ConnectFuture<'_> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        self.begin(port, done_tx);
        Box::pin(async move {
            let fd = match tokio::time::timeout(CONNECT_TIMEOUT, done_rx).await {
                Ok(Ok(outcome)) => outcome?,
                Ok(Err(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!("vsock port {port}: the VM has no usable vsock device"),
                    ))
                }
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("vsock port {port}: no answer within {CONNECT_TIMEOUT:?}"),
                    ))
                }
            };
            let stream = std::os::unix::net::UnixStream::from(fd);
            stream.set_nonblocking(true)?;
            let stream: BoxStream = Box::new(tokio::net::UnixStream::from_std(stream)?);
            Ok(stream)
        })
    }
}
