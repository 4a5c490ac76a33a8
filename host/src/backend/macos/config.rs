//! Builds the `VZVirtualMachineConfiguration` for Berth's guest: the QEMU command line of the
//! Linux backend, in Virtualization.framework's objects.
//!
//! | QEMU | here |
//! |---|---|
//! | `-kernel -initrd -append` | `VZLinuxBootLoader` |
//! | `-smp -m` | `CPUCount`, `memorySize` |
//! | `-drive if=virtio` (raw) | `VZVirtioBlockDeviceConfiguration` + `VZDiskImageStorageDeviceAttachment` |
//! | `-netdev user` + `virtio-net` | `VZVirtioNetworkDeviceConfiguration` + `VZNATNetworkDeviceAttachment` |
//! | `vhost-vsock` | `VZVirtioSocketDeviceConfiguration` |
//! | `virtiofsd` + `vhost-user-fs` | `VZVirtioFileSystemDeviceConfiguration` + `VZSingleDirectoryShare` |
//! | `-serial file:` | virtio console (`hvc0`) + `VZFileHandleSerialPortAttachment` |
//! | `virtio-rng` | `VZVirtioEntropyDeviceConfiguration` |

use std::fs::OpenOptions;
use std::os::fd::IntoRawFd;
use std::path::Path;

use objc2::rc::Retained;
use objc2::AllocAnyThread;
use objc2_foundation::{NSArray, NSFileHandle, NSString, NSURL};
use objc2_virtualization::*;

use super::queue::OnQueue;
use crate::backend::{BackendError, Result, VmConfig};

/// The kernel command line the backend puts before the caller's: the virtio console is
/// `hvc0` under Virtualization.framework (there is no 8250 UART).
const BASE_CMDLINE: &str = "console=hvc0 quiet";

