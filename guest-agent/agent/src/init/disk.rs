//! The data disk: found, formatted ONLY when provably blank, mounted at /var/lib/berth.
//!
//! Data safety comes first (DESIGN.md: nothing is ever wiped automatically). A disk is
//! blank only when its first and last MiB are all zeros: that covers every partition
//! table (MBR, GPT and its backup header at the end), the ext/xfs/btrfs superblocks (1 KiB,
//! 0, 64 KiB), LUKS, swap and md/LVM labels at either end. Anything else is mounted as it
//! is, and if that fails the agent runs on tmpfs and says so loudly rather than format.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::mount::{mount, MsFlags};
use nix::sys::wait::WaitStatus;

use super::reaper::Children;

/// Where the engine keeps everything.
pub const DATA_DIR: &str = "/var/lib/berth";
/// The span checked at each end of the disk.
const CHECKED: u64 = 1024 * 1024;
/// How long to wait for the block device to appear (its driver may be a module that was
/// just loaded). Long: the host attached this disk, and giving up means running on tmpfs,
/// where the user's containers look gone. (The containers the CLI story once missed after
/// a reboot were lost another way: mke2fs "failed" with ECHILD on the first boot, see
/// `Children::run_blocking`, so that boot ran on tmpfs.)
const DEVICE_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("Cannot read {0}")]
    Read(PathBuf, #[source] io::Error),
    #[error("Cannot run mke2fs on {0}")]
    Mke2fs(PathBuf, #[source] io::Error),
    #[error("mke2fs failed on {device}: {output}")]
    Format { device: PathBuf, output: String },
    #[error("Cannot mount {0} at {DATA_DIR}")]
    Mount(PathBuf, #[source] nix::Error),
    #[error("Cannot mount a tmpfs at {DATA_DIR}")]
    Tmpfs(#[source] nix::Error),
}

/// What init made of the data disk.
#[derive(Debug, Clone)]
pub struct DataDisk {
    pub device: PathBuf,
    pub formatted_this_boot: bool,
}

/// True when the first and last [`CHECKED`] bytes of `disk` are all zeros.
pub fn is_blank(disk: &mut (impl Read + Seek)) -> io::Result<bool> {
    let size = disk.seek(SeekFrom::End(0))?;
    let tail = size.saturating_sub(CHECKED);
    for start in [0, tail] {
        disk.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; CHECKED.min(size - start) as usize];
        disk.read_exact(&mut buf)?;
        if buf.iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Mounts the data disk (formatting a blank one), or a tmpfs when there is none or it
/// cannot be used. Returns the disk, if one is mounted.
pub fn prepare(device: Option<&Path>, children: &Children) -> Result<Option<DataDisk>, DiskError> {
    std::fs::create_dir_all(DATA_DIR).ok();
    let Some(device) = device.filter(|d| wait_for(d)) else {
        super::console::warn(&format!(
            "NO DATA DISK ({}): images, containers and volumes live in memory and are LOST \
             at shutdown",
            device.map_or("berth.disk=none".into(), |d| format!(
                "{} missing",
                d.display()
            ))
        ));
        return mount_tmpfs().map(|()| None);
    };
    match mount_disk(device, children) {
        Ok(disk) => Ok(Some(disk)),
        Err(error) => {
            super::console::warn(&format!(
                "THE DATA DISK {} CANNOT BE USED: {}. It was NOT modified. Running on tmpfs: \
                 nothing is kept at shutdown",
                device.display(),
                super::console::chain(&error)
            ));
            mount_tmpfs().map(|()| None)
        }
    }
}

fn mount_disk(device: &Path, children: &Children) -> Result<DataDisk, DiskError> {
    let blank = File::open(device)
        .and_then(|mut f| is_blank(&mut f))
        .map_err(|e| DiskError::Read(device.to_path_buf(), e))?;
    if blank {
        super::console::info(&format!(
            "{} is blank: creating its filesystem",
            device.display()
        ));
        format(device, children)?;
    }
    mount(
        Some(device),
        DATA_DIR,
        Some("ext4"),
        MsFlags::MS_NOATIME,
        None::<&str>,
    )
    .map_err(|e| DiskError::Mount(device.to_path_buf(), e))?;
    Ok(DataDisk {
        device: device.to_path_buf(),
        formatted_this_boot: blank,
    })
}

fn format(device: &Path, children: &Children) -> Result<(), DiskError> {
    // -F: the target is a whole disk, not a partition; blankness was checked above.
    // assume_storage_prezeroed: the disk is a sparse file the host just created, so its
    // inode tables and journal read as zeros already. Without it the kernel's ext4lazyinit
    // zeroes about 1 GiB of inode tables of a 64 GiB disk in the background, which under
    // TCG competes with the first containers for the VM's CPUs for minutes.
    // -m 0: no blocks reserved for root; everything on this disk is the engine's (root's)
    // anyway, and the 5% default would hide 3 GiB of a 64 GiB disk from `df` and the app.
    let mut mke2fs = Command::new("/sbin/mke2fs");
    mke2fs
        .args(["-t", "ext4", "-q", "-F", "-L", "berth-data", "-m", "0"])
        .args(["-E", "assume_storage_prezeroed=1"])
        .arg(device);
    let (status, stderr) = children
        .run_blocking(&mut mke2fs)
        .map_err(|e| DiskError::Mke2fs(device.to_path_buf(), e))?;
    if !matches!(status, WaitStatus::Exited(_, 0)) {
        return Err(DiskError::Format {
            device: device.to_path_buf(),
            output: format!("{} ({status:?})", stderr.trim()),
        });
    }
    Ok(())
}

fn mount_tmpfs() -> Result<(), DiskError> {
    mount(
        Some("tmpfs"),
        DATA_DIR,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("mode=0711"),
    )
    .map_err(DiskError::Tmpfs)
}

fn wait_for(device: &Path) -> bool {
    let deadline = Instant::now() + DEVICE_WAIT;
    while !device.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    fn disk_with(size: usize, at: &[(usize, &[u8])]) -> Cursor<Vec<u8>> {
        let mut bytes = vec![0u8; size];
        for (offset, data) in at {
            bytes[*offset..offset + data.len()].copy_from_slice(data);
        }
        Cursor::new(bytes)
    }

    #[test]
    fn only_all_zero_disks_are_blank() {
        const MIB: usize = 1024 * 1024;
        type Bytes<'a> = &'a [(usize, &'a [u8])];
        let cases: &[(&str, usize, Bytes, bool)] = &[
            ("zeros", 8 * MIB, &[], true),
            ("tiny zeros", 4096, &[], true),
            ("empty", 0, &[], true),
            ("MBR signature", 8 * MIB, &[(510, &[0x55, 0xaa])], false),
            ("ext4 magic", 8 * MIB, &[(1024 + 56, &[0x53, 0xef])], false),
            (
                "btrfs at 64 KiB",
                8 * MIB,
                &[(65536 + 64, b"_BHRfS_M")],
                false,
            ),
            (
                "last byte of the first MiB",
                8 * MIB,
                &[(MIB - 1, &[1])],
                false,
            ),
            (
                "GPT backup at the end",
                8 * MIB,
                &[(8 * MIB - 512, b"EFI PART")],
                false,
            ),
            ("data in the middle only", 8 * MIB, &[(4 * MIB, &[1])], true),
            (
                "small disk, one byte",
                3 * MIB / 2,
                &[(MIB + 100, &[7])],
                false,
            ),
        ];
        for (name, size, at, blank) in cases {
            assert_eq!(
                is_blank(&mut disk_with(*size, at)).unwrap(),
                *blank,
                "{name}"
            );
        }
    }

    #[test]
    fn a_real_mke2fs_filesystem_is_not_blank() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.as_file_mut().set_len(16 * 1024 * 1024).unwrap();
        assert!(is_blank(file.as_file_mut()).unwrap());
        let mke2fs = ["/sbin/mke2fs", "/usr/sbin/mke2fs"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(mke2fs) = mke2fs else {
            // Without e2fsprogs, a written byte stands in for a filesystem.
            file.as_file_mut().write_all(&[1]).unwrap();
            assert!(!is_blank(file.as_file_mut()).unwrap());
            return;
        };
        let status = Command::new(mke2fs)
            .args(["-t", "ext4", "-q", "-F"])
            .arg(file.path())
            .status()
            .unwrap();
        assert!(status.success());
        assert!(!is_blank(file.as_file_mut()).unwrap());
    }
}
