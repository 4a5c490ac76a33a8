//! Runs the engine (`berth-agent serve`) as a child and restarts it when it dies, with a
//! back-off. Containers survive an engine restart: each has its own monitor process, which
//! the engine reattaches to.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_protocol::EngineState;
use tokio::sync::watch;

use super::reaper::Children;

/// The engine's Docker API socket in the VM.
pub const DOCKER_SOCKET: &str = "/run/berth/docker.sock";
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// An engine that ran this long before dying starts over at the first back-off.
const STABLE: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Status {
    state: EngineState,
    restarts: u32,
    stopping: bool,
}

#[derive(Debug)]
pub struct Supervisor {
    children: Arc<Children>,
    program: PathBuf,
    args: Vec<String>,
    status: Mutex<Status>,
    /// The engine's pid while it runs; `stop` waits for it to become None.
    pid: watch::Sender<Option<u32>>,
}

impl Supervisor {
    /// The engine as this same binary: `<exe> --root /var/lib/berth serve -H <socket>
    /// --vsock-port 2375`.
    pub fn new(children: Arc<Children>, program: PathBuf) -> Arc<Supervisor> {
        let args = [
            "--root",
            super::disk::DATA_DIR,
            "serve",
            "-H",
            DOCKER_SOCKET,
            "--vsock-port",
            &berth_protocol::DOCKER_API_PORT.to_string(),
        ]
        .map(String::from)
        .to_vec();
        Arc::new(Supervisor {
            children,
            program,
            args,
            status: Mutex::new(Status {
                state: EngineState::Starting,
                restarts: 0,
                stopping: false,
            }),
            pid: watch::channel(None).0,
        })
    }

    /// The engine's state and how often it was restarted.
    pub fn status(&self) -> (EngineState, u32) {
        let s = self.lock();
        (s.state.clone(), s.restarts)
    }

    /// Starts the engine and keeps it running until [`Supervisor::stop`]. `shared`: the
    /// folders shared from the host; bind mounts from anywhere else are refused.
    pub async fn run(self: Arc<Self>, shared: Vec<PathBuf>) {
        let mut backoff = FIRST_BACKOFF;
        let mut loaded_demo = false;
        let mut command = Command::new(&self.program);
        command.args(&self.args).arg("--shares-only");
        for path in &shared {
            command.arg("--shared-path").arg(path);
        }
        while !self.lock().stopping {
            let started = Instant::now();
            let reason = match self.children.spawn(&mut command) {
                Ok((pid, exited)) => {
                    self.pid.send_replace(Some(pid));
                    self.set(EngineState::Starting);
                    let mut exited = std::pin::pin!(exited);
                    let status = tokio::select! {
                        status = &mut exited => status,
                        () = async {
                            wait_ready().await;
                            // "Running" promises the demo image too: a first `docker run
                            // berth/hello` right after start must not go to a registry.
                            if !loaded_demo {
                                super::demo_image::load_if_missing().await;
                            }
                        } => {
                            loaded_demo = true;
                            self.set(EngineState::Running { pid });
                            exited.await
                        }
                    };
                    self.pid.send_replace(None);
                    match status {
                        Ok(status) => format!("{status:?}"),
                        Err(_) => "its status was lost".into(),
                    }
                }
                Err(e) => format!("cannot start {}: {e}", self.program.display()),
            };
            if self.lock().stopping {
                break;
            }
            if started.elapsed() > STABLE {
                backoff = FIRST_BACKOFF;
            }
            super::console::warn(&format!(
                "the engine stopped ({reason}); restarting in {backoff:?}"
            ));
            {
                let mut s = self.lock();
                s.restarts += 1;
                s.state = EngineState::Restarting { reason };
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Stops the engine for good: SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&self, grace: Duration) {
        self.lock().stopping = true;
        let mut pid = self.pid.subscribe();
        let Some(running) = *pid.borrow_and_update() else {
            return;
        };
        let target = nix::unistd::Pid::from_raw(running as i32);
        let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM);
        if tokio::time::timeout(grace, pid.wait_for(Option::is_none))
            .await
            .is_err()
        {
            super::console::warn("the engine ignored SIGTERM; killing it");
            let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL);
            let _ =
                tokio::time::timeout(Duration::from_secs(3), pid.wait_for(Option::is_none)).await;
        }
    }

    fn set(&self, state: EngineState) {
        self.lock().state = state;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Returns once the engine answers `/_ping`.
async fn wait_ready() {
    let socket = std::path::Path::new(DOCKER_SOCKET);
    while !crate::control::docker::ping(socket).await {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
