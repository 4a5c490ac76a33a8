//! One module per group of verbs; each is a thin adapter over `berth_engine::engine::Engine`.

mod attach;
mod containers;
mod exec;
mod images;
mod inspect;
mod run;
mod serve;

use std::time::Duration;

use anyhow::Context;
use berth_engine::engine::{Engine, EngineOptions};
use berth_engine::monitor::Launch;

use crate::cli::{Cli, Command, ImageCommand};

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Serve { socket, vsock_port } => return serve::serve(&cli, socket, *vsock_port),
        Command::Control {
            unix,
            docker_socket,
        } => return crate::control::run_native(unix, docker_socket),
        _ => {}
    }
    let engine = open(&cli, None)?;
    match cli.command {
        Command::Serve { .. } | Command::Control { .. } => unreachable!("handled above"),
        Command::Init => anyhow::bail!("`init` runs only as the VM's PID 1"),
        Command::Load { path } => images::load(&engine, &path),
        Command::Images => images::list(&engine),
        Command::Run(args) => run::run(&engine, args),
        Command::Ps { all } => containers::ps(&engine, all),
        Command::Logs {
            follow,
            tail,
            timestamps,
            container,
        } => containers::logs(&engine, &container, follow, tail, timestamps),
        Command::Start { containers } => containers::each(&containers, |c| Ok(engine.start(c)?)),
        Command::Stop { time, containers } => {
            containers::each(&containers, |c| Ok(engine.stop(c, time)?))
        }
        Command::Rm {
            force,
            volumes,
            containers,
        } => containers::each(&containers, |c| Ok(engine.remove(c, force, volumes)?)),
        Command::Wait { containers } => containers::wait(&engine, &containers),
        Command::Exec(args) => exec::exec(&engine, args),
        Command::Attach {
            detach_keys,
            no_stdin,
            container,
        } => attach::attach(&engine, &container, detach_keys, !no_stdin),
        Command::Top { container } => inspect::top(&engine, &container),
        Command::Stats { containers } => inspect::stats(&engine, &containers),
        Command::Cp {
            source,
            destination,
        } => exec::cp(&engine, &source, &destination),
        Command::Rmi { force, images } => inspect::rmi(&engine, &images, force),
        Command::Image {
            command: ImageCommand::Prune { all },
        } => inspect::prune(&engine, all),
        Command::Monitor => anyhow::bail!(
            "`monitor` is started by the engine with its configuration in the environment"
        ),
    }
}

/// The engine: monitors are `berth-monitor` or this binary's `monitor` mode. A one-shot
/// command runs no supervisor (`supervise: None`: it applies no restart policies); the
/// API server does.
pub fn open(cli: &Cli, supervise: Option<Duration>) -> anyhow::Result<Engine> {
    let program = std::env::current_exe().context("Cannot find this program's path")?;
    // The small `berth-monitor` installed beside us (one runs per container, and every
    // page of its binary counts), else our own `monitor` mode.
    let sibling = program.with_file_name("berth-monitor");
    let monitor_launch = if sibling.is_file() {
        Launch::Exec {
            program: sibling,
            args: Vec::new(),
        }
    } else {
        Launch::Exec {
            program,
            args: vec!["monitor".into()],
        }
    };
    let options = EngineOptions {
        root: cli.root.clone(),
        runtime_root: cli.runtime_root.clone(),
        monitor_launch,
        supervise,
    };
    Engine::open(options)
        .with_context(|| format!("Cannot open the engine at {}", cli.root.display()))
}
