//! Container cgroups on cgroup v1 and v2 (cgroupfs driver only).
//!
//! The host's mode is detected once per manager: `/sys/fs/cgroup` being a cgroup2 mount
//! means the unified hierarchy (the Berth VM); anything else is v1 with the hierarchies
//! listed in `/proc/self/mountinfo`. A "hybrid" host's extra cgroup2 mount (usually
//! `/sys/fs/cgroup/unified`, without controllers) is ignored.
//!
//! Resources are translated into a plan of file writes (`v1_plan`, `v2_plan`), pure code
//! unit-tested on any host, then executed against the cgroup directories.

mod bpf;
mod convert;
mod fs;
pub(crate) mod mountinfo;
mod path;
mod plan_common;
mod v1;
mod v1_plan;
mod v2;
mod v2_devices;
mod v2_plan;

#[cfg(test)]
mod tests_root_v1;
#[cfg(test)]
mod tests_root_v2_devices;
#[cfg(test)]
mod tests_v2;
#[cfg(test)]
mod tests_v2_devices;

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};
use oci_spec::runtime::LinuxResources;

/// Where cgroup filesystems are mounted on every distribution and in the Berth VM.
const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// What went wrong managing a container's cgroup. `what` names the spec field (e.g.
/// `memory.limit`) or the operation the failure blocked.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error(
        "Cgroup path {0:?} is in systemd form (slice:prefix:name), but Berth only has the \
         cgroupfs driver: use a path such as /berth/<id>"
    )]
    SystemdPath(PathBuf),
    #[error("Invalid cgroup path {path:?}: {reason}")]
    InvalidPath { path: PathBuf, reason: &'static str },
    #[error("Container id {0:?} cannot name a cgroup")]
    InvalidId(String),
    #[error("Cannot tell the cgroup version of {path}")]
    Detect {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    #[error("Cannot read /proc/self/mountinfo to find the cgroup hierarchies")]
    Mountinfo(#[source] io::Error),
    #[error("No cgroup v1 hierarchy is mounted and {CGROUP_MOUNT} is not cgroup v2")]
    NoHierarchy,
    #[error("Cannot create cgroup directory {path}")]
    Mkdir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{what} needs the {controller} cgroup controller, which is not mounted")]
    ControllerMissing {
        what: String,
        controller: &'static str,
    },
    #[error(
        "{what} needs {file}, which does not exist (its controller is missing or not enabled)"
    )]
    FileMissing { what: String, file: PathBuf },
    #[error("Cannot write {value:?} to {file} for {what}")]
    Write {
        what: String,
        value: String,
        file: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Cannot read {file}")]
    Read {
        file: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Invalid {what}: {reason}")]
    InvalidValue { what: String, reason: String },
    #[error("{what} is not supported on cgroup {version}")]
    Unsupported { what: String, version: &'static str },
    #[error("Cannot move process {pid} into {file}")]
    AddProcess {
        pid: i32,
        file: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Cannot kill process {pid}")]
    Kill {
        pid: i32,
        #[source]
        source: nix::Error,
    },
    #[error("Cgroup {path} was not {state} within 5 s")]
    FreezeTimeout { path: PathBuf, state: &'static str },
    #[error("Cgroup {path} still holds processes {pids:?} 5 s after SIGKILL")]
    NotEmpty { path: PathBuf, pids: Vec<i32> },
    #[error(
        "Cannot load the eBPF program enforcing linux.resources.devices{}",
        verifier_log_suffix(.log)
    )]
    DeviceProgramLoad {
        /// The verifier's report, empty when it gave none.
        log: String,
        #[source]
        source: io::Error,
    },
    #[error("Cannot {action} {path} for linux.resources.devices")]
    DeviceProgram {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Cannot remove cgroup directory {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn verifier_log_suffix(log: &str) -> String {
    if log.is_empty() {
        String::new()
    } else {
        format!(" (verifier log: {log})")
    }
}

#[derive(Debug, Clone)]
enum Backend {
    V1(v1::V1),
    V2(v2::V2),
}

/// One container's cgroup, on whichever cgroup version the host runs.
#[derive(Debug, Clone)]
pub struct CgroupManager {
    backend: Backend,
}

impl CgroupManager {
    /// `cgroups_path` is the spec's `linux.cgroupsPath`: `None` => `/berth/<id>`; an absolute
    /// path is relative to the hierarchy root; a relative one is placed under `/berth/`.
    /// The systemd form `slice:prefix:name`, `..` components and NUL bytes are refused.
    pub fn new(cgroups_path: Option<&Path>, container_id: &str) -> Result<Self, CgroupError> {
        let path = path::resolve(cgroups_path, container_id)?;
        let root = Path::new(CGROUP_MOUNT);
        let fs = statfs(root).map_err(|source| CgroupError::Detect {
            path: root.to_path_buf(),
            source,
        })?;
        let backend = if fs.filesystem_type() == CGROUP2_SUPER_MAGIC {
            Backend::V2(v2::V2::new(root.to_path_buf(), path))
        } else {
            Backend::V1(v1::V1::detect(path)?)
        };
        Ok(CgroupManager { backend })
    }

    /// A manager on a cgroup v2 hierarchy mounted at `root` (or a directory standing in for
    /// one in tests), skipping detection.
    pub fn with_root(
        root: &Path,
        cgroups_path: Option<&Path>,
        container_id: &str,
    ) -> Result<Self, CgroupError> {
        let path = path::resolve(cgroups_path, container_id)?;
        let backend = Backend::V2(v2::V2::new(root.to_path_buf(), path));
        Ok(CgroupManager { backend })
    }

    /// Creates the cgroup and its missing ancestors (in every hierarchy on v1); on v2 also
    /// enables the container controllers along the way.
    pub fn create(&self) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.create(),
            Backend::V2(v2) => v2.create(),
        }
    }

    /// Applies `linux.resources`; call before the user process runs. A limit whose
    /// controller or file is missing fails naming the limit, never silently.
    pub fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.apply(resources),
            Backend::V2(v2) => v2.apply(resources),
        }
    }

    /// Moves `pid` into the cgroup (every hierarchy on v1).
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.add_process(pid),
            Backend::V2(v2) => v2.add_process(pid),
        }
    }

    /// The processes in the cgroup and its descendants, sorted.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.pids(),
            Backend::V2(v2) => v2.pids(),
        }
    }

    /// Freezes every process and waits (up to 5 s) until the kernel reports it frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.freeze(),
            Backend::V2(v2) => v2.freeze(),
        }
    }

    /// Resumes a frozen cgroup and waits until the kernel reports it thawed.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.thaw(),
            Backend::V2(v2) => v2.thaw(),
        }
    }

    /// Kills whatever is left, waits (up to 5 s) until the cgroup is empty and removes it,
    /// children first. A cgroup that does not exist is already destroyed.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        match &self.backend {
            Backend::V1(v1) => v1.destroy(),
            Backend::V2(v2) => v2.destroy(),
        }
    }

    /// Whether the cgroup lives on the unified (v2) hierarchy.
    pub fn is_v2(&self) -> bool {
        matches!(self.backend, Backend::V2(_))
    }

    /// The cgroup path relative to the hierarchy root, e.g. `/berth/abc`.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::V1(v1) => v1.path(),
            Backend::V2(v2) => v2.path(),
        }
    }
}
