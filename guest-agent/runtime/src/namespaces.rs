//! Which namespaces a container gets: new ones to unshare and existing ones to join by path.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use nix::sched::{setns, CloneFlags};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::error::{Context, Result};

#[derive(Debug, Clone)]
pub struct Namespaces {
    /// Namespaces to create.
    pub new: CloneFlags,
    /// Namespaces to join, user namespace first: joining it grants the capabilities the
    /// other joins need.
    pub join: Vec<(CloneFlags, PathBuf)>,
}

pub fn flag(typ: LinuxNamespaceType) -> CloneFlags {
    match typ {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        // Time namespaces take effect for children, like pid; the spec's numeric value is
        // CLONE_NEWTIME.
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// The /proc/PID/ns file name for a namespace flag.
pub fn proc_name(flag: CloneFlags) -> &'static str {
    match flag {
        f if f == CloneFlags::CLONE_NEWNS => "mnt",
        f if f == CloneFlags::CLONE_NEWCGROUP => "cgroup",
        f if f == CloneFlags::CLONE_NEWUTS => "uts",
        f if f == CloneFlags::CLONE_NEWIPC => "ipc",
        f if f == CloneFlags::CLONE_NEWUSER => "user",
        f if f == CloneFlags::CLONE_NEWPID => "pid",
        f if f == CloneFlags::CLONE_NEWNET => "net",
        _ => "time",
    }
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            new: CloneFlags::empty(),
            join: Vec::new(),
        }
    }
}

impl Namespaces {
    pub fn from_spec(list: &[LinuxNamespace]) -> Self {
        let mut out = Namespaces::default();
        for ns in list {
            let f = flag(ns.typ());
            match ns.path() {
                Some(path) if !path.as_os_str().is_empty() => out.join.push((f, path.clone())),
                _ => out.new |= f,
            }
        }
        out.join
            .sort_by_key(|(f, _)| *f != CloneFlags::CLONE_NEWUSER);
        out
    }

    pub fn creates(&self, f: CloneFlags) -> bool {
        self.new.contains(f)
    }

    /// Every namespace the container has, new or joined.
    pub fn all(&self) -> CloneFlags {
        self.join.iter().fold(self.new, |acc, (f, _)| acc | *f)
    }

    /// Opens every path first, then joins: a path inside one namespace must not be resolved
    /// after we have left the namespace it lives in.
    pub fn join_all(&self) -> Result<()> {
        let files = self
            .join
            .iter()
            .map(|(f, path)| {
                File::open(path)
                    .map(|file| (*f, path, file))
                    .context(|| format!("Cannot open namespace {}", path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        for (f, path, file) in files {
            setns(file.as_fd(), f)
                .context(|| format!("Cannot join {} namespace {}", proc_name(f), path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxNamespaceBuilder;

    #[test]
    fn user_namespace_is_joined_first_and_new_ones_are_flags() {
        let list = vec![
            LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::Network)
                .path("/run/netns/x")
                .build()
                .unwrap(),
            LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::User)
                .path("/proc/1/ns/user")
                .build()
                .unwrap(),
            LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::Pid)
                .build()
                .unwrap(),
        ];
        let ns = Namespaces::from_spec(&list);
        assert_eq!(ns.new, CloneFlags::CLONE_NEWPID);
        assert_eq!(ns.join[0].0, CloneFlags::CLONE_NEWUSER);
        assert_eq!(ns.join[1].0, CloneFlags::CLONE_NEWNET);
        assert!(ns
            .all()
            .contains(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWPID));
    }
}
