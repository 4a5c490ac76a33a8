//! Kernel modules the image lists (virtio drivers, vsock, overlay, netfilter...), loaded in
//! the order given. A module that fails is logged and skipped: the VM may still be usable
//! (a missing netfilter match only breaks published ports), and the log says why.

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// One module path a line, relative to /lib/modules/<uname -r>/.
pub const LIST: &str = "/etc/berth/modules";

/// finit_module: the kernel decompresses the file itself (Debian ships .ko.xz).
const MODULE_INIT_COMPRESSED_FILE: libc::c_uint = 4;

/// Which part of [`LIST`] to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// virtio and vsock: what the control service needs to answer the host.
    Early,
    /// Everything else (block, network, filesystems, netfilter).
    Rest,
}

impl Stage {
    fn of(path: &str) -> Stage {
        let early = path.contains("/drivers/virtio/") || path.contains("/net/vmw_vsock/");
        if early {
            Stage::Early
        } else {
            Stage::Rest
        }
    }
}

/// Loads the modules of `stage` in [`LIST`]'s order; returns how many loaded (or were
/// already there).
pub fn load(stage: Stage) -> usize {
    let Ok(list) = std::fs::read_to_string(LIST) else {
        return 0;
    };
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = Path::new("/lib/modules").join(release);
    let mut loaded = 0;
    for line in paths(&list).filter(|line| Stage::of(line) == stage) {
        let path = dir.join(line);
        match load_one(&path) {
            Ok(()) => loaded += 1,
            Err(e) => super::console::warn(&format!("module {}: {e}", path.display())),
        }
    }
    loaded
}

/// The non-empty, non-comment lines of the list.
fn paths(list: &str) -> impl Iterator<Item = &str> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn load_one(path: &PathBuf) -> std::io::Result<()> {
    let file = File::open(path)?;
    let name = path.to_string_lossy();
    let flags = if name.ends_with(".xz") || name.ends_with(".zst") || name.ends_with(".gz") {
        MODULE_INIT_COMPRESSED_FILE
    } else {
        0
    };
    let params: &CStr = c"";
    // SAFETY: finit_module(2) with an open fd, a NUL-terminated parameter string that
    // outlives the call, and flags the kernel validates.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            file.as_raw_fd(),
            params.as_ptr(),
            flags,
        )
    };
    match rc {
        0 => Ok(()),
        _ => match std::io::Error::last_os_error() {
            // Built in, or listed twice: what we wanted is there.
            e if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            e => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_skips_blanks_and_comments() {
        let list = "kernel/fs/overlayfs/overlay.ko.xz\n\n# netfilter\n  kernel/net/x.ko  \n";
        let got: Vec<&str> = super::paths(list).collect();
        assert_eq!(
            got,
            ["kernel/fs/overlayfs/overlay.ko.xz", "kernel/net/x.ko"]
        );
    }

    #[test]
    fn vsock_and_virtio_come_first() {
        use super::Stage;
        assert_eq!(
            Stage::of("kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko"),
            Stage::Early
        );
        assert_eq!(Stage::of("kernel/net/vmw_vsock/vsock.ko"), Stage::Early);
        assert_eq!(
            Stage::of("kernel/drivers/virtio/virtio_pci.ko"),
            Stage::Early
        );
        assert_eq!(Stage::of("kernel/fs/ext4/ext4.ko"), Stage::Rest);
        assert_eq!(Stage::of("kernel/drivers/block/virtio_blk.ko"), Stage::Rest);
    }
}
