//! The VM lock: one host process boots a given VM. It is an advisory lock on `vm.lock`
//! (flock on Unix, an exclusive open on Windows), so it disappears with its holders: no
//! stale lock after a crash. The file's content is the pid of the VMM once it runs (else of
//! the locker), for the "already running (pid N)" message.
//!
//! On Unix the QEMU backend lets QEMU inherit the locked descriptor: the lock then lives as
//! long as the VM, even when the daemon that booted it exits first.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("The VM is already running (pid {pid})")]
    Held { pid: u32 },
    #[error("The VM is locked by another process")]
    HeldUnknown,
    #[error("Cannot open the VM lock {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Held while this process (or the VMM it started) owns the VM; released on drop.
#[derive(Debug)]
pub struct VmLock {
    file: sys::Locked,
    path: PathBuf,
}

impl VmLock {
    /// Takes the lock or says who holds it; never waits.
    pub fn acquire(path: &Path) -> Result<VmLock, LockError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |source| LockError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = match sys::open_locked(path) {
            Ok(Some(file)) => file,
            Ok(None) => return Err(holder(path)),
            Err(e) => return Err(open_err(e)),
        };
        let mut lock = VmLock {
            file,
            path: path.to_path_buf(),
        };
        lock.record_pid(std::process::id()).map_err(open_err)?;
        Ok(lock)
    }

    /// Writes the pid a contender will be told about (the VMM's, once it runs).
    pub fn record_pid(&mut self, pid: u32) -> std::io::Result<()> {
        let mut file: &File = &self.file;
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(format!("{pid}\n").as_bytes())?;
        file.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file, for handing its descriptor to a child that must keep the lock.
    pub fn file(&self) -> &File {
        &self.file
    }
}

fn holder(path: &Path) -> LockError {
    let mut text = String::new();
    let read = sys::open_shared(path).and_then(|mut f| f.read_to_string(&mut text));
    match read.ok().and_then(|_| text.trim().parse().ok()) {
        Some(pid) => LockError::Held { pid },
        None => LockError::HeldUnknown,
    }
}

#[cfg(unix)]
mod sys {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::path::Path;

    use nix::fcntl::{Flock, FlockArg};

    pub type Locked = Flock<File>;

    /// Opens and flocks the file, `None` when someone else holds it.
    pub fn open_locked(path: &Path) -> io::Result<Option<Locked>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // flock (not fcntl locks): it belongs to the open file description, so it is shared
        // with a child that inherits the descriptor and survives this process.
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => Ok(Some(locked)),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(e.into()),
        }
    }

    pub fn open_shared(path: &Path) -> io::Result<File> {
        File::open(path)
    }
}

#[cfg(windows)]
mod sys {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::windows::fs::OpenOptionsExt;
    use std::path::Path;

    /// ERROR_SHARING_VIOLATION: another process has the file open without sharing.
    const SHARING_VIOLATION: i32 = 32;
    const FILE_SHARE_READ: u32 = 1;

    pub type Locked = File;

    /// An open that shares only reading is Windows' own exclusive lock.
    pub fn open_locked(path: &Path) -> io::Result<Option<File>> {
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .share_mode(FILE_SHARE_READ)
            .open(path)
        {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.raw_os_error() == Some(SHARING_VIOLATION) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn open_shared(path: &Path) -> io::Result<File> {
        const FILE_SHARE_WRITE: u32 = 2;
        OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .open(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_locker_is_told_the_pid_and_the_lock_dies_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.lock");
        let mut first = VmLock::acquire(&path).unwrap();
        first.record_pid(4242).unwrap();
        match VmLock::acquire(&path) {
            Err(LockError::Held { pid }) => assert_eq!(pid, 4242),
            other => panic!("expected Held, got {other:?}"),
        }
        let err = VmLock::acquire(&path).unwrap_err();
        assert_eq!(err.to_string(), "The VM is already running (pid 4242)");
        drop(first);
        let again = VmLock::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(again.path()).unwrap().trim(),
            std::process::id().to_string()
        );
    }
}
