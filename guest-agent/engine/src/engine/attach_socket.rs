//! The container's attach socket as a plain connection, for an API server that runs its
//! own (async) copy loops: it frames, filters and watches for detach keys itself, and may
//! connect before the container is started (`docker run` attaches first, then starts).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;

use super::attach::AttachError;
use super::{Engine, EngineError};
use crate::container::lifecycle::LifecycleError;
use crate::monitor::ATTACH_SOCKET;

impl Engine {
    /// A connection to the monitor of container `reference`, or `None` while no monitor
    /// listens (the container is not started yet, or has ended). Output arrives from the
    /// moment of connecting: Docker frames without a tty, raw bytes with one. Takes no lock,
    /// so a caller may poll it while a start goes on.
    pub fn attach_socket(&self, reference: &str) -> Result<Option<UnixStream>, AttachError> {
        let record = self
            .inner
            .containers
            .get(reference)
            .map_err(|e| EngineError::from(LifecycleError::from(e)))?;
        let dir = self.inner.containers.container_dir(&record.id);
        // Through /proc/self/fd: socket addresses hold 108 bytes, engine roots can be deeper.
        let handle = File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&dir)
            .map_err(AttachError::Connect)?;
        let path = format!("/proc/self/fd/{}/{ATTACH_SOCKET}", handle.as_raw_fd());
        match UnixStream::connect(path) {
            Ok(stream) => Ok(Some(stream)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(AttachError::Connect(e)),
        }
    }
}
