//! What a container is asked to be: the engine's own model of a create request. The
//! Docker API layer maps its bodies onto [`ContainerConfig`]; nothing in it is trusted
//! until [`ContainerConfig::validate`] has accepted it, and the image's own config is
//! merged in later (`container::spec::merge`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::etc_files;

/// Why a container config was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("No image given")]
    MissingImage,
    #[error("Invalid environment variable {entry:?}: {reason}")]
    Env { entry: String, reason: &'static str },
    #[error("The working directory {0:?} is invalid, it needs to be an absolute path")]
    WorkingDir(String),
    #[error("Invalid {field} {value:?}: {reason}")]
    Name {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("Invalid mount target {target:?}: {reason}")]
    MountTarget {
        target: String,
        reason: &'static str,
    },
    #[error("Duplicate mount point: {0}")]
    DuplicateMount(String),
    #[error("Invalid bind mount source {0:?}: it needs to be an absolute path")]
    MountSource(PathBuf),
    /// A bind source outside every folder shared into the VM (Docker Desktop's wording).
    #[error("Mounts denied: the path {} is not shared from the host and is not known to Berth", .0.display())]
    MountDenied(PathBuf),
    #[error("Invalid volume name {0:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    VolumeName(String),
    #[error("Invalid {name}: {reason}")]
    Limit { name: &'static str, reason: String },
    #[error("Unknown capability: {0:?}")]
    Capability(String),
    #[error("Invalid restart policy {policy:?}: {reason}")]
    RestartPolicy {
        policy: String,
        reason: &'static str,
    },
    #[error("Invalid signal: {0:?}")]
    Signal(String),
    #[error("Invalid security option {0:?}")]
    SecurityOpt(String),
    #[error("Invalid sysctl {name:?}: {reason}")]
    Sysctl { name: String, reason: &'static str },
    #[error("Invalid ulimit {name:?}: {reason}")]
    Ulimit { name: String, reason: &'static str },
    #[error("Invalid extra host {0:?}: expected NAME:IP")]
    ExtraHost(String),
    #[error("Invalid DNS server {0:?}: expected an IP address")]
    Dns(String),
}

type Result<T> = std::result::Result<T, ConfigError>;

/// A container as the request asked for it. Paths inside the container are strings
/// (they are never opened on the host); host paths are `PathBuf`s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    /// The image reference as given (`busybox`, `docker.io/library/busybox:1.36`, an ID).
    pub image: String,
    /// Replaces the image's entrypoint; `Some([])` or `Some([""])` clears it.
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's Cmd; `None` keeps it unless an entrypoint was given.
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` overrides the image's KEY; a bare `KEY` removes it.
    pub env: Vec<String>,
    /// Absolute directory the process starts in; default: the image's, else `/`.
    pub working_dir: Option<String>,
    /// `user`, `uid`, `user:group` or `uid:gid`; default: the image's, else root.
    pub user: Option<String>,
    /// Supplementary groups added to the user's own (`--group-add`), names or ids.
    pub group_add: Vec<String>,
    /// Default: the first 12 characters of the container id.
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// Merged over the image's labels.
    pub labels: BTreeMap<String, String>,
    /// `PORT/PROTO` (`80/tcp`), merged with the image's.
    pub exposed_ports: BTreeSet<String>,
    /// Allocate a terminal (also sets `TERM=xterm`).
    pub tty: bool,
    /// The terminal's initial size (rows, columns), with `tty`.
    pub console_size: Option<(u16, u16)>,
    /// Keep stdin open for attach.
    pub open_stdin: bool,
    /// Close the container's stdin when the first attach client that wrote to it
    /// half-closes (`docker run -i`: the end of piped input ends the container's).
    pub stdin_once: bool,
    /// Signal `stop` sends first (`SIGTERM`, `TERM`, `15`); default: the image's, else SIGTERM.
    pub stop_signal: Option<String>,
    /// Seconds `stop` waits before SIGKILL; default 10 (the lifecycle module decides).
    pub stop_timeout: Option<u32>,
    /// Run a small init as pid 1 that reaps zombies and forwards signals.
    pub init: bool,
    pub mounts: Vec<MountConfig>,
    /// Targets that get a fresh anonymous volume (`-v /data`), like an image's VOLUMEs;
    /// `rm -v` removes them with the container.
    pub volumes: BTreeSet<String>,
    pub resources: Resources,
    pub restart_policy: RestartPolicy,
    /// `bridge`, `host`, `none`, `container:<id>` or a network name; the network module
    /// interprets it.
    pub network_mode: String,
    /// Published ports: `80/tcp` -> where on the engine's host it is reachable. A binding
    /// with an empty host port takes any free one; an empty host IP means the default
    /// bind address (127.0.0.1, see docs/networking.md).
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    /// `-P`: publish every exposed port on a free host port.
    pub publish_all_ports: bool,
    /// The networks the container joins at start (besides `network_mode`'s), by name, with
    /// the endpoint each asked for.
    pub networks: BTreeMap<String, EndpointConfig>,
    /// Capability names (`NET_ADMIN`, `CAP_NET_ADMIN`, any case) or `ALL`.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Every capability and device, no seccomp, no masked or read-only paths.
    pub privileged: bool,
    /// Mount the root filesystem read-only.
    pub read_only_rootfs: bool,
    /// `seccomp=unconfined`, `no-new-privileges[=true|false]`, `apparmor=...`, `label=...`.
    pub security_opt: Vec<String>,
    /// Namespaced sysctls only (`net.*`, `fs.mqueue.*`, IPC `kernel.*` ones).
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    /// `NAME:IP` (or `NAME=IP`) lines for /etc/hosts; IP may be `host-gateway`.
    pub extra_hosts: Vec<String>,
    /// Name servers for /etc/resolv.conf instead of the host's.
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// Size of /dev/shm in bytes; default 64 MiB.
    pub shm_size: Option<i64>,
    /// `--rm`: the engine removes the container (and its anonymous volumes) once it ends.
    pub auto_remove: bool,
}

/// Where a published container port is bound on the engine's host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortBinding {
    /// Empty: the default bind address.
    pub host_ip: String,
    /// A port, a range (`8000-8010`) or empty (any free port).
    pub host_port: String,
}

/// What a container asks of one network it joins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointConfig {
    /// Other names the container answers to on this network.
    pub aliases: Vec<String>,
    /// A fixed address in the network's subnet.
    pub ipv4_address: Option<String>,
}

/// One mount the request asked for, on top of the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MountConfig {
    /// A host path (already inside a shared folder, checked by the caller).
    Bind {
        source: PathBuf,
        target: String,
        #[serde(default)]
        readonly: bool,
        #[serde(default)]
        propagation: Propagation,
    },
    /// A named volume; the volume module turns the name into a host directory.
    Volume {
        name: String,
        target: String,
        #[serde(default)]
        readonly: bool,
    },
    /// A fresh tmpfs; size in bytes (default: half of RAM, the kernel's), mode in octal.
    Tmpfs {
        target: String,
        #[serde(default)]
        size: Option<i64>,
        #[serde(default)]
        mode: Option<u32>,
    },
}

impl MountConfig {
    /// Where the mount appears inside the container.
    pub fn target(&self) -> &str {
        match self {
            MountConfig::Bind { target, .. }
            | MountConfig::Volume { target, .. }
            | MountConfig::Tmpfs { target, .. } => target,
        }
    }
}

/// Mount propagation of a bind mount; docker's default is `rprivate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    Private,
    #[default]
    Rprivate,
    Shared,
    Rshared,
    Slave,
    Rslave,
}

impl Propagation {
    /// The OCI mount option naming it.
    pub fn as_option(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }
}

/// cgroup limits. Signed like the Docker API, so that a negative value from a client
/// reaches validation instead of wrapping around.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes; -1 means unlimited swap. Default: twice `memory`.
    pub memory_swap: Option<i64>,
    /// CPU quota in billionths of a CPU (`--cpus 1.5` = 1_500_000_000).
    pub nano_cpus: Option<i64>,
    /// Relative CPU weight (cgroup v1 shares).
    pub cpu_shares: Option<i64>,
    /// Maximum number of processes; 0 or -1 means unlimited.
    pub pids_limit: Option<i64>,
    /// CPUs the container may run on (`0-2,4`).
    pub cpuset_cpus: Option<String>,
}

/// What happens when the container's process exits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    /// Restart after a non-zero exit; `max_retries` 0 means no limit.
    OnFailure {
        max_retries: u32,
    },
    UnlessStopped,
}

