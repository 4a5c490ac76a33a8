//! One file per subcommand; this one dispatches and holds what they share.

mod config;
mod context;
mod doctor;
mod events;
mod exec;
mod logs;
mod reset;
mod start;
mod status;
mod stop;
mod term;
mod version;

use anyhow::Context as _;
use berth_host::daemon::{DaemonClient, Paths};
use berth_host::state::StateDirs;
use clap::CommandFactory;

use crate::cli::{Cli, Command, ConfigAction};

/// Runs a subcommand; the exit code to leave with.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let dirs = StateDirs::from_env().context("Cannot find Berth's directories")?;
    match cli.command {
        Command::Start => start::start(&dirs).await,
        Command::Restart => start::restart(&dirs).await,
        Command::Stop => stop::stop(&dirs).await,
        Command::Status { json } => status::status(&dirs, json).await,
        Command::Events { follow, json } => events::events(&dirs, follow, json).await,
        Command::Logs {
            source,
            follow,
            lines,
        } => logs::logs(&dirs, source, follow, lines).await,
        Command::Shell => exec::shell(&dirs).await,
        Command::Vm { tty, command } => exec::vm(&dirs, command, tty).await,
        Command::Context { print } => context::context(&dirs, print),
        Command::Config { action, json } => match action {
            None => config::show(&dirs, json),
            Some(ConfigAction::Get { key }) => config::get(&dirs, &key),
            Some(ConfigAction::Set { key, value }) => config::set(&dirs, &key, &value).await,
        },
        Command::Reset {
            yes,
            export_volumes,
        } => reset::reset(&dirs, yes, export_volumes).await,
        Command::Version { json } => version::version(&dirs, json).await,
        Command::Doctor { json } => doctor::doctor(&dirs, json).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "berth", &mut std::io::stdout());
            Ok(0)
        }
        Command::Daemon => {
            berth_host::logging::init_stderr();
            berth_host::daemon::run(dirs).await?;
            Ok(0)
        }
    }
}

pub fn client(dirs: &StateDirs) -> DaemonClient {
    DaemonClient::new(dirs)
}

pub fn paths(dirs: &StateDirs) -> Paths {
    Paths::new(dirs)
}

/// `unix://...` for the Docker socket.
pub fn docker_host(dirs: &StateDirs) -> String {
    format!("unix://{}", paths(dirs).docker_socket.display())
}

/// The error and its causes on one line, each said once.
pub fn chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let line = cause.to_string();
        if text.contains(&line) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&line);
    }
    text
}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// "1h 2m 3s" from milliseconds.
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match (s / 3600, (s / 60) % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, s) => format!("{h}h {m}m {s}s"),
    }
}

/// Bytes in binary units: 1536 -> "1.5 KiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
