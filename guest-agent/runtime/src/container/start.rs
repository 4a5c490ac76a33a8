//! `start`: open the exec fifo for reading, which releases the init blocked on it, and wait
//! for its byte; an init that died meanwhile is reported instead of waited for forever.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::Container;
use crate::error::{Context, Result, RuntimeError};
use crate::state::{Status, EXEC_FIFO};

impl Container {
    pub fn start(&mut self) -> Result<()> {
        self.require(&[Status::Created], "start", "created")?;
        let fifo_path = self.dir().join(EXEC_FIFO);
        let mut fifo = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&fifo_path)
            .context(|| format!("Cannot open exec fifo {}", fifo_path.display()))?;
        loop {
            let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(100u16)) {
                Ok(0) | Err(nix::Error::EINTR) => {}
                Ok(_) => {
                    let mut byte = [0u8; 1];
                    match fifo.read(&mut byte) {
                        Ok(1) => break,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e).context(|| "Cannot read the exec fifo".into()),
                    }
                }
                Err(e) => return Err(e).context(|| "Cannot wait on the exec fifo".into()),
            }
            if !self.state.init_alive() {
                return Err(RuntimeError::Setup(format!(
                    "Container {} exited before it was started",
                    self.state.id
                )));
            }
        }
        let _ = std::fs::remove_file(&fifo_path);
        self.state.status = Status::Running;
        self.state.save(&self.root)?;
        let hooks = self
            .bundle()
            .ok()
            .and_then(|b| b.spec.hooks().clone())
            .unwrap_or_default();
        // The process is already running: a failing poststart hook is reported, not fatal.
        if let Err(e) = crate::hooks::run_all(
            hooks.poststart().as_ref(),
            &self.state.to_oci_json().to_string(),
        ) {
            tracing::warn!("{}", crate::error::chain(&e));
        }
        Ok(())
    }
}
