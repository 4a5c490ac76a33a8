//! `berth vm -- CMD` and `berth shell`: a command in the VM (not in a container) through
//! the agent's exec, reached directly over vsock. Exit codes pass through; without a TTY,
//! Ctrl-C and SIGTERM become signal frames; with one, keys go raw and SIGWINCH resizes.

use anyhow::bail;
use berth_host::agent::ExecIo;
use berth_host::daemon::proto::Phase;
use berth_host::daemon::vm_setup::build_vm;
use berth_host::settings::Settings;
use berth_host::state::StateDirs;
use berth_protocol::ExecRequest;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use super::{client, term};

pub async fn vm(dirs: &StateDirs, command: Vec<String>, tty: bool) -> anyhow::Result<i32> {
    if tty && !term::is_terminal() {
        bail!("--tty needs a terminal on stdin and stdout");
    }
    exec(dirs, command, tty).await
}

pub async fn shell(dirs: &StateDirs) -> anyhow::Result<i32> {
    if !term::is_terminal() {
        bail!("`berth shell` needs a terminal; use `berth vm -- CMD` from scripts");
    }
    exec(dirs, vec!["/bin/sh".into(), "-l".into()], true).await
}

async fn exec(dirs: &StateDirs, command: Vec<String>, tty: bool) -> anyhow::Result<i32> {
    let report = client(dirs).status().await?;
    if !matches!(report.phase, Phase::Running | Phase::EngineStarting) {
        bail!("Berth is {}: run `berth start`", report.phase.describe());
    }
    let settings = Settings::load(dirs)?;
    let agent = build_vm(dirs, &settings)?.agent()?;
    // Shares are mounted at the same path in the VM: a cwd inside one means the same there.
    let cwd = std::env::current_dir()
        .ok()
        .filter(|dir| settings.share_holding(dir).is_some())
        .map(|dir| dir.display().to_string());
    let mut env = Vec::new();
    if tty {
        env.push(format!(
            "TERM={}",
            std::env::var("TERM").unwrap_or_else(|_| "xterm".into())
        ));
    }
    let request = ExecRequest {
        command,
        env,
        cwd,
        tty: tty.then(term::size),
    };
    let (signals_tx, signals) = mpsc::unbounded_channel();
    let (resize_tx, resize) = mpsc::unbounded_channel();
    forward_signals(signals_tx, tty)?;
    if tty {
        forward_resizes(resize_tx)?;
    }
    let _raw = if tty {
        Some(term::RawMode::enable()?)
    } else {
        None
    };
    let io = ExecIo {
        stdin: Box::new(tokio::io::stdin()),
        stdout: Box::new(tokio::io::stdout()),
        stderr: Box::new(tokio::io::stderr()),
        resize: tty.then_some(resize),
        signals: Some(signals),
    };
    let status = agent.exec(request, io).await?;
    Ok(status.code)
}

/// SIGINT (Ctrl-C without a TTY), SIGTERM and SIGHUP go to the command, not to us.
fn forward_signals(tx: mpsc::UnboundedSender<i32>, tty: bool) -> anyhow::Result<()> {
    let mut kinds = vec![
        (SignalKind::terminate(), nix::libc::SIGTERM),
        (SignalKind::hangup(), nix::libc::SIGHUP),
    ];
    // In raw mode Ctrl-C is a byte the VM's terminal turns into SIGINT itself.
    if !tty {
        kinds.push((SignalKind::interrupt(), nix::libc::SIGINT));
    }
    for (kind, number) in kinds {
        let mut stream = signal(kind)?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(number).is_err() {
                    break;
                }
            }
        });
    }
    Ok(())
}

fn forward_resizes(tx: mpsc::UnboundedSender<berth_protocol::TtySize>) -> anyhow::Result<()> {
    let mut winch = signal(SignalKind::window_change())?;
    tokio::spawn(async move {
        while winch.recv().await.is_some() {
            if tx.send(term::size()).is_err() {
                break;
            }
        }
    });
    Ok(())
}
