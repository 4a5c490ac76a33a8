//! `berth events`: the daemon's recent events (phases, ports, port errors), optionally
//! followed as they happen.

use berth_host::daemon::proto::EventKind;
use berth_host::state::StateDirs;

use super::client;

pub async fn events(dirs: &StateDirs, follow: bool, json: bool) -> anyhow::Result<i32> {
    let mut events = client(dirs).events(follow).await?;
    while let Some(event) = events.next().await {
        let event = event?;
        if json {
            println!("{}", serde_json::to_string(&event)?);
            continue;
        }
        let kind = match event.kind {
            EventKind::Phase => "phase",
            EventKind::PortAdded => "port+",
            EventKind::PortRemoved => "port-",
            EventKind::PortError => "PORT ERROR",
            EventKind::DockerClient => "client",
            EventKind::Error => "ERROR",
        };
        let secs = event.unix_ms / 1000;
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        println!("{h:02}:{m:02}:{s:02}Z  {kind:<10} {}", event.message);
    }
    Ok(0)
}
