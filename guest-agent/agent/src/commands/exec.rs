//! `exec` (stdio inherited, exit code passed through) and `cp` as tar streams on
//! stdin/stdout.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

use berth_engine::engine::{Engine, ExecConfig, ExecStdio, RawTerminal};

use crate::cli::ExecArgs;

pub fn exec(engine: &Engine, args: ExecArgs) -> anyhow::Result<u8> {
    let config = ExecConfig {
        cmd: args.command,
        env: args.env,
        user: args.user,
        working_dir: args.workdir,
        tty: args.tty,
        console_size: args.size,
    };
    // A terminal without -i reads nothing from this program's stdin.
    let stdio = if args.tty && !args.interactive {
        let null = std::fs::File::open("/dev/null")?;
        ExecStdio::Fds([null.into(), stdout_copy()?, stdout_copy()?])
    } else {
        ExecStdio::Inherit
    };
    // Whatever this process buffered goes out before the exec writes to the same fds.
    std::io::stdout().flush()?;
    let _raw = if args.tty && args.interactive {
        RawTerminal::enter(std::io::stdin().as_fd())?
    } else {
        None
    };
    let code = engine.exec(&args.container, &config, stdio)?;
    Ok(u8::try_from(code).unwrap_or(255))
}

fn stdout_copy() -> anyhow::Result<std::os::fd::OwnedFd> {
    Ok(std::io::stdout().as_fd().try_clone_to_owned()?)
}

/// `CONTAINER:PATH -` writes a tar of PATH to stdout; `- CONTAINER:DIR` extracts the tar
/// on stdin into DIR.
pub fn cp(engine: &Engine, source: &str, destination: &str) -> anyhow::Result<u8> {
    match (container_path(source), container_path(destination)) {
        (Some((container, path)), None) if destination == "-" => {
            let mut out = std::io::stdout().lock();
            engine.copy_from(container, Path::new(path), &mut out)?;
            out.flush()?;
        }
        (None, Some((container, dir))) if source == "-" => {
            engine.copy_to(container, Path::new(dir), std::io::stdin().lock())?;
        }
        _ => anyhow::bail!(
            "cp copies tar streams only: `cp CONTAINER:PATH -` or `cp - CONTAINER:DIR`"
        ),
    }
    Ok(0)
}

/// `CONTAINER:PATH` split in two; `None` for anything else (`-`, a local path).
fn container_path(arg: &str) -> Option<(&str, &str)> {
    let (container, path) = arg.split_once(':')?;
    (!container.is_empty() && !container.contains('/') && !path.is_empty())
        .then_some((container, path))
}
