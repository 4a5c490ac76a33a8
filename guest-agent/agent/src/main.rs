//! `berth-agent`: Berth's engine as a program. Natively on Linux it is a command line over
//! the engine (until the Docker API server arrives); `berth-agent monitor` is the
//! per-container monitor the engine starts (one small process per container).

mod api;
mod cli;
mod commands;
mod control;
mod init;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The monitor is exec'd by the engine with its configuration in the environment; it
    // must not parse anything else or allocate more than it needs.
    if std::env::args_os().nth(1).is_some_and(|a| a == "monitor") {
        // The monitor's child creates the container, so the container's first process
        // starts as a fork of this binary: run from an unwritable view of it first
        // (CVE-2019-5736, as berth-runtime does).
        if let Err(e) = berth_runtime::sealed::ensure_sealed(std::path::Path::new("/run/berth")) {
            eprintln!("berth-agent monitor: {e}");
            return ExitCode::from(125);
        }
        berth_engine::monitor::run_from_env();
    }
    // As the VM's PID 1 (the kernel runs /init with no subcommand), or asked explicitly.
    if nix::unistd::getpid().as_raw() == 1
        || std::env::args_os().nth(1).is_some_and(|a| a == "init")
    {
        init::main();
    }
    let cli = cli::Cli::parse();
    let level = if cli.debug {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            let mut message = String::new();
            for part in chain {
                if !message.contains(&part) {
                    if !message.is_empty() {
                        message.push_str(": ");
                    }
                    message.push_str(&part);
                }
            }
            eprintln!("berth-agent: {message}");
            ExitCode::from(125)
        }
    }
}
