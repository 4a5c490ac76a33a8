//! The control socket's server: one request line per connection ([`super::proto`]).

use std::time::Duration;

use berth_protocol::EngineState;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::lifecycle::{chain, Command};
use super::proto::{AgentReport, DaemonRequest, DaemonResponse, ErrorCode, Phase, StatusReport};
use super::shared::Shared;
use super::Paths;

/// A client gets this long to send its request line.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(listener: UnixListener, shared: Shared, commands: mpsc::Sender<Command>) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let shared = shared.clone();
        let commands = commands.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(conn, &shared, &commands).await {
                tracing::debug!("control connection: {e}");
            }
        });
    }
}

async fn handle(
    conn: UnixStream,
    shared: &Shared,
    commands: &mpsc::Sender<Command>,
) -> std::io::Result<()> {
    let (read, mut write) = conn.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(berth_protocol::MAX_LINE as u64));
    match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => return Ok(()),
    }
    let request = match serde_json::from_str::<DaemonRequest>(line.trim()) {
        Ok(request) => request,
        Err(e) => {
            // An unknown `type` is a newer client's request, not a malformed one.
            let code = match line.contains("\"type\"") && e.to_string().contains("unknown variant")
            {
                true => ErrorCode::Unimplemented,
                false => ErrorCode::BadRequest,
            };
            return send(&mut write, &error(code, format!("Bad request: {e}"))).await;
        }
    };
    match request {
        DaemonRequest::Status => {
            let report = status(shared).await;
            send(&mut write, &DaemonResponse::Status(Box::new(report))).await
        }
        DaemonRequest::Start => {
            // Visible at once, so a client polling the status never sees the old phase.
            if matches!(shared.phase(), Phase::Stopped | Phase::Failed) {
                shared.set_phase(Phase::Booting);
            }
            command(&mut write, commands, Command::Start).await
        }
        DaemonRequest::Restart => {
            shared.set_phase(Phase::Stopping);
            command(&mut write, commands, Command::Restart).await
        }
        DaemonRequest::Stop => {
            let (tx, rx) = oneshot::channel();
            if commands.send(Command::Stop(tx)).await.is_err() {
                return send(
                    &mut write,
                    &error(ErrorCode::Failed, "The daemon is exiting".into()),
                )
                .await;
            }
            let answer = match rx.await {
                Ok(Ok(())) => DaemonResponse::Ok,
                Ok(Err(message)) => error(ErrorCode::Failed, message),
                Err(_) => DaemonResponse::Ok,
            };
            send(&mut write, &answer).await
        }
        DaemonRequest::Events { follow } => events(&mut write, shared, follow).await,
    }
}

async fn command(
    write: &mut (impl AsyncWrite + Unpin),
    commands: &mpsc::Sender<Command>,
    command: Command,
) -> std::io::Result<()> {
    let answer = match commands.send(command).await {
        Ok(()) => DaemonResponse::Ok,
        Err(_) => error(ErrorCode::Failed, "The daemon is exiting".into()),
    };
    send(write, &answer).await
}

async fn events(
    write: &mut (impl AsyncWrite + Unpin),
    shared: &Shared,
    follow: bool,
) -> std::io::Result<()> {
    let (history, mut rx) = shared.events();
    for event in history {
        send(write, &DaemonResponse::Event(event)).await?;
    }
    if !follow {
        return Ok(());
    }
    loop {
        match rx.recv().await {
            Ok(event) => send(write, &DaemonResponse::Event(event)).await?,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
        }
    }
}

async fn status(shared: &Shared) -> StatusReport {
    let (phase, backend, reattached, settings, ports, port_errors, last_error) = {
        let inner = shared.lock();
        (
            inner.phase,
            inner.backend.clone(),
            inner.reattached,
            inner.settings.clone(),
            inner.ports.forwarded(),
            inner.ports.errors(),
            inner.last_error.clone(),
        )
    };
    let agent = match phase {
        Phase::Running | Phase::EngineStarting => agent_report(shared).await,
        _ => None,
    };
    StatusReport {
        phase,
        daemon_pid: std::process::id(),
        daemon_version: env!("CARGO_PKG_VERSION").into(),
        backend,
        reattached,
        cpus: settings.cpus,
        memory_mib: settings.memory_mib,
        shares: settings.shares,
        // The VM's state directory is the runtime directory, where the sockets are.
        docker_socket: Paths::in_run(&shared.vm().config().state_dir).docker_socket,
        agent,
        ports,
        port_errors,
        last_error,
    }
}

async fn agent_report(shared: &Shared) -> Option<AgentReport> {
    let agent = shared
        .vm()
        .agent()
        .ok()?
        .with_timeout(Duration::from_secs(3));
    let hello = agent.hello().await.ok()?;
    let (engine, engine_restarts, data_disk) = match agent.health().await {
        Ok(health) => (
            match health.engine {
                EngineState::Starting => "starting".into(),
                EngineState::Running { .. } => "running".into(),
                EngineState::Restarting { reason } => format!("restarting: {reason}"),
            },
            health.engine_restarts,
            health.data_disk,
        ),
        Err(e) => (format!("unknown: {}", chain(&e)), 0, None),
    };
    Some(AgentReport {
        version: hello.agent_version,
        kernel: hello.kernel,
        protocol: hello.protocol,
        uptime_ms: hello.uptime_ms,
        engine,
        engine_restarts,
        data_disk,
    })
}

fn error(code: ErrorCode, message: String) -> DaemonResponse {
    DaemonResponse::Error { code, message }
}

async fn send(
    write: &mut (impl AsyncWrite + Unpin),
    response: &DaemonResponse,
) -> std::io::Result<()> {
    write.write_all(&berth_protocol::to_line(response)).await?;
    write.flush().await
}
