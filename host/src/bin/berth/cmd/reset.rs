//! `berth reset`: stop the VM and delete its data disk, after a confirmation, exporting
//! the volumes first when asked (`--export-volumes DIR`, or yes at the prompt).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use berth_host::daemon::proto::Phase;
use berth_host::daemon::ClientError;
use berth_host::state::StateDirs;
use berth_host::volume_export;

use super::{client, paths};

pub async fn reset(dirs: &StateDirs, yes: bool, export_to: Option<PathBuf>) -> anyhow::Result<i32> {
    let disk = dirs.disk();
    let interactive = std::io::stdin().is_terminal();
    if !yes && !interactive {
        bail!("Refusing to delete the data disk without confirmation: pass --yes");
    }
    // Which volumes would be lost: only a running engine can say.
    let running = match client(dirs).status().await {
        Ok(report) => report.phase == Phase::Running,
        Err(ClientError::NotRunning) => false,
        Err(e) => return Err(e.into()),
    };
    let volumes = if running || export_to.is_some() {
        if !running {
            println!("Starting Berth to export its volumes...");
            let code = super::start::start(dirs).await?;
            if code != 0 {
                bail!(
                    "Berth did not start, so the volumes cannot be exported; nothing was deleted"
                );
            }
        }
        let docker = volume_export::connect(&paths(dirs).docker_socket)?;
        Some((volume_export::volume_names(&docker).await?, docker))
    } else {
        None
    };

    println!(
        "This stops Berth and deletes its data disk ({}):\n\
         every image, container and volume in it is lost.",
        disk.display()
    );
    let mut export_to = export_to;
    if let Some((names, _)) = &volumes {
        if !names.is_empty() {
            println!("Volumes: {}", names.join(", "));
            if export_to.is_none() && !yes {
                let dir = default_export_dir(dirs);
                if ask(
                    &format!("Export them to {} first? [Y/n] ", dir.display()),
                    true,
                )? {
                    export_to = Some(dir);
                }
            }
        }
    } else {
        println!(
            "Berth is not running, so its volumes cannot be listed; to keep them, cancel and \
             run `berth reset --export-volumes DIR`."
        );
    }
    if !yes && !ask("Delete the data disk? [y/N] ", false)? {
        println!("Nothing was deleted");
        return Ok(1);
    }
    if let (Some(dir), Some((names, docker))) = (&export_to, &volumes) {
        let exported = volume_export::export_volumes(docker, names, dir, |line| println!("{line}"))
            .await
            .context("The volumes could not be exported; nothing was deleted")?;
        for v in &exported {
            println!("  {} ({} bytes)", v.path.display(), v.bytes);
        }
        if !exported.is_empty() {
            println!(
                "Restore one later with:\n  docker volume create NAME && \
                 docker run --rm -i -v NAME:/v {} tar -C /v -xf - < {}/NAME.tar",
                volume_export::EXPORT_IMAGE,
                dir.display()
            );
        }
    }
    super::stop::stop_quietly(dirs).await?;
    match std::fs::remove_file(&disk) {
        Ok(()) => println!(
            "Deleted {}. The next `berth start` creates a fresh disk.",
            disk.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("There was no data disk"),
        Err(e) => return Err(e).with_context(|| format!("Cannot delete {}", disk.display())),
    }
    Ok(0)
}

/// A y/n question on the terminal; an empty answer takes `default`.
fn ask(question: &str, default: bool) -> anyhow::Result<bool> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(match answer.trim().to_lowercase().as_str() {
        "" => default,
        "y" | "yes" => true,
        _ => false,
    })
}

/// `~/berth-volumes-<unix seconds>` (beside the state directory when HOME is unset).
fn default_export_dir(dirs: &StateDirs) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs.disk()
                .parent()
                .map_or_else(|| Path::new(".").into(), Path::to_path_buf)
        });
    base.join(format!("berth-volumes-{secs}"))
}
