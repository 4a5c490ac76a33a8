//! `berth start` and `berth restart`: ask the daemon (spawning it when none runs), then
//! follow its phases until the engine serves.

use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use berth_host::daemon::proto::{DaemonRequest, Phase, StatusReport};
use berth_host::daemon::{ClientError, DaemonClient};
use berth_host::state::StateDirs;

use super::{client, docker_host, paths};

/// Longer than any boot: TCG plus a first boot's formatting and image load.
const START_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn start(dirs: &StateDirs) -> anyhow::Result<i32> {
    dirs.create()?;
    let client = client(dirs);
    let child = match client
        .expect_ok(&DaemonRequest::Start, Duration::from_secs(10))
        .await
    {
        Ok(()) => None,
        Err(ClientError::NotRunning) => Some(spawn_daemon(dirs)?),
        Err(e) => return Err(e.into()),
    };
    follow_until_running(dirs, &client, child).await
}

pub async fn restart(dirs: &StateDirs) -> anyhow::Result<i32> {
    let client = client(dirs);
    match client
        .expect_ok(&DaemonRequest::Restart, Duration::from_secs(10))
        .await
    {
        Ok(()) => {
            println!("Restarting the VM...");
            follow_until_running(dirs, &client, None).await
        }
        Err(ClientError::NotRunning) => start(dirs).await,
        Err(e) => Err(e.into()),
    }
}

fn spawn_daemon(dirs: &StateDirs) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("Cannot find the berth executable")?;
    Ok(berth_host::daemon::spawn_daemon(dirs, &exe)?)
}

async fn follow_until_running(
    dirs: &StateDirs,
    client: &DaemonClient,
    mut child: Option<Child>,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let mut shown: Option<Phase> = None;
    loop {
        match client.status().await {
            Ok(report) => {
                // Running at the first look, with a daemon we did not spawn.
                if shown.is_none() && child.is_none() && report.phase == Phase::Running {
                    println!("Berth is already running ({})", report.backend);
                    println!("Docker socket: {}", docker_host(dirs));
                    return Ok(0);
                }
                if shown != Some(report.phase) {
                    say_since(shown, &report);
                    shown = Some(report.phase);
                }
                match report.phase {
                    Phase::Running => {
                        ready(dirs, &report, started.elapsed());
                        return Ok(0);
                    }
                    Phase::Failed => bail!(
                        "{}\n(more in `berth logs console` and `berth logs daemon`)",
                        report
                            .last_error
                            .as_deref()
                            .unwrap_or("Berth failed to start")
                    ),
                    _ => {}
                }
            }
            // A daemon just spawned needs a moment to open its socket; one that exited
            // says why in its log.
            Err(ClientError::NotRunning) => {
                if let Some(status) = child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                    let log = std::fs::read_to_string(paths(dirs).log).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(10).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    bail!("The Berth daemon exited ({status}):\n{}", tail.join("\n"));
                }
                if child.is_none() {
                    bail!(ClientError::NotRunning);
                }
            }
            Err(e) => return Err(e.into()),
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("Berth did not start within {START_TIMEOUT:?}; see `berth logs daemon`");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The boot's steps in order; a poll may land after some of them.
const STEPS: [Phase; 4] = [
    Phase::Booting,
    Phase::WaitingForAgent,
    Phase::EngineStarting,
    Phase::Running,
];

/// Says each step from the last one shown up to the report's, so a fast step is not
/// skipped (a reattach never boots, so it starts at the agent).
fn say_since(shown: Option<Phase>, report: &StatusReport) {
    let Some(to) = STEPS.iter().position(|p| *p == report.phase) else {
        return say(report.phase, report);
    };
    let from = match shown.and_then(|s| STEPS.iter().position(|p| *p == s)) {
        Some(i) => i + 1,
        None if report.reattached => 1,
        None => 0,
    };
    for phase in &STEPS[from.min(to)..=to] {
        say(*phase, report);
    }
}

fn say(phase: Phase, report: &StatusReport) {
    match phase {
        // The accelerator is chosen a moment later: "qemu" alone says nothing yet.
        Phase::Booting if report.backend.contains('-') => {
            println!("Starting the VM ({})...", report.backend)
        }
        Phase::Booting => println!("Starting the VM..."),
        Phase::WaitingForAgent if report.reattached => {
            println!("Reattaching to the running VM ({})...", report.backend)
        }
        Phase::WaitingForAgent => println!("Waiting for the agent..."),
        Phase::EngineStarting => {
            match &report.agent {
                Some(a) => println!("Agent up: berth-agent {} ({})", a.version, a.kernel),
                None => println!("Agent up"),
            }
            println!("Starting the engine...");
        }
        Phase::Stopping => println!("Stopping the VM..."),
        Phase::Running | Phase::Stopped | Phase::Failed => {}
    }
}

fn ready(dirs: &StateDirs, report: &StatusReport, elapsed: Duration) {
    let how = if report.reattached {
        "reattached, not rebooted"
    } else {
        "booted"
    };
    println!(
        "Engine ready. Berth is running ({}, {how}) in {:.1}s",
        report.backend,
        elapsed.as_secs_f64()
    );
    println!("Docker socket: {}", docker_host(dirs));
    println!(
        "Use it with `berth context` (or export DOCKER_HOST={})",
        docker_host(dirs)
    );
}
