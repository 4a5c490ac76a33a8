//! The daemon's control protocol on `<run>/daemon.sock`: one JSON line in, JSON lines out,
//! one request per connection (the same shape as the agent's control service). The CLI
//! and the GUI are its clients.
//!
//! | request                          | answer                                              |
//! |----------------------------------|-----------------------------------------------------|
//! | `{"type":"status"}`              | one `{"type":"status",...}` ([`StatusReport`])      |
//! | `{"type":"start"}`               | `{"type":"ok"}` at once; boots a stopped VM         |
//! | `{"type":"restart"}`             | `{"type":"ok"}` at once; stops then boots the VM    |
//! | `{"type":"stop"}`                | `{"type":"ok"}` once the VM is off; the daemon exits |
//! | `{"type":"events","follow":b}`   | `{"type":"event",...}` lines: the recent ones, then (follow) new ones |
//!
//! Any failure is `{"type":"error","code":...,"message":...}`; clients match on `code`.

use std::path::PathBuf;

use berth_protocol::Proto;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DaemonRequest {
    Status,
    Start,
    Restart,
    Stop,
    Events {
        #[serde(default)]
        follow: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DaemonResponse {
    Status(Box<StatusReport>),
    Ok,
    Event(DaemonEvent),
    Error { code: ErrorCode, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Not a request this daemon knows (an older daemon, a newer client).
    Unimplemented,
    BadRequest,
    /// The VM could not be stopped or started.
    Failed,
}

/// Where the daemon is in the VM's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The VMM is starting.
    Booting,
    /// The VMM runs; the agent has not answered hello yet (also while reattaching).
    WaitingForAgent,
    /// The agent is up; the Docker engine is not serving yet.
    EngineStarting,
    Running,
    Stopping,
    Stopped,
    /// Boot failed or the VM crashed: see `last_error`.
    Failed,
}

impl Phase {
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Booting => "starting the VM",
            Phase::WaitingForAgent => "waiting for the agent",
            Phase::EngineStarting => "agent up, starting the engine",
            Phase::Running => "running",
            Phase::Stopping => "stopping",
            Phase::Stopped => "stopped",
            Phase::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub phase: Phase,
    pub daemon_pid: u32,
    pub daemon_version: String,
    /// `qemu-tcg`, `qemu-kvm`, ...
    pub backend: String,
    /// True when this daemon found the VM already running and took it over.
    pub reattached: bool,
    pub cpus: u32,
    pub memory_mib: u64,
    pub shares: Vec<PathBuf>,
    pub docker_socket: PathBuf,
    pub agent: Option<AgentReport>,
    pub ports: Vec<ForwardedPort>,
    pub port_errors: Vec<PortError>,
    pub last_error: Option<String>,
}

/// Said when the agent runs without its data disk (its device never appeared): the
/// engine works, but on memory.
pub const NO_DATA_DISK: &str = "The VM's data disk is not mounted: containers, images and \
    volumes are kept in memory and lost when the VM stops (the console log says why)";

/// The agent's side, asked live when the status is requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReport {
    pub version: String,
    pub kernel: String,
    pub protocol: u32,
    /// Milliseconds since the guest booted: it keeps growing across daemon restarts.
    pub uptime_ms: u64,
    /// `starting`, `running`, `restarting: <reason>`, or why it could not be asked.
    pub engine: String,
    pub engine_restarts: u32,
    /// The data disk at /var/lib/berth; `None` when the agent runs without one (its
    /// device never appeared), so containers, images and volumes live in memory.
    #[serde(default)]
    pub data_disk: Option<berth_protocol::Disk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardedPort {
    pub proto: Proto,
    /// Where the host listens.
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub container_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortError {
    pub proto: Proto,
    pub host_ip: String,
    pub host_port: u16,
    pub container_id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonEvent {
    pub unix_ms: u64,
    pub kind: EventKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Phase,
    PortAdded,
    PortRemoved,
    PortError,
    /// A client program used the Docker socket (its User-Agent, e.g. `Docker-Client/28.3.0`).
    DockerClient,
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_are_tagged_lines() {
        let req: DaemonRequest = serde_json::from_str(r#"{"type":"events"}"#).unwrap();
        assert_eq!(req, DaemonRequest::Events { follow: false });
        let line = serde_json::to_string(&DaemonRequest::Status).unwrap();
        assert_eq!(line, r#"{"type":"status"}"#);
        let err = DaemonResponse::Error {
            code: ErrorCode::Unimplemented,
            message: "x".into(),
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"type":"error","code":"unimplemented","message":"x"}"#
        );
    }
}
