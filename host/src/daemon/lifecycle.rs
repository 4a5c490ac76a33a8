//! The daemon's main loop: take the daemon lock, open the sockets, bring the VM up (boot or
//! reattach), then serve commands from the control socket until `stop` or a signal.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use berth_protocol::EngineState;
use tokio::net::UnixListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

use super::proto::{EventKind, Phase, NO_DATA_DISK};
use super::shared::Shared;
use super::vm_setup::{build_vm, image_dir, vm_on, VmInfo};
use super::{control, docker_socket, forward, DaemonError, Paths};
use crate::backend::Status;
use crate::settings::Settings;
use crate::state::{LockError, StateDirs, VmLock};
use crate::vm::Progress;

/// How often a running VM is checked for an exit nobody asked for.
const MONITOR_EVERY: Duration = Duration::from_secs(2);
/// From the agent's hello to the engine serving (first boot loads the demo image).
const ENGINE_TIMEOUT: Duration = Duration::from_secs(120);

/// What the control socket asks the main loop to do.
#[derive(Debug)]
pub enum Command {
    Start,
    Restart,
    /// Stop the VM, answer, then end the daemon.
    Stop(oneshot::Sender<Result<(), String>>),
}

pub async fn run(dirs: StateDirs) -> Result<(), DaemonError> {
    dirs.create()?;
    let paths = Paths::new(&dirs);
    // The same advisory lock the VM uses: it dies with its holder, never stale.
    let _lock = daemon_lock(&paths).await?;
    let _ = std::fs::write(&paths.pid, format!("{}\n", std::process::id()));
    let settings = Settings::load(&dirs)?;
    let shared = Shared::new(build_vm(&dirs, &settings)?, settings);
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;

    let docker = bind_private(&paths.docker_socket)?;
    let control_socket = bind_private(&paths.control_socket)?;
    let (commands, mut rx) = mpsc::channel(8);
    let tasks = [
        tokio::spawn(docker_socket::serve_docker(docker, shared.clone())),
        tokio::spawn(forward::watch_ports(shared.clone())),
        tokio::spawn(control::serve(control_socket, shared.clone(), commands)),
    ];
    tracing::info!(pid = std::process::id(), "berth daemon started");

    // A signal while booting ends the daemon; the VM boots on for the next one to adopt.
    let signalled = tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => true,
        _ = bring_up(&shared, &dirs, &paths) => false,
    };
    let clock = (!signalled).then(|| shared.vm().keep_clock_in_step(Duration::from_secs(60)));
    if !signalled {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                command = rx.recv() => match command {
                    Some(Command::Start) => {
                        if shared.phase() != Phase::Running {
                            bring_up(&shared, &dirs, &paths).await;
                        }
                    }
                    Some(Command::Restart) => {
                        stop_vm(&shared).await.unwrap_or_else(|e| shared.fail(e));
                        bring_up(&shared, &dirs, &paths).await;
                    }
                    Some(Command::Stop(reply)) => {
                        let stopped = stop_vm(&shared).await;
                        // Gone before the answer: a client that then asks finds no daemon.
                        remove_sockets(&paths);
                        let _ = reply.send(stopped);
                        // Let the control connection write its answer.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                    None => break,
                },
                _ = tokio::time::sleep(MONITOR_EVERY) => monitor(&shared).await,
            }
        }
    }
    tracing::info!("berth daemon exiting (phase: {:?})", shared.phase());
    for task in tasks {
        task.abort();
    }
    if let Some(clock) = clock {
        clock.abort();
    }
    remove_sockets(&paths);
    let _ = std::fs::remove_file(&paths.pid);
    Ok(())
}

fn remove_sockets(paths: &Paths) {
    for file in [&paths.docker_socket, &paths.control_socket] {
        let _ = std::fs::remove_file(file);
    }
}