pub(super) fn build(
    config: &VmConfig,
    console: &Path,
) -> Result<OnQueue<Retained<VZVirtualMachineConfiguration>>> {
    let kernel = file_url(
        &config.kernel,
        "The guest kernel",
        "build it with vm-image/",
    )?;
    let initrd = file_url(
        &config.initrd,
        "The guest initramfs",
        "build it with vm-image/",
    )?;
    ensure_disk(&config.disk, config.disk_size_bytes)?;
    let disk = file_url(&config.disk, "The data disk", "it could not be created")?;
    let console_fd = OpenOptions::new()
        .create(true)
        .append(true)
        .open(console)
        .map_err(BackendError::io(format!("Opening {}", console.display())))?
        .into_raw_fd();
    // The guest mounts the shares (the devices built below) by the list on its command line.
    let cmdline = NSString::from_str(&format!(
        "{BASE_CMDLINE} {} {}",
        config.cmdline,
        super::super::shares_cmdline(&config.shares)
    ));
    // Each host folder is shared under its tag; the guest mounts it at the same absolute
    // path (read-only ones also read-only here, so the host enforces it).
    let shares = config
        .shares
        .iter()
        .map(|share| {
            let path = &share.host_path;
            let url = NSURL::from_directory_path(path).ok_or_else(|| BackendError::Missing {
                what: format!("The shared folder {}", path.display()),
                hint: "share an existing absolute directory".into(),
            })?;
            Ok((NSString::from_str(&share.tag), url, share.read_only))
        })
        .collect::<Result<Vec<_>>>()?;

    // SAFETY: every object here is created by this function and not shared with another
    // thread until it is returned; each setter gets an object of the class it documents;
    // `console_fd` is an open descriptor whose ownership passes to the NSFileHandle
    // (closeOnDealloc), so it is closed exactly once.
    let vz = unsafe {
        let vz = VZVirtualMachineConfiguration::new();
        vz.setPlatform(&VZGenericPlatformConfiguration::new());

        let boot = VZLinuxBootLoader::initWithKernelURL(VZLinuxBootLoader::alloc(), &kernel);
        boot.setInitialRamdiskURL(Some(&initrd));
        boot.setCommandLine(&cmdline);
        vz.setBootLoader(Some(&boot));

        vz.setCPUCount(config.cpus as usize);
        vz.setMemorySize(config.memory_mib.saturating_mul(1024 * 1024));

        let attachment = VZDiskImageStorageDeviceAttachment::initWithURL_readOnly_error(
            VZDiskImageStorageDeviceAttachment::alloc(),
            &disk,
            false,
        )
        .map_err(|e| failed("Attaching the data disk", &e))?;
        let block = VZVirtioBlockDeviceConfiguration::initWithAttachment(
            VZVirtioBlockDeviceConfiguration::alloc(),
            &attachment,
        );
        vz.setStorageDevices(&NSArray::from_slice(&[
            &**block as &VZStorageDeviceConfiguration
        ]));

        let net = VZVirtioNetworkDeviceConfiguration::new();
        net.setAttachment(Some(&VZNATNetworkDeviceAttachment::new()));
        vz.setNetworkDevices(&NSArray::from_slice(&[
            &**net as &VZNetworkDeviceConfiguration
        ]));

        let vsock = VZVirtioSocketDeviceConfiguration::new();
        vz.setSocketDevices(&NSArray::from_slice(&[
            &**vsock as &VZSocketDeviceConfiguration
        ]));

        let entropy = VZVirtioEntropyDeviceConfiguration::new();
        vz.setEntropyDevices(&NSArray::from_slice(&[
            &**entropy as &VZEntropyDeviceConfiguration
        ]));

        let log = NSFileHandle::initWithFileDescriptor_closeOnDealloc(
            NSFileHandle::alloc(),
            console_fd,
            true,
        );
        let serial_attachment =
            VZFileHandleSerialPortAttachment::initWithFileHandleForReading_fileHandleForWriting(
                VZFileHandleSerialPortAttachment::alloc(),
                None,
                Some(&log),
            );
        let serial = VZVirtioConsoleDeviceSerialPortConfiguration::new();
        serial.setAttachment(Some(&serial_attachment));
        vz.setSerialPorts(&NSArray::from_slice(&[
            &**serial as &VZSerialPortConfiguration
        ]));

        let mut fs_devices: Vec<Retained<VZDirectorySharingDeviceConfiguration>> = Vec::new();
        for (tag, url, read_only) in &shares {
            VZVirtioFileSystemDeviceConfiguration::validateTag_error(tag)
                .map_err(|e| failed("A shared folder's tag is invalid", &e))?;
            let directory = VZSharedDirectory::initWithURL_readOnly(
                VZSharedDirectory::alloc(),
                url,
                *read_only,
            );
            let share = VZSingleDirectoryShare::initWithDirectory(
                VZSingleDirectoryShare::alloc(),
                &directory,
            );
            let device = VZVirtioFileSystemDeviceConfiguration::initWithTag(
                VZVirtioFileSystemDeviceConfiguration::alloc(),
                tag,
            );
            device.setShare(Some(&share));
            fs_devices.push(Retained::into_super(device));
        }
        vz.setDirectorySharingDevices(&NSArray::from_retained_slice(&fs_devices));

        vz.validateWithError()
            .map_err(|e| failed("The VM configuration is invalid", &e))?;
        vz
    };
    Ok(OnQueue::new(vz))
}

fn failed(what: &str, error: &objc2_foundation::NSError) -> BackendError {
    BackendError::Failed(format!("{what}: {}", error.localizedDescription()))
}

/// A file URL for an existing file (Virtualization.framework wants absolute file URLs).
fn file_url(path: &Path, what: &str, hint: &str) -> Result<Retained<NSURL>> {
    let missing = || BackendError::Missing {
        what: format!("{what} ({})", path.display()),
        hint: hint.into(),
    };
    let absolute = path.canonicalize().map_err(|_| missing())?;
    NSURL::from_file_path(&absolute).ok_or_else(missing)
}

/// Creates the data disk as a sparse raw file if it does not exist; never truncates one.
fn ensure_disk(path: &Path, size: u64) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(BackendError::io(format!("Creating {}", parent.display())))?;
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(BackendError::io(format!("Creating {}", path.display())))?;
    // set_len on a new file makes a hole on APFS: no blocks until the guest writes.
    file.set_len(size)
        .map_err(BackendError::io(format!("Sizing {}", path.display())))
}
