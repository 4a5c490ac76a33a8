//! The data disk on Windows: a dynamically expanding VHDX (Hyper-V's SCSI controller attaches
//! VHD/VHDX files, not raw images), created through the virtdisk API when missing.

use std::path::{Path, PathBuf};

use windows::core::{GUID, HSTRING};
use windows::Win32::Foundation::{CloseHandle, HANDLE, WIN32_ERROR};
use windows::Win32::Storage::Vhd::*;

use crate::backend::{BackendError, Result};

/// Where the VHDX lives: the configured disk path with a `.vhdx` extension.
pub(super) fn vhdx_path(disk: &Path) -> PathBuf {
    disk.with_extension("vhdx")
}

/// Creates `path` as a dynamic VHDX of `size` bytes if it does not exist; never touches an
/// existing disk.
pub(super) fn ensure_vhdx(path: &Path, size: u64) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(BackendError::io(format!("Creating {}", parent.display())))?;
    }
    let storage_type = VIRTUAL_STORAGE_TYPE {
        DeviceId: VIRTUAL_STORAGE_TYPE_DEVICE_VHDX,
        VendorId: VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT,
    };
    let mut parameters = CREATE_VIRTUAL_DISK_PARAMETERS {
        Version: CREATE_VIRTUAL_DISK_VERSION_2,
        ..Default::default()
    };
    parameters.Anonymous.Version2 = CREATE_VIRTUAL_DISK_PARAMETERS_0_1 {
        UniqueId: GUID::zeroed(),
        MaximumSize: size,
        // 0 picks the VHDX defaults (32 MiB blocks, 512-byte logical sectors).
        BlockSizeInBytes: 0,
        SectorSizeInBytes: 0,
        PhysicalSectorSizeInBytes: 0,
        ..Default::default()
    };
    let mut handle = HANDLE::default();
    // SAFETY: all pointers refer to live locals for the call's duration; the path is a valid
    // wide string; no overlapped I/O, so the call completes before returning.
    let status = unsafe {
        CreateVirtualDisk(
            &storage_type,
            &HSTRING::from(path.as_os_str()),
            VIRTUAL_DISK_ACCESS_NONE,
            None,
            CREATE_VIRTUAL_DISK_FLAG_NONE,
            0,
            &parameters,
            None,
            &mut handle,
        )
    };
    if status != WIN32_ERROR(0) {
        return Err(BackendError::Io {
            context: format!("Creating the VHDX {}", path.display()),
            source: std::io::Error::from_raw_os_error(status.0 as i32),
        });
    }
    // SAFETY: a handle CreateVirtualDisk just opened for us, closed once.
    unsafe { CloseHandle(handle) }.map_err(|e| {
        BackendError::Failed(format!(
            "Closing the new VHDX {} failed: {e}",
            path.display()
        ))
    })
}
