//! Shared folders: one rust-vmm `virtiofsd` per [`Share`], each behind a vhost-user socket
//! QEMU's `vhost-user-fs-pci` device connects to. Like vhost-device-vsock, a virtiofsd
//! serves one connection and exits when QEMU disconnects, so each boot starts fresh ones,
//! before QEMU (QEMU fails at once if a socket is not there yet).
//!
//! The guest learns the shares from `berth.shares=` on the kernel command line
//! ([`cmdline`]) and mounts each at the same absolute path.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::files::{read_pid, Files};
use super::process::{alive, signal, spawn_helper, wait_until, Helper};
use crate::backend::{BackendError, Result, Share};

/// The virtio-fs tag field is 36 bytes.
const MAX_TAG: usize = 36;

/// virtiofsd's arguments for one share.
///
/// - `--sandbox=namespace` when we are root: virtiofsd pivots into the shared folder in
///   its own mount namespace, so nothing the guest asks for resolves outside it. Without
///   root it cannot, and runs `--sandbox=none` with the user's own rights.
/// - `--cache=auto`: the guest caches data and attributes for about a second (changes made
///   on the host show up within that; a guest write reaches the host file at once).
/// - `--announce-submounts`: mounts inside the folder stay separate mounts in the guest
///   (no inode number clashes between filesystems).
/// - `--inode-file-handles=prefer`: file handles instead of one O_PATH fd per inode the
///   guest looked up, where the filesystem supports them (needs CAP_DAC_READ_SEARCH).
/// - `--rlimit-nofile=0`: keep the limit we have; raising it above the hard limit needs
///   CAP_SYS_RESOURCE and only produces a warning.
pub fn args(share: &Share, socket: &Path, root: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--socket-path".into(),
        socket.into(),
        "--shared-dir".into(),
        share.host_path.clone().into(),
        "--sandbox".into(),
        if root { "namespace" } else { "none" }.into(),
        "--cache=auto".into(),
        "--announce-submounts".into(),
        "--rlimit-nofile=0".into(),
        "--log-level=warn".into(),
    ];
    if root {
        args.push("--inode-file-handles=prefer".into());
    }
    if share.read_only {
        args.push("--readonly".into());
    }
    args
}

/// Refuses what the guest could not mount: a relative or missing folder, a bad or
/// duplicate tag.
pub fn check(shares: &[Share]) -> Result<()> {
    let mut tags = std::collections::HashSet::new();
    for share in shares {
        let path = &share.host_path;
        if !path.is_absolute() || !path.is_dir() {
            return Err(BackendError::Missing {
                what: format!("The shared folder {}", path.display()),
                hint: "share an existing absolute directory".into(),
            });
        }
        let tag = &share.tag;
        if tag.is_empty() || tag.len() > MAX_TAG || tag.contains(['\0', ' ', ',']) {
            return Err(BackendError::Failed(format!(
                "The share tag {tag:?} is invalid: 1 to {MAX_TAG} bytes, no spaces or commas"
            )));
        }
        if !tags.insert(tag) {
            return Err(BackendError::Failed(format!(
                "The share tag {tag:?} is used twice"
            )));
        }
    }
    Ok(())
}

/// Starts one virtiofsd per share and waits until each listens. On an error the ones
/// already started are stopped.
pub fn start(binary: &Path, files: &Files, shares: &[Share]) -> Result<Vec<Child>> {
    stop(files);
    check(shares)?;
    let root = nix::unistd::geteuid().is_root();
    let mut children = Vec::new();
    for (n, share) in shares.iter().enumerate() {
        match start_one(binary, files, n, share, root) {
            Ok(child) => children.push(child),
            Err(e) => {
                for mut child in children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(e);
            }
        }
    }
    Ok(children)
}

fn start_one(binary: &Path, files: &Files, n: usize, share: &Share, root: bool) -> Result<Child> {
    let socket = files.virtiofs_socket(n);
    let mut command = Command::new(binary);
    command.args(args(share, &socket, root));
    spawn_helper(
        command,
        Helper {
            name: &format!("virtiofsd for {}", share.host_path.display()),
            log: &files.virtiofs_log(n),
            pid_file: &files.virtiofs_pid(n),
            socket: &socket,
        },
    )
}

/// Kills the virtiofsd processes left by an earlier boot (or by this one, at kill time):
/// every `virtiofsd-N.pid` in the state directory whose process still serves our socket.
pub fn stop(files: &Files) {
    let Ok(entries) = std::fs::read_dir(&files.dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("virtiofsd-")?.strip_suffix(".pid"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if let Some(pid) = read_pid(&entry.path()) {
            let marker = files.virtiofs_socket(n).to_string_lossy().into_owned();
            if alive(pid, &marker) {
                signal(pid, Signal::SIGKILL);
                wait_until(Duration::from_secs(2), || !alive(pid, &marker));
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtiofsd_arguments() {
        let join = |a: Vec<OsString>| {
            a.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let root = join(args(
            &Share::new("s0", "/home/me", true),
            Path::new("/run/b/virtiofs-0.sock"),
            true,
        ));
        assert!(root.starts_with(
            "--socket-path /run/b/virtiofs-0.sock --shared-dir /home/me --sandbox namespace --cache=auto"
        ), "{root}");
        assert!(root.contains("--readonly"), "{root}");
        assert!(root.contains("--inode-file-handles=prefer"), "{root}");
        let user = join(args(
            &Share::new("s0", "/home/me", false),
            Path::new("/s"),
            false,
        ));
        assert!(user.contains("--sandbox none"), "{user}");
        assert!(!user.contains("--readonly"), "{user}");
    }

    #[test]
    fn bad_shares_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().to_str().unwrap();
        assert!(check(&[Share::new("a", ok, false)]).is_ok());
        let cases = [
            vec![Share::new("a", "relative/dir", false)],
            vec![Share::new("a", "/no/such/dir", false)],
            vec![Share::new("", ok, false)],
            vec![Share::new("has space", ok, false)],
            vec![Share::new("t".repeat(37), ok, false)],
            vec![Share::new("a", ok, false), Share::new("a", ok, false)],
        ];
        for case in cases {
            assert!(check(&case).is_err(), "{case:?}");
        }
    }
}
