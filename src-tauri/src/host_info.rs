//! `host_info`: where the Docker socket is, and the docker command the onboarding
//! offers to copy.

use std::time::Duration;

use berth_host::daemon::Paths;
use serde::Serialize;
use tauri::State;

use crate::error::CmdResult;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInfo {
    /// Berth's data directory (`BERTH_HOME` when set).
    pub home: String,
    pub docker_socket: String,
    pub docker_host: String,
    /// A docker context named `berth` exists (`berth context` makes it).
    pub context_installed: bool,
    pub cli_command: String,
}

#[tauri::command]
pub async fn host_info(state: State<'_, AppState>) -> CmdResult<HostInfo> {
    let socket = Paths::new(&state.dirs).docker_socket.display().to_string();
    Ok(info(
        state.dirs.data.display().to_string(),
        socket,
        context_installed().await,
    ))
}

pub fn info(home: String, docker_socket: String, context_installed: bool) -> HostInfo {
    let docker_host = format!("unix://{docker_socket}");
    let cli_command = if context_installed {
        "docker --context berth ps".to_string()
    } else {
        format!("DOCKER_HOST={docker_host} docker ps")
    };
    HostInfo {
        home,
        docker_socket,
        docker_host,
        context_installed,
        cli_command,
    }
}

/// Asks the docker CLI; no CLI (or one that hangs) means no context.
async fn context_installed() -> bool {
    let inspect = tokio::process::Command::new("docker")
        .args(["context", "inspect", "berth"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), inspect).await,
        Ok(Ok(status)) if status.success()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_uses_the_context_when_there_is_one() {
        let with = info("/b".into(), "/b/run/docker.sock".into(), true);
        assert_eq!(with.cli_command, "docker --context berth ps");
        assert_eq!(with.docker_host, "unix:///b/run/docker.sock");
        let without = info("/b".into(), "/b/run/docker.sock".into(), false);
        assert_eq!(
            without.cli_command,
            "DOCKER_HOST=unix:///b/run/docker.sock docker ps"
        );
        let json = serde_json::to_value(without).unwrap();
        assert_eq!(json["contextInstalled"], false);
        assert_eq!(json["dockerSocket"], "/b/run/docker.sock");
    }
}
