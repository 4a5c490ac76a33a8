//! `HEAD /containers/{id}/archive`: what a container path is, as docker's
//! `X-Docker-Container-Path-Stat` header describes it (base64 of this JSON).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::stat::{FileStat, SFlag};

use super::error::ArchiveError;
use super::resolve::{is_symlink, link_target, open_root, resolve, Target};

// Go's os.FileMode type bits (io/fs), which docker puts in `mode` as they are.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;
const GO_MODE_DEVICE: u32 = 1 << 26;
const GO_MODE_NAMED_PIPE: u32 = 1 << 25;
const GO_MODE_SOCKET: u32 = 1 << 24;
const GO_MODE_SETUID: u32 = 1 << 23;
const GO_MODE_SETGID: u32 = 1 << 22;
const GO_MODE_CHAR_DEVICE: u32 = 1 << 21;
const GO_MODE_STICKY: u32 = 1 << 20;

/// docker's `container.PathStat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStat {
    /// The final component of the path as asked (`/` for the root).
    pub name: String,
    /// lstat size: a symlink's is the length of its target.
    pub size: i64,
    /// Go `os.FileMode` bits.
    pub mode: u32,
    pub mtime: SystemTime,
    /// For a symlink, the absolute container path it finally leads to; empty otherwise.
    pub link_target: String,
}

impl PathStat {
    pub(super) fn from_stat(name: String, st: &FileStat, link_target: String) -> PathStat {
        let secs = st.st_mtime;
        let nanos = u32::try_from(st.st_mtime_nsec).unwrap_or(0);
        let mtime = if secs >= 0 {
            UNIX_EPOCH + Duration::new(secs.unsigned_abs(), nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
                + Duration::from_nanos(nanos.into())
        };
        PathStat {
            name,
            size: st.st_size,
            mode: go_file_mode(st.st_mode),
            mtime,
            link_target,
        }
    }

    /// The JSON docker sends (field names and the RFC 3339 time as Go marshals them).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "size": self.size,
            "mode": self.mode,
            "mtime": rfc3339_nanos(self.mtime),
            "linkTarget": self.link_target,
        })
        .to_string()
    }
}

/// Stats `path` inside the container root `root` (its final component not followed).
pub fn stat(root: &Path, path: &Path) -> Result<PathStat, ArchiveError> {
    Ok(resolve_with_stat(root, path)?.1)
}

/// The resolved target and its stat (with the link target when it is a symlink): what
/// both `stat` and a GET need, from one resolution.
pub(super) fn resolve_with_stat(
    root: &Path,
    path: &Path,
) -> Result<(Target, PathStat), ArchiveError> {
    let rootfs = open_root(root)?;
    let target = resolve(&rootfs, path)?;
    let link = if is_symlink(&target.st) {
        link_target(&rootfs, &target)?
    } else {
        String::new()
    };
    let stat = PathStat::from_stat(target.name.clone(), &target.st, link);
    Ok((target, stat))
}

/// A Linux st_mode as Go's `os.FileMode` (what `fillFileStatFromSys` computes).
pub fn go_file_mode(st_mode: u32) -> u32 {
    let kind = st_mode & SFlag::S_IFMT.bits();
    let mut mode = st_mode & 0o777;
    mode |= match kind {
        k if k == SFlag::S_IFDIR.bits() => GO_MODE_DIR,
        k if k == SFlag::S_IFLNK.bits() => GO_MODE_SYMLINK,
        k if k == SFlag::S_IFBLK.bits() => GO_MODE_DEVICE,
        k if k == SFlag::S_IFCHR.bits() => GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE,
        k if k == SFlag::S_IFIFO.bits() => GO_MODE_NAMED_PIPE,
        k if k == SFlag::S_IFSOCK.bits() => GO_MODE_SOCKET,
        _ => 0,
    };
    for (bit, go) in [
        (libc::S_ISUID, GO_MODE_SETUID),
        (libc::S_ISGID, GO_MODE_SETGID),
        (libc::S_ISVTX, GO_MODE_STICKY),
    ] {
        if st_mode & bit != 0 {
            mode |= go;
        }
    }
    mode
}

/// Go's `time.RFC3339Nano` in UTC: the logs' fixed nine-digit form with the fraction
/// trimmed of trailing zeros, and omitted when zero.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let fixed = crate::logs::time::format_rfc3339_nano(t);
    let Some((whole, fraction)) = fixed.trim_end_matches('Z').split_once('.') else {
        return fixed;
    };
    match fraction.trim_end_matches('0') {
        "" => format!("{whole}Z"),
        kept => format!("{whole}.{kept}Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_file_modes_match_docker_examples() {
        // Values docker reports: a 0755 directory, a 0777 symlink, a 0644 file.
        assert_eq!(go_file_mode(libc::S_IFDIR | 0o755), 2_147_484_141);
        assert_eq!(go_file_mode(libc::S_IFLNK | 0o777), 134_218_239);
        assert_eq!(go_file_mode(libc::S_IFREG | 0o644), 420);
        assert_eq!(
            go_file_mode(libc::S_IFREG | libc::S_ISUID | 0o755),
            GO_MODE_SETUID | 0o755
        );
        assert_eq!(
            go_file_mode(libc::S_IFCHR | 0o666),
            GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE | 0o666
        );
    }

    #[test]
    fn times_format_like_go_rfc3339_nano() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(rfc3339_nanos(t), "2023-11-14T22:13:20.12Z");
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nanos(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        let before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(rfc3339_nanos(before), "1969-12-31T23:59:59.5Z");
    }
}
