//! `berth-runtime`: a runc-compatible OCI runtime CLI over the `berth_runtime` library.

mod cli;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = logging::init(&cli.global) {
        eprintln!(
            "berth-runtime: cannot open log {}: {e}",
            cli.global
                .log
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        return ExitCode::from(1);
    }
    let log_to_file = cli.global.log.is_some();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let message = e.chain().map(|c| c.to_string()).collect::<Vec<_>>();
            let message = dedup_chain(&message);
            if log_to_file {
                tracing::error!(msg = %message);
            }
            eprintln!("berth-runtime: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli.global.systemd_cgroup {
        anyhow::bail!("--systemd-cgroup is not supported: Berth manages cgroups itself (the cgroupfs driver); drop the flag");
    }
    // Anything that enters a container runs from a sealed copy of this binary.
    if matches!(
        cli.command,
        Command::Create(_) | Command::Run(_) | Command::Exec(_)
    ) {
        berth_runtime::sealed::ensure_sealed(&cli.global.root)?;
    }
    let root = cli.global.root.clone();
    match cli.command {
        Command::Create(args) => commands::create::run(&root, args),
        Command::Start(args) => commands::start::run(&root, args),
        Command::State(args) => commands::state::run(&root, args),
        Command::Kill(args) => commands::kill::run(&root, args),
        Command::Delete(args) => commands::delete::run(&root, args),
        Command::Run(args) => commands::run::run(&root, args),
        Command::Exec(args) => commands::exec::run(&root, args),
        Command::List(args) => commands::list::run(&root, args),
        Command::Ps(args) => commands::ps::run(&root, args),
        Command::Pause(args) => commands::pause::pause(&root, args),
        Command::Resume(args) => commands::pause::resume(&root, args),
        Command::Spec(args) => commands::spec::run(args),
    }
}

/// Library errors already fold their sources into their message; don't print them twice.
fn dedup_chain(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.contains(part.as_str()) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(part);
        }
    }
    out
}
