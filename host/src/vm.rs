//! A VM as the CLI and the GUI see it: a [`Backend`], the [`VmConfig`] it boots and the
//! [`AgentClient`] that talks to the guest. "Started" means the agent answered hello, not
//! merely that the VMM runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_protocol::halfclose::HalfClose;
use berth_protocol::{Hello, DOCKER_API_PORT};

use crate::agent::{AgentClient, AgentError};
use crate::backend::{Backend, BackendError, Status, VmConfig};
use crate::transport::BoxStream;

#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("The VM crashed while booting: {reason}\n--- console ---\n{console_tail}")]
    CrashedAtBoot {
        reason: String,
        console_tail: String,
    },
    #[error("The VM stopped before its agent answered\n--- console ---\n{console_tail}")]
    StoppedAtBoot { console_tail: String },
    #[error("The agent did not answer within {timeout:?} (last error: {last})")]
    NotReady { timeout: Duration, last: String },
}

pub type Result<T> = std::result::Result<T, VmError>;

/// What [`Vm::start`] is doing, for a progress bar or log.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The VMM is starting (with the backend's name: `qemu-tcg`, ...).
    Booting {
        backend: String,
    },
    /// The VMM runs; the agent has not answered yet.
    WaitingForAgent {
        elapsed: Duration,
    },
    Ready {
        hello: Hello,
        elapsed: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct Timeouts {
    /// From VMM start to the agent's hello. Generous: TCG boots take several seconds.
    pub ready: Duration,
    /// For the agent's shutdown (containers stopped, disk synced) and the power-off.
    pub stop: Duration,
    /// What the agent gives each container between SIGTERM and SIGKILL.
    pub container_stop_secs: u32,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            ready: Duration::from_secs(60),
            stop: Duration::from_secs(30),
            container_stop_secs: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Vm {
    backend: Arc<dyn Backend>,
    config: VmConfig,
    timeouts: Timeouts,
}

impl Vm {
    pub fn new(backend: Arc<dyn Backend>, config: VmConfig) -> Vm {
        Vm {
            backend,
            config,
            timeouts: Timeouts::default(),
        }
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Vm {
        self.timeouts = timeouts;
        self
    }

    pub fn config(&self) -> &VmConfig {
        &self.config
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Boots the VM and waits for the agent's hello, watching for a crash meanwhile; then
    /// sets the guest clock.
    pub async fn start(&self, mut progress: impl FnMut(Progress) + Send) -> Result<Hello> {
        let started = Instant::now();
        let backend = self.backend.clone();
        let config = self.config.clone();
        progress(Progress::Booting {
            backend: backend.name(),
        });
        // Listen for the agent's "I am up" connection before the guest can make it.
        let ready = self.listen_for_ready();
        blocking(move || backend.start(&config)).await?;
        let hello = self.wait_for_agent(started, ready, &mut progress).await?;
        progress(Progress::Ready {
            hello: hello.clone(),
            elapsed: started.elapsed(),
        });
        let agent = self.agent()?;
        if let Err(e) = agent.time_sync().await {
            tracing::warn!("cannot set the VM's clock: {e}");
        }
        Ok(hello)
    }

    /// The listener for [`berth_protocol::HOST_READY_PORT`], when the backend can offer one.
    #[cfg(unix)]
    fn listen_for_ready(&self) -> Option<tokio::net::UnixListener> {
        let path = self
            .backend
            .guest_connect_socket(berth_protocol::HOST_READY_PORT)?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::remove_file(&path);
        tokio::net::UnixListener::bind(&path)
            .inspect_err(|e| tracing::debug!("no ready socket at {}: {e}", path.display()))
            .ok()
    }

    #[cfg(not(unix))]
    fn listen_for_ready(&self) -> Option<std::convert::Infallible> {
        None
    }

    async fn wait_for_agent<R: ReadySignal>(
        &self,
        started: Instant,
        mut ready: Option<R>,
        progress: &mut (impl FnMut(Progress) + Send),
    ) -> Result<Hello> {
        let agent = self.agent()?.with_timeout(Duration::from_secs(5));
        loop {
            match self.status().await {
                Status::Running { .. } => {}
                Status::Crashed {
                    reason,
                    console_tail,
                } => {
                    return Err(VmError::CrashedAtBoot {
                        reason,
                        console_tail,
                    })
                }
                Status::Stopped => {
                    let console_tail = tail_of(&self.backend.console_log());
                    return Err(VmError::StoppedAtBoot { console_tail });
                }
            }
            let last = match agent.hello().await {
                Ok(hello) => return Ok(hello),
                // A version mismatch will not fix itself by waiting.
                Err(e @ AgentError::ProtocolMismatch { .. }) => return Err(e.into()),
                Err(e) => e.to_string() + &source_of(&e),
            };
            if started.elapsed() >= self.timeouts.ready {
                return Err(VmError::NotReady {
                    timeout: self.timeouts.ready,
                    last,
                });
            }
            progress(Progress::WaitingForAgent {
                elapsed: started.elapsed(),
            });
            // The agent says when it listens; polling is only the fallback (and the path
            // for backends without a ready socket). vhost-device-vsock wedges when it is
            // flooded with connections before the guest's driver is up: never poll fast.
            let pause = tokio::time::sleep(Duration::from_millis(250));
            match ready.as_mut() {
                Some(signal) => {
                    tokio::select! {
                        () = signal.wait() => {}
                        () = pause => {}
                    }
                }
                None => pause.await,
            }
        }
    }

    /// Asks the agent to stop everything and power off, then waits for the VMM to exit
    /// (the backend quits, then kills it, if the guest does not go).
    pub async fn stop(&self) -> Result<()> {
        if !matches!(self.status().await, Status::Running { .. }) {
            return Ok(());
        }
        if let Err(e) = self
            .agent()?
            .shutdown(self.timeouts.container_stop_secs)
            .await
        {
            tracing::warn!("the agent did not take the shutdown ({e}); powering the VM off");
        }
        let backend = self.backend.clone();
        let timeout = self.timeouts.stop;
        match blocking(move || backend.stop(timeout)).await {
            Err(BackendError::NotRunning) => Ok(()),
            other => Ok(other?),
        }
    }

    /// Ends the VM at once.
    pub async fn kill(&self) -> Result<()> {
        let backend = self.backend.clone();
        match blocking(move || backend.kill()).await {
            Err(BackendError::NotRunning) => Ok(()),
            other => Ok(other?),
        }
    }

    pub async fn restart(&self, progress: impl FnMut(Progress) + Send) -> Result<Hello> {
        self.stop().await?;
        self.start(progress).await
    }

    pub async fn status(&self) -> Status {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || backend.status())
            .await
            .unwrap_or(Status::Stopped)
    }

    /// Keeps the guest's clock on the host's: a `time-sync` every `interval` while the VM
    /// runs (a guest clock drifts, and stops while the host sleeps). The host daemon holds
    /// the handle for as long as it manages the VM.
    pub fn keep_clock_in_step(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let vm = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if !matches!(vm.status().await, Status::Running { .. }) {
                    continue;
                }
                if let Ok(agent) = vm.agent() {
                    if let Err(e) = agent.time_sync().await {
                        tracing::debug!("time sync: {e}");
                    }
                }
            }
        })
    }

    /// The agent's control client.
    pub fn agent(&self) -> Result<AgentClient> {
        Ok(AgentClient::new(self.backend.transport()?))
    }

    /// A fresh connection to the Docker Engine API in the VM: HTTP/1.1 bytes, hijack and
    /// half-close safe (the wire carries half-close frames; this stream is plain bytes).
    pub async fn docker_api(&self) -> Result<HalfClose<BoxStream>> {
        Ok(HalfClose::new(
            self.agent()?.connect(DOCKER_API_PORT).await?,
        ))
    }
}

/// Backend calls block (process waits, QMP): keep them off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, BackendError> + Send + 'static,
) -> std::result::Result<T, BackendError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(BackendError::Failed(format!("backend task failed: {e}"))))
}

fn source_of(e: &dyn std::error::Error) -> String {
    e.source().map(|s| format!(": {s}")).unwrap_or_default()
}

fn tail_of(path: &std::path::Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Something the agent's start-up makes ready: the ready socket's next connection.
trait ReadySignal: Send {
    fn wait(&mut self) -> impl std::future::Future<Output = ()> + Send;
}

#[cfg(unix)]
impl ReadySignal for tokio::net::UnixListener {
    async fn wait(&mut self) {
        match self.accept().await {
            Ok(_) => {}
            // A broken listener must not turn into a busy loop.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(not(unix))]
impl ReadySignal for std::convert::Infallible {
    async fn wait(&mut self) {
        match *self {}
    }
}
