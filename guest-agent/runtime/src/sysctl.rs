//! linux.sysctl. A sysctl is only written when it belongs to a namespace the container
//! owns; otherwise it would change the host (runc's rule).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

use crate::error::{Context, Result, RuntimeError};
use crate::rootfs::RootFs;

const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace a sysctl needs, or an error for those that are host-wide.
pub fn namespace_of(key: &str) -> Result<CloneFlags> {
    let bad = |why: &str| Err(RuntimeError::InvalidSpec(format!("sysctl {key:?} {why}")));
    if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
        return bad("is not a valid sysctl name");
    }
    if IPC_SYSCTLS.contains(&key) || key.starts_with("fs.mqueue.") {
        return Ok(CloneFlags::CLONE_NEWIPC);
    }
    if key.starts_with("net.") {
        return Ok(CloneFlags::CLONE_NEWNET);
    }
    if key == "kernel.hostname" || key == "kernel.domainname" {
        return Ok(CloneFlags::CLONE_NEWUTS);
    }
    bad("is not namespaced: it would change the host")
}

pub fn apply(rootfs: &RootFs, sysctls: &HashMap<String, String>, owned: CloneFlags) -> Result<()> {
    for (key, value) in sysctls {
        let needs = namespace_of(key)?;
        if !owned.contains(needs) {
            return Err(RuntimeError::InvalidSpec(format!(
                "sysctl {key:?} needs the container to have its own {} namespace",
                crate::namespaces::proc_name(needs)
            )));
        }
        let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
        let fd = rootfs
            .resolve(&path, OFlag::O_WRONLY | OFlag::O_TRUNC, Mode::empty())
            .context(|| format!("Cannot open sysctl {key}"))?;
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .context(|| format!("Cannot set sysctl {key} to {value:?}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_wide_and_malformed_sysctls_are_refused() {
        assert_eq!(
            namespace_of("net.ipv4.ip_forward").unwrap(),
            CloneFlags::CLONE_NEWNET
        );
        assert_eq!(
            namespace_of("kernel.shmmax").unwrap(),
            CloneFlags::CLONE_NEWIPC
        );
        assert_eq!(
            namespace_of("fs.mqueue.msg_max").unwrap(),
            CloneFlags::CLONE_NEWIPC
        );
        for bad in ["kernel.panic", "vm.swappiness", "net/../../x", "net..x", ""] {
            assert!(namespace_of(bad).is_err(), "{bad} accepted");
        }
    }
}
