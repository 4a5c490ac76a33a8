//! `berth reset`: stop the VM and delete its data disk, after a confirmation.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context as _};
use berth_host::state::StateDirs;

pub async fn reset(dirs: &StateDirs, yes: bool) -> anyhow::Result<i32> {
    let disk = dirs.disk();
    println!(
        "This stops Berth and deletes its data disk ({}):\n\
         every image, container and volume in it is lost.\n\
         Keep what you need first: `docker save IMAGE -o file.tar` for images, and \
         `docker run --rm -v VOLUME:/v -v \"$PWD\":/out busybox tar -C /v -cf /out/VOLUME.tar .` \
         for volumes.",
        disk.display()
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("Refusing to delete the data disk without confirmation: pass --yes");
        }
        print!("Delete the data disk? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing was deleted");
            return Ok(1);
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
