//! `berth context`: a docker context named `berth` pointing at the Docker socket, made the
//! current one (the docker CLI, compose and most SDKs honour it).

use std::process::Command;

use anyhow::{bail, Context as _};
use berth_host::state::StateDirs;

use super::docker_host;

pub fn context(dirs: &StateDirs, print: bool) -> anyhow::Result<i32> {
    let host = docker_host(dirs);
    if print {
        println!("DOCKER_HOST={host}");
        return Ok(0);
    }
    let exists = Command::new("docker")
        .args(["context", "inspect", "berth"])
        .output()
        .context("Cannot run the docker CLI (is it installed?)")?
        .status
        .success();
    let verb = if exists { "update" } else { "create" };
    docker(&[
        "context",
        verb,
        "berth",
        "--description",
        "Berth",
        "--docker",
        &format!("host={host}"),
    ])?;
    docker(&["context", "use", "berth"])?;
    println!("The docker CLI now uses Berth (context `berth`, {host}).");
    println!("Switch back with `docker context use default`.");
    Ok(0)
}

fn docker(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .context("Cannot run the docker CLI (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
