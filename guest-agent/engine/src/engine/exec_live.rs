//! `exec` with a terminal the caller keeps: the pty master is handed over while the process
//! runs, so an API server can proxy it on its own connection and resize it live (docker's
//! `POST /exec/{id}/resize`), which [`super::exec_tty`]'s built-in proxy cannot.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};

use berth_runtime::{Container, ExecOptions};
use oci_spec::runtime::BoxBuilder;

use super::exec::{build_process, run_forked, validate, ExecConfig, ExecError, ExecStdio};
use super::exec_tty::recv_fd;
use super::{Engine, EngineError};
use crate::container::lifecycle::LifecycleError;
use crate::container::prepare::bundle_dir;

impl Engine {
    /// Runs `config` with a pty in the running container `reference`; `on_terminal` gets the
    /// pty master as soon as the process has it (not at all when the exec fails first). The
    /// caller reads and writes the master and may resize it with
    /// [`super::set_window_size`]. Blocks until the process exits; its exit code.
    pub fn exec_with_terminal(
        &self,
        reference: &str,
        config: &ExecConfig,
        on_terminal: impl FnOnce(OwnedFd) + Send + 'static,
    ) -> Result<i32, ExecError> {
        let io = |action| move |e| ExecError::Sys(action, e);
        let config = ExecConfig {
            tty: true,
            ..config.clone()
        };
        validate(&config)?;
        let record = self.running(reference)?;
        let dir = self.inner.containers.container_dir(&record.id);
        let mut process = build_process(&bundle_dir(&dir), &config)?;
        if let Some((rows, cols)) = config.console_size.filter(|(r, c)| *r > 0 && *c > 0) {
            let console = BoxBuilder::default()
                .height(u64::from(rows))
                .width(u64::from(cols))
                .build()
                .map_err(|e| ExecError::Invalid(format!("bad terminal size: {e}")))?;
            process.set_console_size(Some(console));
        }
        let container = Container::load(&self.inner.runtime_root, &record.id)
            .map_err(|e| EngineError::from(LifecycleError::from(e)))?;
        // A short path: Unix socket addresses hold 108 bytes.
        let tmp = tempfile::Builder::new()
            .prefix("berth-exec")
            .tempdir_in("/tmp")
            .map_err(io("create the console socket's directory"))?;
        let path = tmp.path().join("c.sock");
        let listener = UnixListener::bind(&path).map_err(io("listen on the console socket"))?;
        let receiver = std::thread::Builder::new()
            .name("exec-console".into())
            .spawn(move || {
                if let Ok((conn, _)) = listener.accept() {
                    if let Ok(master) = recv_fd(conn.as_raw_fd()) {
                        on_terminal(master);
                    }
                }
            })
            .map_err(io("start the console receiver"))?;
        let options = ExecOptions {
            process,
            console_socket: Some(path.clone()),
            pid_file: None,
            detach: false,
            preserve_fds: 0,
        };
        let code = run_forked(&container, options, ExecStdio::Inherit);
        // A process that never ran sent no console: wake the receiver still in accept (it
        // then finds no descriptor and ends).
        let _ = UnixStream::connect(&path);
        let _ = receiver.join();
        code
    }
}
