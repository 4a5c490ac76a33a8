//! Shared folders: host directories served over virtiofs (virtiofsd on Linux hosts,
//! Virtualization.framework on macOS), each mounted at the SAME absolute path as on the
//! host, so a bind mount written with a host path (`docker run -v $PWD:/src`) resolves
//! unchanged in the VM. The host lists them on the kernel command line:
//! `berth.shares=TAG:PATH[:ro],...`, tag and path percent-encoded.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, MsFlags};

/// One shared folder as the host announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSpec {
    /// The virtiofs tag the device carries.
    pub tag: String,
    /// The host path, which is also where it is mounted in the VM.
    pub path: PathBuf,
    pub read_only: bool,
}

/// The guest's own directories a share must not hide (an ancestor of one would) and the
/// ones it must not land in.
const GUEST_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/lib",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/etc/berth",
    "/var/lib/berth",
    "/proc",
    "/sys",
    "/dev",
    "/run",
];
const GUEST_ONLY: &[&str] = &["/proc", "/sys", "/dev", "/run", "/var/lib/berth"];

/// `TAG:PATH[:ro],...`; `None` when any entry is malformed (the option is then ignored
/// as a whole and logged).
pub fn parse(value: &str) -> Option<Vec<ShareSpec>> {
    value
        .split(',')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut parts = entry.split(':');
            let tag = String::from_utf8(decode(parts.next()?)?).ok()?;
            let path = PathBuf::from(OsString::from_vec(decode(parts.next()?)?));
            let read_only = match parts.next() {
                None => false,
                Some("ro") => true,
                Some(_) => return None,
            };
            let clean = path.is_absolute()
                && !path.components().any(|c| c == Component::ParentDir)
                && !tag.is_empty()
                && parts.next().is_none();
            clean.then_some(ShareSpec {
                tag,
                path,
                read_only,
            })
        })
        .collect()
}

/// Percent-decoding; `None` on a malformed escape.
fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Why a share cannot be mounted at its path in the VM, if it cannot.
fn refused(path: &Path) -> Option<&'static str> {
    if GUEST_DIRS
        .iter()
        .any(|dir| Path::new(dir).starts_with(path))
    {
        return Some("it would hide the VM's own files");
    }
    if GUEST_ONLY.iter().any(|dir| path.starts_with(dir)) {
        return Some("the VM uses that path itself");
    }
    None
}

/// Mounts every share (parents before the folders inside them) and returns the paths
/// mounted. A share that fails is logged and left out: the VM still boots.
pub fn mount_all(shares: &[ShareSpec]) -> Vec<PathBuf> {
    let mut ordered: Vec<&ShareSpec> = shares.iter().collect();
    ordered.sort_by_key(|s| s.path.components().count());
    let mut mounted = Vec::new();
    for share in ordered {
        let path = share.path.display();
        if let Some(reason) = refused(&share.path) {
            super::console::warn(&format!("not mounting the shared folder {path}: {reason}"));
            continue;
        }
        match mount_one(share) {
            Ok(()) => {
                let mode = if share.read_only { " (read-only)" } else { "" };
                super::console::info(&format!("shared folder {path}{mode}"));
                mounted.push(share.path.clone());
            }
            Err(e) => super::console::warn(&format!(
                "cannot mount the shared folder {path} (tag {}): {e}",
                share.tag
            )),
        }
    }
    mounted
}

fn mount_one(share: &ShareSpec) -> std::io::Result<()> {
    std::fs::create_dir_all(&share.path)?;
    let mut flags = MsFlags::MS_NODEV;
    if share.read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    mount(
        Some(share.tag.as_str()),
        &share.path,
        Some("virtiofs"),
        flags,
        None::<&str>,
    )
    .map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_encoding_is_decoded() {
        let shares = parse("home:/home/me,odd:/srv/My%20Files%2Cv2%3Ax%25/%C3%A9:ro").unwrap();
        assert_eq!(
            shares,
            [
                ShareSpec {
                    tag: "home".into(),
                    path: "/home/me".into(),
                    read_only: false
                },
                ShareSpec {
                    tag: "odd".into(),
                    path: "/srv/My Files,v2:x%/é".into(),
                    read_only: true
                },
            ]
        );
        // Non-UTF-8 paths are kept byte for byte.
        let raw = parse("t:/a%FFb").unwrap();
        assert_eq!(raw[0].path.as_os_str().as_encoded_bytes(), b"/a\xffb");
    }

    #[test]
    fn malformed_lists_are_refused() {
        for bad in [
            "home",
            "home:relative",
            "home:/a/../etc",
            ":/home/me",
            "home:/home/me:rw",
            "home:/home/me:ro:x",
            "home:/bad%2",
            "home:/bad%zz",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn shares_never_hide_the_vms_own_files() {
        for path in ["/", "/usr", "/var", "/var/lib", "/etc", "/run/x", "/proc/1"] {
            assert!(refused(Path::new(path)).is_some(), "{path}");
        }
        for path in [
            "/home/me",
            "/Users/me",
            "/tmp/x",
            "/root",
            "/usr/local/src",
            "/var/tmp",
        ] {
            assert_eq!(refused(Path::new(path)), None, "{path}");
        }
    }
}
