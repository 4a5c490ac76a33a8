//! Powering down in order: containers (through the engine, so their exit is recorded),
//! the engine, every other process, the data disk, then the machine.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::control::{docker, Context};

/// How long the engine gets to exit after SIGTERM.
const ENGINE_GRACE: Duration = Duration::from_secs(10);

pub async fn power_down(ctx: Arc<Context>, stop_timeout_secs: u32) -> ! {
    super::console::info("shutting down");
    stop_containers(&ctx.docker_socket, stop_timeout_secs).await;
    if let Some(vm) = &ctx.vm {
        vm.supervisor.stop(ENGINE_GRACE).await;
    }
    let finished = tokio::task::spawn_blocking(|| {
        super::power::kill_everything(Duration::from_secs(1));
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
        unmount_data();
    })
    .await;
    if finished.is_err() {
        super::console::warn("the last shutdown steps failed");
    }
    super::power::power_off()
}

/// Stops every running container at once (each gets the full timeout, as `docker stop`
/// gives it). `berth-shutdown=1`: a shutdown is no stop by the user, so the containers'
/// restart policies bring them back when the engine next starts (docker's rule).
async fn stop_containers(socket: &Path, timeout: u32) {
    let running = match docker::get_json(socket, "/containers/json").await {
        Ok(list) => list,
        Err(e) => {
            super::console::warn(&format!(
                "cannot list containers: {}",
                super::console::chain(&e)
            ));
            return;
        }
    };
    let ids: Vec<String> = running
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["Id"].as_str().map(str::to_string))
        .collect();
    let stops = ids.into_iter().map(|id| {
        let socket = socket.to_path_buf();
        tokio::spawn(async move {
            let path = format!("/containers/{id}/stop?t={timeout}&berth-shutdown=1");
            if let Err(e) = docker::post(&socket, &path).await {
                super::console::warn(&format!("cannot stop {id}: {}", super::console::chain(&e)));
            }
        })
    });
    for stop in stops.collect::<Vec<_>>() {
        let _ = stop.await;
    }
}

/// Unmounts the data disk; if something still holds it, detaches it (its filesystem is
/// synced already) so the journal is closed as cleanly as the kernel can.
fn unmount_data() {
    use nix::mount::{umount2, MntFlags};
    if umount2(super::disk::DATA_DIR, MntFlags::empty()).is_err() {
        let _ = umount2(super::disk::DATA_DIR, MntFlags::MNT_DETACH);
    }
}
