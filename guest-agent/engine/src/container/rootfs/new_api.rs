//! Mounting an overlay through the mount API (fsopen, fsconfig, fsmount, move_mount). It
//! takes the lower layers one `lowerdir+` parameter at a time (Linux 6.8+), so unlike
//! mount(2) it has no one-page limit on the options; older kernels reject `lowerdir+`.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

// Linux UAPI constants (include/uapi/linux/mount.h); part of the stable syscall ABI.
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

/// fsconfig copies at most this many bytes of a string value (including its NUL).
pub(super) const MAX_VALUE: usize = 256;

#[derive(Debug)]
pub(super) enum Failure {
    /// The kernel has no mount API or no `lowerdir+`.
    Unsupported,
    /// A step failed; the error says which, with the kernel's own message when it left one.
    Failed(io::Error),
}

/// Mounts an overlay of `lowers` (top-most first, each under [`MAX_VALUE`] bytes),
/// `upper` and `work` on `target`.
pub(super) fn mount(
    lowers: &[String],
    upper: &str,
    work: &str,
    target: &Path,
) -> Result<(), Failure> {
    // SAFETY: the name is a NUL-terminated literal; fsopen reads it and returns a new fd
    // or -1, and takes no other pointer.
    let fs = check(unsafe { libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), FSOPEN_CLOEXEC) })
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENOSYS) => Failure::Unsupported,
            _ => Failure::Failed(context(None, "fsopen", e)),
        })?;
    // SAFETY: fsopen returned a fresh fd that nothing else owns.
    let fs = unsafe { OwnedFd::from_raw_fd(fs as RawFd) };

    for (i, lower) in lowers.iter().enumerate() {
        if let Err(e) = set(&fs, c"lowerdir+", lower) {
            // The first lowerdir+ failing with EINVAL means this kernel does not know it.
            if i == 0 && e.raw_os_error() == Some(libc::EINVAL) {
                return Err(Failure::Unsupported);
            }
            return Err(Failure::Failed(context(Some(&fs), "lowerdir+", e)));
        }
    }
    let step = |name: &'static str| {
        let fs = &fs;
        move |e| Failure::Failed(context(Some(fs), name, e))
    };
    set(&fs, c"upperdir", upper).map_err(step("upperdir"))?;
    set(&fs, c"workdir", work).map_err(step("workdir"))?;
    // SAFETY: fs is a valid fs-context fd; CMD_CREATE takes no key or value pointers.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })
    .map_err(step("create"))?;
    // SAFETY: fs is a created fs context; fsmount returns a new mount fd or -1.
    let mnt =
        check(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) })
            .map_err(step("fsmount"))?;
    // SAFETY: fsmount returned a fresh fd that nothing else owns.
    let mnt = unsafe { OwnedFd::from_raw_fd(mnt as RawFd) };
    let target_c = CString::new(target.as_os_str().as_bytes()).map_err(|_| {
        Failure::Failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "target has a NUL byte",
        ))
    })?;
    // SAFETY: mnt is a detached mount fd, "" and target_c are NUL-terminated and outlive
    // the call; with F_EMPTY_PATH the mount fd itself is what gets attached at target.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target_c.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map_err(|e| Failure::Failed(context(None, "move_mount", e)))?;
    Ok(())
}

/// fsconfig(FSCONFIG_SET_STRING, key, value).
fn set(fs: &OwnedFd, key: &std::ffi::CStr, value: &str) -> io::Result<()> {
    let value = CString::new(value)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "value has a NUL byte"))?;
    // SAFETY: fs is a valid fs-context fd; key and value are NUL-terminated strings that
    // outlive the call, which copies them.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
    .map(drop)
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Names the failed step and adds the message the kernel logged into the fs context, if
/// any ("e overlay: ..."), which says far more than the errno.
fn context(fs: Option<&OwnedFd>, step: &str, e: io::Error) -> io::Error {
    let mut message = format!("{step}: {e}");
    if let Some(fs) = fs {
        let mut buf = [0u8; 512];
        // SAFETY: buf is writable for its full length; reading an fs-context fd returns
        // one logged message or fails with ENODATA when there is none.
        let n = unsafe { libc::read(fs.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            let logged = String::from_utf8_lossy(&buf[..n as usize]);
            message = format!("{message} ({})", logged.trim_end());
        }
    }
    io::Error::new(e.kind(), message)
}
