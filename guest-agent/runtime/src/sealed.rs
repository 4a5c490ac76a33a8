//! CVE-2019-5736: a container process must never be able to open the runtime's binary for
//! writing through /proc/PID/exe while the runtime is inside the container's namespaces.
//! So before entering any container, the runtime re-executes itself from a copy that cannot
//! be written: first choice, the binary seen through a read-only bind mount that is detached
//! at once (no copy, a few syscalls; runc 1.1's "bindfd"); fallback, a sealed memfd copy.
//! Either way /proc/self/exe no longer names a writable host file.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::fcntl::{fcntl, AtFlags, FcntlArg, OFlag, SealFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{fstatvfs, FsFlags};
use nix::unistd::{execveat, fexecve};

use crate::error::{Context, Result};

fn required_seals() -> SealFlag {
    SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE
}

/// True when the running binary cannot be written: a sealed memfd, or a file on a
/// read-only mount (which a container cannot remount).
pub fn running_sealed() -> bool {
    let Ok(exe) = File::open("/proc/self/exe") else {
        return false;
    };
    if let Ok(bits) = fcntl(exe.as_raw_fd(), FcntlArg::F_GET_SEALS) {
        return SealFlag::from_bits_truncate(bits).contains(required_seals());
    }
    fstatvfs(&exe).is_ok_and(|st| st.flags().contains(FsFlags::ST_RDONLY))
}

/// Re-executes the current binary from an unwritable view or copy, with the same arguments
/// and environment, unless already running from one. `scratch` is a directory on which a
/// temporary mount point may be made (the state root). Returns only if already sealed.
pub fn ensure_sealed(scratch: &Path) -> Result<()> {
    if running_sealed() {
        return Ok(());
    }
    let (args, env) = args_and_env();
    if let Some(fd) = readonly_view(scratch) {
        // execveat(AT_EMPTY_PATH) on the O_PATH fd of the detached read-only mount.
        let _ = execveat(
            Some(fd.as_raw_fd()),
            c"",
            &args,
            &env,
            AtFlags::AT_EMPTY_PATH,
        );
        tracing::debug!("exec through a read-only bind mount failed; copying to a memfd");
    }
    let mut exe = File::open("/proc/self/exe").context(|| "Cannot open /proc/self/exe".into())?;
    let memfd = memfd_create(
        c"berth-runtime",
        MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
    )
    .context(|| "Cannot create a memfd for the sealed runtime copy".into())?;
    let mut copy = File::from(memfd);
    std::io::copy(&mut exe, &mut copy)
        .context(|| "Cannot copy the runtime binary into a memfd".into())?;
    fcntl(copy.as_raw_fd(), FcntlArg::F_ADD_SEALS(required_seals()))
        .context(|| "Cannot seal the runtime copy".into())?;
    let err = match fexecve(copy.as_raw_fd(), &args, &env) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    Err(err).context(|| "Cannot re-execute the runtime from its sealed copy".into())
}

fn args_and_env() -> (Vec<CString>, Vec<CString>) {
    let args = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()).expect("arguments from the kernel have no NUL"))
        .collect();
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).expect("environment from the kernel has no NUL")
        })
        .collect();
    (args, env)
}

/// Binds /proc/self/exe read-only on a temporary file, opens it, and detaches the mount:
/// the fd keeps the read-only view alive and nothing is left in the mount table.
fn readonly_view(scratch: &Path) -> Option<OwnedFd> {
    // Same mode `create` gives the state root: other users have no business in it.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(scratch)
        .ok()?;
    let target = scratch.join(format!(".berth-exe-{}", std::process::id()));
    File::create(&target).ok()?;
    let view = (|| {
        mount(
            Some("/proc/self/exe"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .ok()?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        let fd = mount(None::<&str>, &target, None::<&str>, flags, None::<&str>)
            .ok()
            .and_then(|_| {
                nix::fcntl::open(&target, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).ok()
            });
        let _ = umount2(&target, MntFlags::MNT_DETACH);
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    })();
    let _ = std::fs::remove_file(&target);
    view
}
