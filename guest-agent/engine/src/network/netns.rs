//! A container's network namespace, made by the engine before the runtime starts the
//! container and kept alive by a bind mount (as `ip netns`, CNI and podman do): the
//! engine configures it before any process runs in it, connects and disconnects networks
//! while the container runs, and decides when it ends.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A new, empty network namespace bind-mounted at `path` (replacing a stale one).
pub fn create(path: &Path) -> io::Result<()> {
    if path.exists() {
        remove(path)?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path)?;
    let target = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("NUL in a netns path"))?;
    // unshare(2) changes only the calling thread's namespace: a thread of its own does it
    // and ends, the bind mount keeps the namespace.
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: unshare on a thread of our own that ends right after.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            let source =
                std::ffi::CString::new(format!("/proc/self/task/{tid}/ns/net")).expect("no NUL");
            // SAFETY: both paths are NUL-terminated; a bind mount of an nsfs file.
            let rc = unsafe {
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null(),
                )
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("netns thread panicked")))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Unmounts and removes the namespace file. The kernel destroys the namespace, and with
/// it the container's ends of its veth pairs (so their host ends too), once nothing uses
/// it any more; that happens in the background, so removal costs no wait here.
pub fn remove(path: &Path) -> io::Result<()> {
    let target = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("NUL in a netns path"))?;
    // SAFETY: a NUL-terminated path; MNT_DETACH never blocks.
    let rc = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        // EINVAL: not a mount point (a file left by a crash between create and mount).
        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) {
            return Err(e);
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
