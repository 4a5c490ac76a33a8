//! `berth`: manage Berth's VM and its daemon, and run commands in the VM. A thin adapter
//! over `berth-host` (DESIGN.md): each subcommand is a file in `cmd/`.

#[cfg(unix)]
mod cli;
#[cfg(unix)]
mod cmd;

#[cfg(unix)]
fn main() {
    use clap::Parser;
    let cli = cli::Cli::parse();
    // Not for the daemon or exec: they write to sockets whose peer may hang up, and
    // must see EPIPE, not die.
    use cli::Command as C;
    if !matches!(cli.command, C::Daemon | C::Vm { .. } | C::Shell) {
        restore_sigpipe();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(cmd::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // The whole chain, once: "Cannot ...: because ...".
            eprintln!("berth: {}", cmd::chain(&e));
            1
        }
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // Exit without dropping the runtime: a blocking stdin read (exec) would hold it up.
    std::process::exit(code);
}

/// `berth status | head` should end quietly like any Unix tool, not panic on a closed
/// pipe (Rust ignores SIGPIPE by default).
#[cfg(unix)]
fn restore_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL installs no
    // Rust handler, so no handler code can run in an unsafe context.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

#[cfg(not(unix))]
fn main() {
    eprintln!("berth: the CLI runs on Linux and macOS so far; on Windows use the Berth app");
    std::process::exit(1);
}
