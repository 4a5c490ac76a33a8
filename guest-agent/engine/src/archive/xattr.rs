//! Reading extended attributes from an open file or directory, best effort: a filesystem
//! without xattrs, or one that changes under us, yields fewer attributes, never an error.

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;

use nix::errno::Errno;

/// Which attributes go into a tar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum XattrPolicy {
    /// `security.capability` only, as docker's `cp` archives carry.
    Capability,
    /// Every attribute except overlayfs' own, which describe a layer rather than the file
    /// (and which Berth's unpacker refuses); for copying image content into a volume.
    All,
}

const CAPABILITY: &str = "security.capability";

pub(super) fn read(fd: RawFd, policy: XattrPolicy) -> Vec<(CString, Vec<u8>)> {
    let names = match policy {
        XattrPolicy::Capability => vec![CString::new(CAPABILITY).expect("no NUL in a constant")],
        XattrPolicy::All => list(fd).unwrap_or_default(),
    };
    names
        .into_iter()
        .filter(|n| {
            let b = n.as_bytes();
            !b.starts_with(b"trusted.overlay.") && !b.starts_with(b"user.overlay.")
        })
        .filter_map(|n| get(fd, &n).map(|v| (n, v)))
        .collect()
}

fn list(fd: RawFd) -> Option<Vec<CString>> {
    // SAFETY: a NULL buffer of size 0 asks only for the needed size; nothing is written.
    let size = unsafe { libc::flistxattr(fd, std::ptr::null_mut(), 0) };
    let size = usize::try_from(size).ok().filter(|s| *s > 0)?;
    let mut buf = vec![0u8; size];
    // SAFETY: buf has buf.len() writable bytes, which the kernel writes at most.
    let got = unsafe { libc::flistxattr(fd, buf.as_mut_ptr().cast(), buf.len()) };
    let got = usize::try_from(got).ok()?;
    buf.truncate(got);
    Some(
        buf.split_inclusive(|b| *b == 0)
            .filter_map(|n| CStr::from_bytes_with_nul(n).ok())
            .filter(|n| !n.is_empty())
            .map(CStr::to_owned)
            .collect(),
    )
}

fn get(fd: RawFd, name: &CStr) -> Option<Vec<u8>> {
    // SAFETY: name is NUL-terminated; a NULL buffer of size 0 only asks for the size.
    let size = unsafe { libc::fgetxattr(fd, name.as_ptr(), std::ptr::null_mut(), 0) };
    let size = usize::try_from(size).ok()?;
    let mut buf = vec![0u8; size];
    // SAFETY: buf has buf.len() writable bytes, which the kernel writes at most; name is
    // NUL-terminated.
    let got = unsafe { libc::fgetxattr(fd, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    match usize::try_from(got) {
        Ok(n) => {
            buf.truncate(n);
            Some(buf)
        }
        Err(_) => {
            let errno = Errno::last();
            if errno != Errno::ENODATA {
                tracing::debug!(xattr = ?name, %errno, "cannot read an xattr; skipped");
            }
            None
        }
    }
}
