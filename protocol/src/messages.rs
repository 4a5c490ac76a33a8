//! The control messages. Field names are the wire's: change them only with
//! [`crate::PROTOCOL_VERSION`].

use serde::{Deserialize, Serialize};

/// What the host asks, as the first line of a control connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    /// Versions and capabilities; the first thing a host asks after boot.
    Hello { host_version: String, protocol: u32 },
    /// Is the engine up, and how is the VM doing.
    Health,
    /// Stream published ports: a snapshot, then changes (see [`PortEvent`]).
    PortEvents,
    /// Run a command in the VM (not in a container); frames follow.
    Exec(ExecRequest),
    /// Connect to a port published in the VM; the connection then carries its raw bytes
    /// (TCP, in half-close frames) or one flow's datagrams (UDP, in datagram frames, sent
    /// from one UDP socket of the agent so replies find their way back).
    Forward { proto: Proto, port: u16 },
    /// The agent echoes every byte (in half-close frames) until the host's end marker: the
    /// transport alone, without a container behind it (the ceiling `bench/forward` measures
    /// published ports against).
    Echo,
    /// Set the VM's clock to the host's (the host sends it after boot, after a resume, and
    /// every minute).
    TimeSync { unix_nanos: i64 },
    /// Stop the containers (SIGTERM, then SIGKILL after `stop_timeout_secs`), sync the data
    /// disk and power off. The agent answers [`Response::Ok`] before it powers off.
    Shutdown { stop_timeout_secs: u32 },
}

/// The agent's answer line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Response {
    Hello(Hello),
    Health(Health),
    Ok,
    Error { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub agent_version: String,
    pub protocol: u32,
    /// `exec`, `port-events`, `forward-tcp`, `forward-udp`, `echo`, `time-sync`, `shutdown`,
    /// `docker-api`: what this agent serves, so a newer host can degrade gracefully.
    pub capabilities: Vec<String>,
    /// `uname -srm` of the guest.
    pub kernel: String,
    /// Milliseconds since the guest kernel booted.
    pub uptime_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub engine: EngineState,
    /// How many times the supervisor has restarted the engine since boot.
    pub engine_restarts: u32,
    pub uptime_ms: u64,
    pub memory_total_kib: u64,
    pub memory_available_kib: u64,
    /// The agent's own resident memory.
    pub agent_rss_kib: u64,
    /// The data disk mounted at /var/lib/berth, if there is one.
    pub data_disk: Option<Disk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum EngineState {
    Starting,
    Running {
        pid: u32,
    },
    /// It died; the supervisor starts it again after a back-off.
    Restarting {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    pub device: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
    /// True when this boot created the filesystem (a blank disk).
    pub formatted_this_boot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRequest {
    pub command: Vec<String>,
    /// `KEY=value` pairs added to a minimal default environment.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// A PTY of this size; without it, stdout and stderr are separate pipes.
    #[serde(default)]
    pub tty: Option<TtySize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtySize {
    pub rows: u16,
    pub cols: u16,
}

/// How an exec ended: a code, or the signal that killed it (then `code` is 128 + signal,
/// as shells report it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    pub code: i32,
    #[serde(default)]
    pub signal: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortAction {
    Added,
    Removed,
}

/// A port published in the VM opened or closed. The host opens (or closes) a listener at
/// `host_ip:host_port` on the host and forwards each connection with [`Request::Forward`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortEvent {
    pub action: PortAction,
    /// True for the ports already published when the stream started.
    #[serde(default)]
    pub snapshot: bool,
    pub container_id: String,
    pub proto: Proto,
    /// The address the user asked to bind (`127.0.0.1` unless they opted into the LAN).
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
}
