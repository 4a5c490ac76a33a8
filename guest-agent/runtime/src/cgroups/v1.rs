//! cgroup v1: one directory per mounted hierarchy, all at the same relative path.

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use super::fs::{self as cgfs, Write, DRAIN_TIMEOUT, FREEZE_TIMEOUT};
use super::mountinfo::{self, Hierarchy};
use super::path::{ancestry, under};
use super::{v1_plan, CgroupError};

/// The container's cgroup in every v1 hierarchy.
#[derive(Debug, Clone)]
pub(crate) struct V1 {
    hierarchies: Vec<Hierarchy>,
    path: PathBuf,
}

impl V1 {
    /// The hierarchies mounted in this process's mount namespace.
    pub fn detect(path: PathBuf) -> Result<Self, CgroupError> {
        let text = fs::read_to_string("/proc/self/mountinfo").map_err(CgroupError::Mountinfo)?;
        let hierarchies = mountinfo::v1_hierarchies(&text);
        if hierarchies.is_empty() {
            return Err(CgroupError::NoHierarchy);
        }
        Ok(V1 { hierarchies, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dirs(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.hierarchies
            .iter()
            .map(|h| under(&h.mountpoint, &self.path))
    }

    /// The container's directory in the hierarchy holding `controller`.
    pub(super) fn dir_for(
        &self,
        controller: &'static str,
        what: &str,
    ) -> Result<PathBuf, CgroupError> {
        let hierarchy = self.hierarchies.iter().find(|h| h.has(controller));
        let hierarchy = hierarchy.ok_or_else(|| CgroupError::ControllerMissing {
            what: what.to_owned(),
            controller,
        })?;
        Ok(under(&hierarchy.mountpoint, &self.path))
    }

    pub fn create(&self) -> Result<(), CgroupError> {
        for hierarchy in &self.hierarchies {
            for level in ancestry(&self.path) {
                let dir = under(&hierarchy.mountpoint, &level);
                cgfs::make_dir(&dir)?;
                if hierarchy.has("cpuset") {
                    inherit_cpuset(&dir)?;
                }
            }
        }
        Ok(())
    }

    pub fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        let steps = v1_plan::plan(resources)?;
        cgfs::execute(&steps, |w: &Write| self.dir_for(w.controller, &w.limit))
    }

    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            let file = dir.join("cgroup.procs");
            cgfs::write_file(&file, &pid.to_string())
                .map_err(|source| CgroupError::AddProcess { pid, file, source })?;
        }
        Ok(())
    }

    /// Every process in the subtree, in any hierarchy (they normally agree).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let mut pids = Vec::new();
        for dir in self.dirs() {
            cgfs::pids_in_tree(&dir, &mut pids)?;
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.set_freezer("FROZEN")
    }

    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.set_freezer("THAWED")
    }

    /// Writes `state` until freezer.state reports it: a freeze can stall in FREEZING while
    /// a task sits in an uninterruptible sleep, and writing again retries it.
    fn set_freezer(&self, state: &'static str) -> Result<(), CgroupError> {
        let file = self.dir_for("freezer", "Freezing")?.join("freezer.state");
        let reached = cgfs::poll_until(FREEZE_TIMEOUT, || {
            cgfs::write_file(&file, state).map_err(|source| CgroupError::Write {
                what: "freezer".to_owned(),
                value: state.to_owned(),
                file: file.clone(),
                source,
            })?;
            Ok(cgfs::read_file(&file)?.trim() == state)
        })?;
        if !reached {
            if state == "FROZEN" {
                // Leave the container running rather than half frozen.
                let _ = cgfs::write_file(&file, "THAWED");
            }
            let path = self.path.clone();
            return Err(CgroupError::FreezeTimeout { path, state });
        }
        Ok(())
    }

    /// Kills what is left (frozen first, so nothing forks between listing and killing),
    /// waits for the cgroups to empty and removes them.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        if !self.dirs().any(|d| d.exists()) {
            return Ok(());
        }
        let freezer = self
            .dir_for("freezer", "Freezing")
            .ok()
            .filter(|d| d.exists());
        // The common case, a container whose processes are gone: nothing to freeze or kill.
        let occupied = !self.pids()?.is_empty();
        if occupied && freezer.is_some() {
            // Best effort: the kill loop below still works on a cgroup that will not freeze.
            if let Err(error) = self.freeze() {
                tracing::warn!(%error, "cannot freeze the cgroup before killing it");
            }
            let killed = self.pids().and_then(|pids| cgfs::kill_all(&pids));
            // Thaw even when killing failed: frozen tasks cannot act on SIGKILL.
            self.thaw()?;
            killed?;
        }
        let empty = cgfs::poll_until(DRAIN_TIMEOUT, || {
            let pids = self.pids()?;
            cgfs::kill_all(&pids)?;
            Ok(pids.is_empty())
        })?;
        if !empty {
            let (path, pids) = (self.path.clone(), self.pids()?);
            return Err(CgroupError::NotEmpty { path, pids });
        }
        for dir in self.dirs() {
            cgfs::remove_tree(&dir)?;
        }
        Ok(())
    }
}

/// A new v1 cpuset starts with no CPUs and no memory nodes, and no task can join it until
/// both are set; copy the parent's, as the kernel's cgroup.clone_children would.
fn inherit_cpuset(dir: &Path) -> Result<(), CgroupError> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = dir.join(file);
        if !cgfs::read_file(&own)?.trim().is_empty() {
            continue;
        }
        let inherited = cgfs::read_file(&parent.join(file))?;
        cgfs::write_file(&own, inherited.trim()).map_err(|source| CgroupError::Write {
            what: "cpuset inheritance".to_owned(),
            value: inherited.trim().to_owned(),
            file: own,
            source,
        })?;
    }
    Ok(())
}
