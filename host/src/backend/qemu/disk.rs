//! The data disk: a sparse raw file. It holds every image, container and volume, so it is
//! created once and never truncated, recreated or shrunk.

use std::fs::OpenOptions;
use std::path::Path;

use crate::backend::{BackendError, Result};

/// The default size: sparse, so it costs only what the guest writes.
pub const DEFAULT_DISK_SIZE: u64 = 64 << 30;

/// Creates the disk at `size` bytes if it does not exist; an existing disk is left alone
/// (whatever its size). Returns true when it was created.
pub fn ensure_disk(path: &Path, size: u64) -> Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(BackendError::io(format!("Cannot create {}", dir.display())))?;
    }
    // create_new: never truncate a disk that appeared between a check and the open.
    let file = match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => {
            return Err(BackendError::io(format!(
                "Cannot create the disk {}",
                path.display()
            ))(e))
        }
    };
    let size = if size == 0 { DEFAULT_DISK_SIZE } else { size };
    file.set_len(size).map_err(BackendError::io(format!(
        "Cannot size the disk {}",
        path.display()
    )))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_disk_is_sparse_and_never_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("data/disk.img");
        assert!(ensure_disk(&disk, DEFAULT_DISK_SIZE).unwrap());
        let meta = disk.metadata().unwrap();
        assert_eq!(meta.len(), DEFAULT_DISK_SIZE);
        assert!(
            meta.blocks() * 512 < 1 << 20,
            "not sparse: {} blocks",
            meta.blocks()
        );

        std::fs::write(&disk, b"precious").unwrap();
        assert!(!ensure_disk(&disk, DEFAULT_DISK_SIZE).unwrap());
        assert!(!ensure_disk(&disk, 1 << 20).unwrap());
        assert_eq!(std::fs::read(&disk).unwrap(), b"precious");
    }
}
