//! `EngineStatus`: the daemon's status report as the UI reads it (camelCase), and the
//! same shape when no daemon runs (the configured settings, phase `stopped`).

use std::path::PathBuf;

use berth_host::daemon::proto::{DaemonEvent, EventKind, Phase, StatusReport};
use berth_host::daemon::Paths;
use berth_host::settings::Settings;
use berth_host::state::StateDirs;
use berth_protocol::Proto;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub daemon_running: bool,
    pub phase: Phase,
    pub last_error: Option<String>,
    pub backend: Option<String>,
    pub cpus: u32,
    pub memory_mib: u64,
    pub shares: Vec<PathBuf>,
    pub docker_socket: PathBuf,
    pub versions: Versions,
    pub uptime_ms: Option<u64>,
    pub engine: Option<String>,
    pub ports: Vec<Port>,
    pub port_errors: Vec<PortError>,
    /// The VM's data disk, once the agent answers: `mounted: false` means everything
    /// lives in memory and is lost when the VM stops.
    pub disk: Option<DiskStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskStatus {
    pub mounted: bool,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

impl DiskStatus {
    fn of(disk: Option<&berth_protocol::Disk>) -> DiskStatus {
        DiskStatus {
            mounted: disk.is_some(),
            total_bytes: disk.map_or(0, |d| d.total_bytes),
            free_bytes: disk.map_or(0, |d| d.free_bytes),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Versions {
    pub app: String,
    pub daemon: Option<String>,
    pub agent: Option<String>,
    pub kernel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Port {
    pub proto: Proto,
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub container_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortError {
    pub proto: Proto,
    pub host_ip: String,
    pub host_port: u16,
    pub container_id: String,
    pub message: String,
}

/// A daemon event as the UI reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub unix_ms: u64,
    pub kind: EventKind,
    pub message: String,
}

impl From<DaemonEvent> for Event {
    fn from(e: DaemonEvent) -> Event {
        Event {
            unix_ms: e.unix_ms,
            kind: e.kind,
            message: e.message,
        }
    }
}

pub fn app_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

impl EngineStatus {
    /// What the daemon reported.
    pub fn from_report(r: StatusReport) -> EngineStatus {
        let agent = r.agent.as_ref();
        EngineStatus {
            daemon_running: true,
            phase: r.phase,
            last_error: r.last_error,
            backend: Some(r.backend),
            cpus: r.cpus,
            memory_mib: r.memory_mib,
            shares: r.shares,
            docker_socket: r.docker_socket,
            versions: Versions {
                app: app_version(),
                daemon: Some(r.daemon_version),
                agent: agent.map(|a| a.version.clone()),
                kernel: agent.map(|a| a.kernel.clone()),
            },
            uptime_ms: agent.map(|a| a.uptime_ms),
            engine: agent.map(|a| a.engine.clone()),
            disk: agent.map(|a| DiskStatus::of(a.data_disk.as_ref())),
            ports: r
                .ports
                .into_iter()
                .map(|p| Port {
                    proto: p.proto,
                    host_ip: p.host_ip,
                    host_port: p.host_port,
                    container_port: p.container_port,
                    container_id: p.container_id,
                })
                .collect(),
            port_errors: r
                .port_errors
                .into_iter()
                .map(|e| PortError {
                    proto: e.proto,
                    host_ip: e.host_ip,
                    host_port: e.host_port,
                    container_id: e.container_id,
                    message: e.message,
                })
                .collect(),
        }
    }

    /// No daemon: the settings a start would use, and why the last start failed (if
    /// this app saw it).
    pub fn not_running(
        dirs: &StateDirs,
        settings: &Settings,
        last_error: Option<String>,
    ) -> EngineStatus {
        EngineStatus {
            daemon_running: false,
            phase: if last_error.is_some() {
                Phase::Failed
            } else {
                Phase::Stopped
            },
            last_error,
            backend: None,
            cpus: settings.cpus,
            memory_mib: settings.memory_mib,
            shares: settings.shares.clone(),
            docker_socket: Paths::new(dirs).docker_socket,
            versions: Versions {
                app: app_version(),
                daemon: None,
                agent: None,
                kernel: None,
            },
            uptime_ms: None,
            engine: None,
            ports: Vec::new(),
            port_errors: Vec::new(),
            disk: None,
        }
    }

    /// A daemon that runs but did not answer well (hung, or a version that speaks
    /// differently): shown as failed with the reason, not as an error of the command.
    pub fn unreachable(dirs: &StateDirs, settings: &Settings, error: String) -> EngineStatus {
        EngineStatus {
            daemon_running: true,
            ..EngineStatus::not_running(dirs, settings, Some(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_host::daemon::proto::{AgentReport, ForwardedPort};

    fn report() -> StatusReport {
        StatusReport {
            phase: Phase::Running,
            daemon_pid: 42,
            daemon_version: "0.1.0".into(),
            backend: "qemu-tcg".into(),
            reattached: false,
            cpus: 4,
            memory_mib: 4096,
            shares: vec!["/home/u".into()],
            docker_socket: "/run/berth/docker.sock".into(),
            agent: Some(AgentReport {
                version: "0.1.0".into(),
                kernel: "6.1.0".into(),
                protocol: 1,
                uptime_ms: 5000,
                engine: "running".into(),
                engine_restarts: 0,
                data_disk: Some(berth_protocol::Disk {
                    device: "/dev/vda".into(),
                    total_bytes: 64 << 30,
                    free_bytes: 60 << 30,
                    formatted_this_boot: false,
                }),
            }),
            ports: vec![ForwardedPort {
                proto: Proto::Tcp,
                host_ip: "127.0.0.1".into(),
                host_port: 8080,
                container_port: 80,
                container_id: "abc".into(),
            }],
            port_errors: vec![],
            last_error: None,
        }
    }

    #[test]
    fn a_report_maps_to_the_contracts_camel_case_shape() {
        let json = serde_json::to_value(EngineStatus::from_report(report())).unwrap();
        assert_eq!(json["daemonRunning"], true);
        assert_eq!(json["phase"], "running");
        assert_eq!(json["memoryMib"], 4096);
        assert_eq!(json["versions"]["kernel"], "6.1.0");
        assert_eq!(json["uptimeMs"], 5000);
        assert_eq!(json["engine"], "running");
        assert_eq!(json["ports"][0]["proto"], "tcp");
        assert_eq!(json["ports"][0]["hostPort"], 8080);
        assert_eq!(json["ports"][0]["containerId"], "abc");
        assert_eq!(json["portErrors"], serde_json::json!([]));
        assert_eq!(json["disk"]["mounted"], true);
        assert_eq!(json["disk"]["freeBytes"], 60u64 << 30);
        let mut in_memory = report();
        in_memory.agent.as_mut().unwrap().data_disk = None;
        let json = serde_json::to_value(EngineStatus::from_report(in_memory)).unwrap();
        assert_eq!(json["disk"]["mounted"], false);
        let mut waiting = report();
        waiting.phase = Phase::WaitingForAgent;
        waiting.agent = None;
        let json = serde_json::to_value(EngineStatus::from_report(waiting)).unwrap();
        assert_eq!(json["phase"], "waiting-for-agent");
        assert_eq!(json["uptimeMs"], serde_json::Value::Null);
        assert_eq!(json["disk"], serde_json::Value::Null);
    }

    #[test]
    fn no_daemon_is_stopped_or_failed_with_the_spawn_error() {
        let dirs = StateDirs::at("/b");
        let settings = Settings::default();
        let s = EngineStatus::not_running(&dirs, &settings, None);
        assert_eq!((s.daemon_running, s.phase), (false, Phase::Stopped));
        assert_eq!(s.docker_socket, PathBuf::from("/b/run/docker.sock"));
        assert_eq!(s.cpus, settings.cpus);
        let s = EngineStatus::not_running(&dirs, &settings, Some("exited".into()));
        assert_eq!(s.phase, Phase::Failed);
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["lastError"], "exited");
        assert_eq!(json["versions"]["daemon"], serde_json::Value::Null);
        let event = Event::from(DaemonEvent {
            unix_ms: 1,
            kind: EventKind::DockerClient,
            message: "Docker-Client/28.3.0 (linux)".into(),
        });
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["kind"], "docker-client");
        assert_eq!(json["unixMs"], 1);
    }
}
