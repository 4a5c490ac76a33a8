//! /dev inside the container: the default device nodes, the spec's devices, and the
//! standard symlinks. Every node is made relative to an fd of its parent directory, which
//! was resolved inside the root, so a `/dev -> /` symlink in an image changes nothing on
//! the host.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType,
};

use super::safe_path::{fd_path, RootFs};
use crate::error::{Context, Result, RuntimeError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path: PathBuf,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The nodes every container gets (what runc and crun create).
pub fn default_devices() -> Vec<Device> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(name, major, minor)| Device {
        path: Path::new("/dev").join(name),
        kind: SFlag::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

pub fn from_spec(device: &LinuxDevice) -> Result<Device> {
    let kind = match device.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
        LinuxDeviceType::B => SFlag::S_IFBLK,
        LinuxDeviceType::P => SFlag::S_IFIFO,
        LinuxDeviceType::A => {
            return Err(RuntimeError::InvalidSpec(format!(
                "device {} has type 'a', which only device cgroup rules may use",
                device.path().display()
            )))
        }
    };
    if !device.path().starts_with("/dev") {
        return Err(RuntimeError::InvalidSpec(format!(
            "device {} is not under /dev",
            device.path().display()
        )));
    }
    Ok(Device {
        path: device.path().clone(),
        kind,
        major: u64::try_from(device.major()).unwrap_or(0),
        minor: u64::try_from(device.minor()).unwrap_or(0),
        mode: device.file_mode().unwrap_or(0o666) & 0o7777,
        uid: device.uid().unwrap_or(0),
        gid: device.gid().unwrap_or(0),
    })
}

/// Spec devices override defaults with the same path.
pub fn all_devices(spec: &[LinuxDevice]) -> Result<Vec<Device>> {
    let mut devices: Vec<Device> = spec.iter().map(from_spec).collect::<Result<_>>()?;
    for d in default_devices() {
        if !devices.iter().any(|s| s.path == d.path) {
            devices.push(d);
        }
    }
    Ok(devices)
}

/// In a user namespace mknod is not allowed: bind the host's node instead, as runc does.
pub fn create(rootfs: &RootFs, devices: &[Device], bind_from_host: bool) -> Result<()> {
    for d in devices {
        if bind_from_host {
            let target = rootfs.ensure_file(&d.path)?;
            mount(
                Some(&d.path),
                fd_path(&target).as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .context(|| format!("Cannot bind host device {}", d.path.display()))?;
            continue;
        }
        let (parent, name) = rootfs.parent_and_name(&d.path)?;
        match unlinkat(Some(parent.as_raw_fd()), &name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => {
                return Err(e).context(|| format!("Cannot replace {}", rootfs.display(&d.path)))
            }
        }
        mknodat(
            Some(parent.as_raw_fd()),
            &name,
            d.kind,
            Mode::from_bits_truncate(d.mode),
            makedev(d.major, d.minor),
        )
        .context(|| format!("Cannot create device {}", d.path.display()))?;
        fchownat(
            Some(parent.as_raw_fd()),
            &name,
            Some(Uid::from_raw(d.uid)),
            Some(Gid::from_raw(d.gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .context(|| format!("Cannot chown device {}", d.path.display()))?;
    }
    Ok(())
}

/// /dev/fd, stdin/stdout/stderr and ptmx (to the devpts instance's own ptmx).
pub fn create_symlinks(rootfs: &RootFs, has_devpts: bool) -> Result<()> {
    let mut links = vec![
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ];
    if has_devpts {
        links.push(("/dev/ptmx", "pts/ptmx"));
    }
    for (link, target) in links {
        let (parent, name) = rootfs.parent_and_name(Path::new(link))?;
        if link == "/dev/ptmx" {
            let _ = unlinkat(Some(parent.as_raw_fd()), &name, UnlinkatFlags::NoRemoveDir);
        }
        match symlinkat(target, Some(parent.as_raw_fd()), &name) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e).context(|| format!("Cannot create symlink {link}")),
        }
    }
    Ok(())
}

/// Device cgroup rules every container gets after the spec's own (runc's list): mknod of
/// anything (creating a node grants no access), the default nodes, ptys and tun, plus the
/// spec's linux.devices — otherwise a spec whose rules start with "deny all" could not
/// even create /dev/null.
pub fn default_cgroup_rules(spec_devices: &[LinuxDevice]) -> Vec<LinuxDeviceCgroup> {
    let rule = |typ, major: Option<i64>, minor: Option<i64>, access: &str| {
        LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(typ)
            .major(major.unwrap_or(-1))
            .minor(minor.unwrap_or(-1))
            .access(access)
            .build()
            .expect("all fields set")
    };
    let c = LinuxDeviceType::C;
    let mut rules = vec![
        rule(c, None, None, "m"),
        rule(LinuxDeviceType::B, None, None, "m"),
        rule(c, Some(5), Some(2), "rwm"),    // /dev/ptmx
        rule(c, Some(136), None, "rwm"),     // /dev/pts/*
        rule(c, Some(5), Some(1), "rwm"),    // /dev/console
        rule(c, Some(10), Some(200), "rwm"), // /dev/net/tun
    ];
    for d in default_devices() {
        rules.push(rule(c, Some(d.major as i64), Some(d.minor as i64), "rwm"));
    }
    rules.extend(spec_devices.iter().map(LinuxDeviceCgroup::from));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceBuilder;

    #[test]
    fn spec_devices_override_defaults_and_bad_ones_are_refused() {
        let custom = LinuxDeviceBuilder::default()
            .path("/dev/null")
            .typ(LinuxDeviceType::C)
            .major(1)
            .minor(3)
            .file_mode(0o600u32)
            .build()
            .unwrap();
        let all = all_devices(&[custom]).unwrap();
        assert_eq!(all.len(), default_devices().len());
        assert_eq!(
            all.iter()
                .find(|d| d.path == Path::new("/dev/null"))
                .unwrap()
                .mode,
            0o600
        );

        let outside = LinuxDeviceBuilder::default()
            .path("/etc/evil")
            .typ(LinuxDeviceType::C)
            .build()
            .unwrap();
        assert!(all_devices(&[outside])
            .unwrap_err()
            .to_string()
            .contains("/etc/evil"));
        let all_kind = LinuxDeviceBuilder::default()
            .path("/dev/x")
            .typ(LinuxDeviceType::A)
            .build()
            .unwrap();
        assert!(all_devices(&[all_kind]).is_err());
    }
}
