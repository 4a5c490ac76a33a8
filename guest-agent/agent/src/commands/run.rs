//! `run`: create + start, then (unless detached) follow the output until the container
//! exits, and exit with its code; `--rm` removes it afterwards.

use berth_engine::container::config::{ContainerConfig, MountConfig, Propagation};
use berth_engine::engine::Engine;
use berth_engine::logs::ReadOptions;

use crate::cli::RunArgs;

pub fn run(engine: &Engine, args: RunArgs) -> anyhow::Result<u8> {
    let config = ContainerConfig {
        image: args.image.clone(),
        cmd: (!args.command.is_empty()).then(|| args.command.clone()),
        env: args.env.clone(),
        working_dir: args.workdir.clone(),
        user: args.user.clone(),
        hostname: args.hostname.clone(),
        tty: args.tty,
        open_stdin: args.interactive,
        mounts: args
            .volume
            .iter()
            .map(|v| parse_volume(v))
            .collect::<anyhow::Result<_>>()?,
        ..Default::default()
    };
    let record = engine.create(args.name.as_deref(), config)?;
    if let Err(e) = engine.start(&record.id) {
        let _ = engine.remove(&record.id, true, true);
        return Err(e.into());
    }
    if args.detach {
        println!("{}", record.id);
        return Ok(0);
    }
    super::containers::print_log(
        engine,
        &record.id,
        &ReadOptions {
            follow: true,
            ..Default::default()
        },
        false,
    )?;
    let code = engine.wait(&record.id)?;
    if args.rm {
        engine.remove(&record.id, true, true)?;
    }
    Ok(u8::try_from(code).unwrap_or(255))
}

/// `NAME:/path[:ro]` is a named volume; `/host:/path[:ro]` a bind mount.
fn parse_volume(spec: &str) -> anyhow::Result<MountConfig> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, readonly) = match parts.as_slice() {
        [s, t] => (*s, *t, false),
        [s, t, "ro"] => (*s, *t, true),
        [s, t, "rw"] => (*s, *t, false),
        _ => anyhow::bail!("invalid volume {spec:?}: expected SOURCE:/path[:ro]"),
    };
    Ok(if source.starts_with('/') {
        MountConfig::Bind {
            source: source.into(),
            target: target.into(),
            readonly,
            propagation: Propagation::default(),
        }
    } else {
        MountConfig::Volume {
            name: source.into(),
            target: target.into(),
            readonly,
        }
    })
}
