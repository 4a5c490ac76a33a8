//! flock(2) locks on files under `layers/`. flock locks belong to an open file description,
//! so they exclude other threads of the engine (each opens its own) as well as other
//! processes sharing the root, and the kernel drops them when a holder dies.
//!
//! `layers/.lock` is held shared by every `ensure` and exclusively by `remove_unused`, so a
//! prune never deletes a layer an ensure is about to return. `layers/.locks/<hex>` is held
//! exclusively while that one layer is unpacked, so it is unpacked once.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::{io_err, Result};

/// A held lock; released on drop.
#[derive(Debug)]
pub(super) struct Lock {
    _held: Flock<File>,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Shared,
    Exclusive,
}

/// Blocks until the lock on `path` (created if missing) is held.
pub(super) fn lock(path: &Path, kind: Kind) -> Result<Lock> {
    let arg = match kind {
        Kind::Shared => FlockArg::LockShared,
        Kind::Exclusive => FlockArg::LockExclusive,
    };
    let mut file = open(path)?;
    loop {
        match Flock::lock(file, arg) {
            Ok(held) => return Ok(Lock { _held: held }),
            // A signal interrupted the wait: wait again.
            Err((f, Errno::EINTR)) => file = f,
            Err((_, e)) => return Err(io_err("lock", path)(e)),
        }
    }
}

/// The exclusive lock on `path` if nobody holds any lock on it, else `None`.
pub(super) fn try_exclusive(path: &Path) -> Result<Option<Lock>> {
    match Flock::lock(open(path)?, FlockArg::LockExclusiveNonblock) {
        Ok(held) => Ok(Some(Lock { _held: held })),
        Err((_, Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(io_err("lock", path)(e)),
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .map_err(io_err("open the lock file", path))
}
