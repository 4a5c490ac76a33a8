//! `berth stop`: the daemon stops the VM and exits. Without a daemon (it was killed), a VM
//! left running is stopped from here.

use std::time::Duration;

use berth_host::backend::Status;
use berth_host::daemon::proto::DaemonRequest;
use berth_host::daemon::vm_setup::build_vm;
use berth_host::daemon::ClientError;
use berth_host::settings::Settings;
use berth_host::state::StateDirs;

use super::client;

pub async fn stop(dirs: &StateDirs) -> anyhow::Result<i32> {
    stop_quietly(dirs).await?;
    println!("Berth stopped");
    Ok(0)
}

/// Stops the VM and the daemon; Ok when nothing ran.
pub async fn stop_quietly(dirs: &StateDirs) -> anyhow::Result<()> {
    match client(dirs)
        .expect_ok(&DaemonRequest::Stop, Duration::from_secs(120))
        .await
    {
        // The daemon exits right after answering: a closed connection is success too.
        Ok(()) | Err(ClientError::Closed) => Ok(()),
        Err(ClientError::NotRunning) => {
            let vm = build_vm(dirs, &Settings::load(dirs)?)?;
            if matches!(vm.status().await, Status::Running { .. }) {
                println!("No daemon is running; stopping the VM it left running...");
                vm.stop().await?;
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
