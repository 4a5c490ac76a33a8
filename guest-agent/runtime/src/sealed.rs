//! CVE-2019-5736: a container process must never be able to open the runtime's binary for
//! writing through /proc/PID/exe while the runtime is inside the container's namespaces.
//! So before entering any container, the runtime re-executes itself from a sealed memfd
//! copy: /proc/self/exe then names an anonymous, write-sealed file, not the host binary.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
use nix::unistd::fexecve;

use crate::error::{Context, Result};

fn required_seals() -> SealFlag {
    SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE
}

/// True when the running binary is a sealed memfd copy.
pub fn running_sealed() -> bool {
    let Ok(exe) = File::open("/proc/self/exe") else {
        return false;
    };
    match fcntl(exe.as_raw_fd(), FcntlArg::F_GET_SEALS) {
        Ok(bits) => SealFlag::from_bits_truncate(bits).contains(required_seals()),
        Err(_) => false,
    }
}

/// Re-executes the current binary from a sealed copy, with the same arguments and
/// environment, unless already running from one. Returns only if already sealed.
pub fn ensure_sealed() -> Result<()> {
    if running_sealed() {
        return Ok(());
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
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()).expect("arguments from the kernel have no NUL"))
        .collect();
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).expect("environment from the kernel has no NUL")
        })
        .collect();
    let err = match fexecve(copy.as_raw_fd(), &args, &env) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    Err(err).context(|| "Cannot re-execute the runtime from its sealed copy".into())
}
