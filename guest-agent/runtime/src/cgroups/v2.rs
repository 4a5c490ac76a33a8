//! cgroup v2: one unified hierarchy; controllers reach a cgroup only when every ancestor
//! lists them in `cgroup.subtree_control`.

use std::io;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use super::fs::{self as cgfs, DRAIN_TIMEOUT, FREEZE_TIMEOUT};
use super::path::{ancestry, under};
use super::{v2_devices, v2_plan, CgroupError};

/// The controllers a container's resources can use; others are left alone.
const CONTAINER_CONTROLLERS: &[&str] = &[
    "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
];

/// The container's cgroup below a unified hierarchy `root`.
#[derive(Debug, Clone)]
pub(crate) struct V2 {
    root: PathBuf,
    path: PathBuf,
}

impl V2 {
    pub fn new(root: PathBuf, path: PathBuf) -> Self {
        V2 { root, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> PathBuf {
        under(&self.root, &self.path)
    }

    /// Creates each level, first enabling in its parent the controllers the root offers, so
    /// the leaf gets their interface files. The leaf itself enables nothing: a cgroup with
    /// controllers in subtree_control cannot hold processes.
    pub fn create(&self) -> Result<(), CgroupError> {
        let offered = cgfs::read_file(&self.root.join("cgroup.controllers"))?;
        let wanted: Vec<&str> = offered
            .split_whitespace()
            .filter(|c| CONTAINER_CONTROLLERS.contains(c))
            .collect();
        let mut parent = self.root.clone();
        for level in ancestry(&self.path) {
            enable_controllers(&parent, &wanted)?;
            let dir = under(&self.root, &level);
            cgfs::make_dir(&dir)?;
            parent = dir;
        }
        Ok(())
    }

    /// Writes the planned files, then attaches the device program (when the spec has
    /// device rules). Both are built first, so an invalid value changes nothing.
    pub fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        let steps = v2_plan::plan(resources)?;
        let devices = resources.devices().as_deref();
        let device_program = devices.map(v2_devices::program).transpose()?;
        let dir = self.dir();
        cgfs::execute(&steps, |_| Ok(dir.clone()))?;
        if let Some(program) = device_program {
            v2_devices::enforce(&dir, &program)?;
        }
        Ok(())
    }

    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        let file = self.dir().join("cgroup.procs");
        cgfs::write_file(&file, &pid.to_string()).map_err(|source| CgroupError::AddProcess {
            pid,
            file,
            source,
        })
    }

    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let mut pids = Vec::new();
        cgfs::pids_in_tree(&self.dir(), &mut pids)?;
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.set_frozen(true)
    }

    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.set_frozen(false)
    }

    /// Writes cgroup.freeze and waits for cgroup.events to report the state (freezing is
    /// asynchronous: tasks stop at their next return to user space).
    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let dir = self.dir();
        let value = if frozen { "1" } else { "0" };
        let file = dir.join("cgroup.freeze");
        cgfs::write_file(&file, value)
            .map_err(|source| write_error("Freezing", &file, value, source))?;
        let reached = cgfs::poll_until(FREEZE_TIMEOUT, || {
            Ok(event(&dir, "frozen")?.as_deref() == Some(value))
        })?;
        if !reached {
            if frozen {
                // Leave the container running rather than half frozen.
                let _ = cgfs::write_file(&file, "0");
            }
            let state = if frozen { "frozen" } else { "thawed" };
            return Err(CgroupError::FreezeTimeout {
                path: self.path.clone(),
                state,
            });
        }
        Ok(())
    }

    /// Kills what is left — atomically through cgroup.kill (Linux 5.14+), else with
    /// SIGKILL per pid while frozen — waits for the cgroup to empty and removes it.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let dir = self.dir();
        if !dir.exists() {
            return Ok(());
        }
        let kill_file = dir.join("cgroup.kill");
        let has_kill = kill_file.exists();
        if !has_kill && dir.join("cgroup.freeze").exists() {
            if let Err(error) = self.freeze() {
                tracing::warn!(%error, "cannot freeze the cgroup before killing it");
            }
            let killed = self.pids().and_then(|pids| cgfs::kill_all(&pids));
            self.thaw()?;
            killed?;
        }
        let empty = cgfs::poll_until(DRAIN_TIMEOUT, || {
            let pids = self.pids()?;
            if pids.is_empty() {
                return Ok(true);
            }
            if has_kill {
                cgfs::write_file(&kill_file, "1")
                    .map_err(|source| write_error("Killing", &kill_file, "1", source))?;
            } else {
                cgfs::kill_all(&pids)?;
            }
            Ok(false)
        })?;
        if !empty {
            let (path, pids) = (self.path.clone(), self.pids()?);
            return Err(CgroupError::NotEmpty { path, pids });
        }
        cgfs::remove_tree(&dir)
    }
}

fn write_error(what: &str, file: &Path, value: &str, source: io::Error) -> CgroupError {
    if source.kind() == io::ErrorKind::NotFound {
        let (what, file) = (what.to_owned(), file.to_path_buf());
        return CgroupError::FileMissing { what, file };
    }
    CgroupError::Write {
        what: what.to_owned(),
        value: value.to_owned(),
        file: file.to_path_buf(),
        source,
    }
}

/// Enables `wanted` controllers in `parent`'s subtree_control where not yet enabled.
///
/// A controller that cannot be enabled (for example because `parent` holds processes) is
/// only logged: apply then fails naming the limit that needed it, and a container that
/// sets no such limit still runs.
fn enable_controllers(parent: &Path, wanted: &[&str]) -> Result<(), CgroupError> {
    let file = parent.join("cgroup.subtree_control");
    let enabled = cgfs::read_file(&file)?;
    let enabled: Vec<&str> = enabled.split_whitespace().collect();
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|c| !enabled.contains(c))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let all: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
    // One write for all; the kernel refuses the whole line if one is refused.
    if cgfs::write_file(&file, &all.join(" ")).is_ok() {
        return Ok(());
    }
    for controller in missing {
        if let Err(error) = cgfs::write_file(&file, &format!("+{controller}")) {
            tracing::warn!(%error, controller, file = %file.display(), "cannot enable controller");
        }
    }
    Ok(())
}

/// The value of `key` in `dir`'s cgroup.events ("populated 1", "frozen 0").
fn event(dir: &Path, key: &str) -> Result<Option<String>, CgroupError> {
    let text = cgfs::read_file(&dir.join("cgroup.events"))?;
    let value = text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().to_owned())
    });
    Ok(value)
}
