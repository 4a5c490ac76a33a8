//! `attach`: the container's output on stdout and stderr (one stream with a terminal), this
//! program's stdin to the container; exits with the container's code, or 0 on detach.

use std::io::Write;
use std::os::fd::AsFd;

use berth_engine::engine::{AttachEnd, AttachOptions, Demux, Engine, RawTerminal};

pub fn attach(
    engine: &Engine,
    container: &str,
    detach_keys: Option<String>,
    stdin: bool,
) -> anyhow::Result<u8> {
    let (record, _) = engine.inspect(container)?;
    let options = AttachOptions { stdin, detach_keys };
    let input = std::io::stdin();
    let end = if record.config.tty {
        // Keys go to the container as typed (and the detach keys reach us) until we return.
        let _raw = if stdin {
            RawTerminal::enter(std::io::stdin().as_fd())?
        } else {
            None
        };
        engine.attach(&record.id, &options, input, std::io::stdout())?
    } else {
        let output = Demux::new(std::io::stdout(), std::io::stderr());
        engine.attach(&record.id, &options, input, output)?
    };
    match end {
        AttachEnd::Detached => {
            std::io::stdout().flush()?;
            eprintln!("read escape sequence");
            Ok(0)
        }
        AttachEnd::Exited(code) => Ok(u8::try_from(code).unwrap_or(255)),
    }
}
