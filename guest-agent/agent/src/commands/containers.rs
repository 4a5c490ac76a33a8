use std::io::Write;
use std::ops::ControlFlow;

use berth_engine::engine::Engine;
use berth_engine::logs::{ReadOptions, Stream};

/// Applies `action` to every container named, reporting each failure and going on (docker's
/// behaviour for stop/rm/start with several names); exit code 1 if any failed.
pub fn each(names: &[String], action: impl Fn(&str) -> anyhow::Result<()>) -> anyhow::Result<u8> {
    anyhow::ensure!(!names.is_empty(), "name at least one container");
    let mut failed = false;
    for name in names {
        match action(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("berth-agent: {name}: {e}");
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

pub fn ps(engine: &Engine, all: bool) -> anyhow::Result<u8> {
    println!(
        "{:<14} {:<28} {:<24} {:<10} NAME",
        "CONTAINER ID", "IMAGE", "COMMAND", "STATUS"
    );
    for (record, status) in engine.list(all) {
        let command = record.config.cmd.clone().unwrap_or_default().join(" ");
        let command: String = command.chars().take(22).collect();
        let state = format!("{:?}", status.status).to_lowercase();
        let state = if state == "exited" {
            format!("exited({})", status.exit_code)
        } else {
            state
        };
        println!(
            "{:<14} {:<28} {:<24} {:<10} {}",
            &record.id[..12],
            record.config.image,
            format!("{command:?}"),
            state,
            record.name
        );
    }
    Ok(0)
}

pub fn logs(
    engine: &Engine,
    container: &str,
    follow: bool,
    tail: Option<usize>,
    timestamps: bool,
) -> anyhow::Result<u8> {
    let options = ReadOptions {
        tail,
        follow,
        ..Default::default()
    };
    print_log(engine, container, &options, timestamps)?;
    Ok(0)
}

pub fn print_log(
    engine: &Engine,
    container: &str,
    options: &ReadOptions,
    timestamps: bool,
) -> anyhow::Result<()> {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    engine.logs(container, options, |entry| {
        let written = match entry.stream {
            Stream::Stdout => entry
                .write_to(&mut out, timestamps)
                .and_then(|_| out.flush()),
            Stream::Stderr => entry.write_to(&mut err, timestamps),
        };
        // A closed pipe (`| head`) ends the listing quietly.
        if written.is_err() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(())
}

pub fn wait(engine: &Engine, names: &[String]) -> anyhow::Result<u8> {
    for name in names {
        println!("{}", engine.wait(name)?);
    }
    Ok(0)
}