/// The daemon lock. A daemon that just answered `stop` holds it for a moment more while it
/// exits, so a `berth start` right after waits for it instead of failing.
async fn daemon_lock(paths: &Paths) -> Result<VmLock, DaemonError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match VmLock::acquire(&paths.lock) {
            Ok(lock) => return Ok(lock),
            Err(LockError::Held { .. } | LockError::HeldUnknown) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(LockError::Held { pid }) => return Err(DaemonError::AlreadyRunning { pid }),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Binds a Unix socket only this user may use (the Docker socket is root-equivalent in
/// the VM). We hold the daemon lock, so a file already there is a dead daemon's.
fn bind_private(path: &Path) -> Result<UnixListener, DaemonError> {
    let _ = std::fs::remove_file(path);
    let listen_err = |source| DaemonError::Listen {
        path: path.to_path_buf(),
        source,
    };
    let listener = UnixListener::bind(path).map_err(listen_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(listen_err)?;
    Ok(listener)
}

/// Boots the VM, or reattaches to the one already running, and waits for the engine.
async fn bring_up(shared: &Shared, dirs: &StateDirs, paths: &Paths) {
    // Settings changed since the last boot apply now.
    match Settings::load(dirs) {
        Ok(settings) => {
            let backend = shared.vm().backend().clone();
            let mut inner = shared.lock();
            inner.vm = vm_on(backend, dirs, &settings);
            inner.settings = settings;
        }
        Err(e) => return shared.fail(chain(&e)),
    }
    let vm = shared.vm();
    let attached = if let Status::Running { pid } = vm.status().await {
        tracing::info!(?pid, "the VM is already running: reattaching");
        let backend = VmInfo::read(paths).map_or_else(|| vm.backend().name(), |i| i.backend);
        {
            let mut inner = shared.lock();
            inner.reattached = true;
            inner.backend = backend;
        }
        shared.set_phase(Phase::WaitingForAgent);
        wait_for_hello(shared).await
    } else {
        boot(shared, paths).await
    };
    if let Err(e) = attached {
        return shared.fail(e);
    }
    shared.set_phase(Phase::EngineStarting);
    match wait_for_engine(shared).await {
        Ok(()) => shared.set_phase(Phase::Running),
        Err(e) => shared.fail(e),
    }
}

async fn boot(shared: &Shared, paths: &Paths) -> Result<(), String> {
    let vm = shared.vm();
    let settings = shared.lock().settings.clone();
    image_dir(&settings)?;
    shared.lock().reattached = false;
    let progress = |p: Progress| match p {
        Progress::Booting { backend } => {
            shared.lock().backend = backend;
            shared.set_phase(Phase::Booting);
        }
        Progress::WaitingForAgent { .. } => shared.set_phase(Phase::WaitingForAgent),
        Progress::Ready { .. } => {}
    };
    shared.set_phase(Phase::Booting);
    vm.start(progress).await.map_err(|e| chain(&e))?;
    let backend = vm.backend().name();
    shared.lock().backend = backend.clone();
    VmInfo { backend }.write(paths);
    Ok(())
}

/// A reattach: the VM runs, its agent answers soon (it may still be booting).
async fn wait_for_hello(shared: &Shared) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let agent = shared.vm().agent().map_err(|e| chain(&e))?;
    let agent = agent.with_timeout(Duration::from_secs(5));
    loop {
        match agent.hello().await {
            Ok(hello) => {
                tracing::info!(uptime_ms = hello.uptime_ms, "reattached to the running VM");
                return Ok(());
            }
            Err(e) if Instant::now() > deadline => {
                return Err(format!(
                    "The running VM's agent does not answer: {}",
                    chain(&e)
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn wait_for_engine(shared: &Shared) -> Result<(), String> {
    let deadline = Instant::now() + ENGINE_TIMEOUT;
    let agent = shared.vm().agent().map_err(|e| chain(&e))?;
    loop {
        let last = match agent.health().await {
            Ok(health) if matches!(health.engine, EngineState::Running { .. }) => {
                if health.data_disk.is_none() {
                    shared.event(EventKind::Error, NO_DATA_DISK.into());
                }
                return Ok(());
            }
            Ok(health) => format!("{:?}", health.engine),
            Err(e) => chain(&e),
        };
        if Instant::now() > deadline {
            return Err(format!(
                "The engine did not start within {ENGINE_TIMEOUT:?} ({last})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn stop_vm(shared: &Shared) -> Result<(), String> {
    shared.set_phase(Phase::Stopping);
    let vm = shared.vm();
    match vm.stop().await {
        Ok(()) => {
            // The status waits for our QEMU reaper, which releases the VM lock: a boot
            // right after (restart) would otherwise find the lock still held.
            let _ = vm.status().await;
            shared.set_phase(Phase::Stopped);
            Ok(())
        }
        Err(e) => {
            let message = format!("Cannot stop the VM: {}", chain(&e));
            shared.fail(message.clone());
            Err(message)
        }
    }
}

/// Notices a VM that went away by itself (crash, power-off in the guest).
async fn monitor(shared: &Shared) {
    if !matches!(shared.phase(), Phase::Running | Phase::EngineStarting) {
        return;
    }
    match shared.vm().status().await {
        Status::Running { .. } => {}
        Status::Stopped => shared.set_phase(Phase::Stopped),
        Status::Crashed { reason, .. } => shared.fail(format!("The VM crashed: {reason}")),
    }
}

/// The error and its sources on one line (a source already quoted is not repeated).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let line = s.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = s.source();
    }
    text
}
