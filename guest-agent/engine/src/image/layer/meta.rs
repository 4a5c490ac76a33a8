//! An entry's metadata (owner, mode, times, xattrs) read from its header and PAX records,
//! and applied to what was created. Order matters: chown first (it clears setuid/setgid and
//! file capabilities), then chmod, then xattrs, then times (every earlier step moves ctime
//! only, but writing content moves mtime).
//!
//! Xattrs come from PAX `SCHILY.xattr.*` records and are applied to regular files and
//! directories only, best effort: a filesystem or LSM that refuses one (no xattr support, an
//! unknown `security.*` name) is logged and skipped. `trusted.overlay.*` and `user.overlay.*`
//! are refused as an error: Berth stacks layers with overlayfs, and a layer that could carry
//! them could forge whiteouts or redirects.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fchmod, fchmodat, futimens, utimensat, FchmodatFlags, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, Gid, Uid};

use super::error::{io_err, LayerError};
use super::root::fd_proc_path;

const XATTR_PAX_PREFIX: &str = "SCHILY.xattr.";

#[derive(Debug)]
pub(super) struct Meta {
    pub mode: u32,
    uid: Uid,
    gid: Gid,
    atime: TimeSpec,
    pub mtime: TimeSpec,
    xattrs: Vec<(CString, Vec<u8>)>,
}

impl Meta {
    pub(super) fn read<R: std::io::Read>(
        entry: &mut tar::Entry<'_, R>,
        name: &str,
    ) -> Result<Meta, LayerError> {
        let bad = |field| LayerError::BadHeader {
            name: name.to_string(),
            field,
        };
        let header = entry.header();
        let mode = header.mode().map_err(|_| bad("mode"))? & 0o7777;
        // u32::MAX is chown's "leave unchanged", so it is not a real id either.
        let id = |v: std::io::Result<u64>, field| {
            v.ok()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v != u32::MAX)
                .ok_or_else(|| bad(field))
        };
        let uid = Uid::from_raw(id(header.uid(), "uid")?);
        let gid = Gid::from_raw(id(header.gid(), "gid")?);
        let secs = header.mtime().map_err(|_| bad("mtime"))?;
        let secs = i64::try_from(secs).map_err(|_| bad("mtime"))?;
        let mut mtime = TimeSpec::new(secs, 0);
        let mut atime = None;
        let mut xattrs = Vec::new();
        if let Some(records) = entry.pax_extensions().map_err(LayerError::Read)? {
            for record in records {
                let record = record.map_err(LayerError::Read)?;
                let Ok(key) = record.key() else { continue };
                match key {
                    "mtime" => {
                        mtime = pax_time(record.value_bytes()).ok_or_else(|| bad("mtime"))?
                    }
                    "atime" => {
                        atime = Some(pax_time(record.value_bytes()).ok_or_else(|| bad("atime"))?)
                    }
                    _ => {
                        if let Some(attr) = key.strip_prefix(XATTR_PAX_PREFIX) {
                            if attr.starts_with("trusted.overlay.")
                                || attr.starts_with("user.overlay.")
                            {
                                return Err(LayerError::OverlayXattr {
                                    name: name.to_string(),
                                    key: attr.to_string(),
                                });
                            }
                            let attr = CString::new(attr).map_err(|_| bad("xattr name"))?;
                            xattrs.push((attr, record.value_bytes().to_vec()));
                        }
                    }
                }
            }
        }
        Ok(Meta {
            mode,
            uid,
            gid,
            atime: atime.unwrap_or(mtime),
            mtime,
            xattrs,
        })
    }

    /// Owner, mode and xattrs of a regular file or directory opened for real (not O_PATH).
    pub(super) fn apply_fd(&self, fd: &OwnedFd, name: &str) -> Result<(), LayerError> {
        fchown(fd.as_raw_fd(), Some(self.uid), Some(self.gid)).map_err(io_err("chown", name))?;
        fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(self.mode))
            .map_err(io_err("chmod", name))?;
        for (key, value) in &self.xattrs {
            match set_xattr(fd.as_raw_fd(), key, value) {
                Ok(()) => {}
                Err(
                    Errno::ENOTSUP | Errno::EPERM | Errno::EACCES | Errno::ERANGE | Errno::E2BIG,
                ) => {
                    tracing::warn!(entry = name, xattr = ?key, "filesystem refused an xattr; skipped");
                }
                Err(e) => return Err(io_err("set an xattr", name)(e)),
            }
        }
        Ok(())
    }

    pub(super) fn set_times_fd(&self, fd: &OwnedFd, name: &str) -> Result<(), LayerError> {
        futimens(fd.as_raw_fd(), &self.atime, &self.mtime).map_err(io_err("set times", name))
    }

    /// Owner and times of a symlink, device or fifo, by name in its parent without following
    /// it. `node` (an O_PATH fd of it) is given for non-symlinks, whose mode is then set too;
    /// Linux symlinks have no mode of their own.
    pub(super) fn apply_at(
        &self,
        parent: RawFd,
        base: &OsStr,
        node: Option<&OwnedFd>,
        name: &str,
    ) -> Result<(), LayerError> {
        fchownat(
            Some(parent),
            base,
            Some(self.uid),
            Some(self.gid),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(io_err("chown", name))?;
        if let Some(node) = node {
            // fchmod refuses O_PATH fds and fchmodat cannot avoid following a name; the
            // fd's /proc link reaches exactly the inode that was created.
            let path = fd_proc_path(node);
            fchmodat(
                None,
                path.as_c_str(),
                Mode::from_bits_truncate(self.mode),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(io_err("chmod", name))?;
        }
        utimensat(
            Some(parent),
            base,
            &self.atime,
            &self.mtime,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(io_err("set times", name))
    }

    pub(super) fn times(&self) -> (TimeSpec, TimeSpec) {
        (self.atime, self.mtime)
    }
}

/// fsetxattr(2), which nix does not wrap.
pub(super) fn set_xattr(fd: RawFd, key: &CString, value: &[u8]) -> nix::Result<()> {
    // SAFETY: key is NUL-terminated, value points at value.len() readable bytes, and the
    // kernel only reads both during the call.
    let rc = unsafe {
        libc::fsetxattr(
            fd,
            key.as_ptr(),
            value.as_ptr().cast::<libc::c_void>(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop)
}

/// A PAX time, `SECONDS[.FRACTION]`, possibly negative.
fn pax_time(value: &[u8]) -> Option<TimeSpec> {
    let value = std::str::from_utf8(value).ok()?;
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let mut secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let mut nanos: i64 = digits.parse().ok()?;
    if value.starts_with('-') && nanos > 0 {
        secs -= 1;
        nanos = 1_000_000_000 - nanos;
    }
    Some(TimeSpec::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_keep_their_fraction() {
        let t = pax_time(b"1700000000.123456789123").unwrap();
        assert_eq!((t.tv_sec(), t.tv_nsec()), (1_700_000_000, 123_456_789));
        let t = pax_time(b"1700000000.5").unwrap();
        assert_eq!((t.tv_sec(), t.tv_nsec()), (1_700_000_000, 500_000_000));
        let t = pax_time(b"-1.25").unwrap();
        assert_eq!((t.tv_sec(), t.tv_nsec()), (-2, 750_000_000));
        assert!(pax_time(b"12x").is_none());
        assert!(pax_time(b"1.2e3").is_none());
    }
}