impl std::str::FromStr for RestartPolicy {
    type Err = ConfigError;

    /// Docker's syntax: `no`, `always`, `unless-stopped`, `on-failure[:N]` (empty = no).
    fn from_str(text: &str) -> Result<Self> {
        let err = |reason| ConfigError::RestartPolicy {
            policy: text.to_string(),
            reason,
        };
        let (name, count) = match text.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (text, None),
        };
        let policy = match name {
            "" | "no" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure { max_retries: 0 },
            _ => return Err(err("expected no, always, on-failure[:N] or unless-stopped")),
        };
        match (policy, count) {
            (_, None) => Ok(policy),
            (RestartPolicy::OnFailure { .. }, Some(count)) => {
                let max_retries = count
                    .parse()
                    .map_err(|_| err("the retry count must be a non-negative integer"))?;
                Ok(RestartPolicy::OnFailure { max_retries })
            }
            (_, Some(_)) => Err(err("a retry count is only valid with on-failure")),
        }
    }
}

/// One resource limit (`--ulimit nofile=1024:2048`); -1 means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Security options that change the spec, from `security_opt`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    pub seccomp_unconfined: bool,
    pub no_new_privileges: bool,
}

/// Resource limits names accepted in `ulimits`, as `RLIMIT_<NAME>` in the spec.
pub const ULIMIT_NAMES: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// Sysctls that belong to the container's IPC namespace (moby's list); `net.*` and
/// `fs.mqueue.*` are namespaced as whole trees.
mod shared;
mod validate;

pub use shared::SharedPaths;
pub use validate::{clean_target, parse_capability, parse_signal, validate_env};
