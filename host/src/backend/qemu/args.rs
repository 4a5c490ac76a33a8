//! QEMU's command line, built from a [`VmConfig`] as plain data so it can be tested
//! without starting anything.
//!
//! Machine: q35. `-M microvm` boots about as fast here but hangs now and then under TCG while
//! calibrating the TSC (it has no PIT/HPET reference), which q35 never does.

use std::ffi::OsString;
use std::path::Path;

use super::files::Files;
use crate::backend::VmConfig;

/// How QEMU runs guest code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    Kvm,
    Tcg,
}

/// How the guest's vsock device reaches the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsockDevice {
    /// The kernel's vhost-vsock (`/dev/vhost-vsock`); the host uses AF_VSOCK.
    Kernel { cid: u32 },
    /// vhost-device-vsock behind a vhost-user socket; the host uses hybrid vsock.
    VhostUser,
}

/// The kernel command line every Berth guest gets before the caller's part: the console on
/// the first serial port, and a panic that ends QEMU (with -no-reboot) instead of hanging.
pub const BASE_CMDLINE: &str = "console=ttyS0 quiet panic=-1";

/// Escapes a value inside a QEMU `key=value,...` option: commas are doubled.
fn opt(path: &Path) -> String {
    path.to_string_lossy().replace(',', ",,")
}

pub fn qemu_args(
    config: &VmConfig,
    accel: Accel,
    vsock: VsockDevice,
    files: &Files,
) -> Vec<OsString> {
    let mem = config.memory_mib.max(128);
    let mut args: Vec<String> = vec![
        "-name".into(),
        "berth".into(),
        "-nodefaults".into(),
        "-no-user-config".into(),
        "-nographic".into(),
        // A guest reboot (or a panic) ends QEMU: the host decides what happens next.
        "-no-reboot".into(),
        // memfd shared memory: vhost-user devices (vsock, virtiofs) map the guest's RAM.
        "-M".into(),
        "q35,memory-backend=mem".into(),
        "-object".into(),
        format!("memory-backend-memfd,id=mem,size={mem}M,share=on"),
        "-m".into(),
        format!("{mem}M"),
        "-smp".into(),
        config.cpus.max(1).to_string(),
    ];
    match accel {
        Accel::Kvm => args.extend(["-accel".into(), "kvm".into(), "-cpu".into(), "host".into()]),
        // `max` gives TCG every feature it emulates (x86-64-v2+ userlands need them).
        Accel::Tcg => args.extend(["-accel".into(), "tcg".into(), "-cpu".into(), "max".into()]),
    }
    // The caller's options, then the shares the guest's init mounts.
    let cmdline = [
        BASE_CMDLINE,
        config.cmdline.trim(),
        &crate::backend::shares_cmdline(&config.shares),
    ]
    .iter()
    .filter(|part| !part.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    args.extend([
        "-kernel".into(),
        config.kernel.to_string_lossy().into_owned(),
        "-initrd".into(),
        config.initrd.to_string_lossy().into_owned(),
        "-append".into(),
        cmdline,
        "-chardev".into(),
        format!("file,id=console,path={}", opt(&files.console())),
        "-serial".into(),
        "chardev:console".into(),
        "-drive".into(),
        format!(
            "file={},if=none,id=data,format=raw,discard=unmap",
            opt(&config.disk)
        ),
        "-device".into(),
        "virtio-blk-pci,drive=data".into(),
        // slirp: the guest is 10.0.2.15, the host's loopback is 10.0.2.2.
        "-netdev".into(),
        "user,id=net0".into(),
        "-device".into(),
        "virtio-net-pci,netdev=net0".into(),
        // Entropy: a TCG guest otherwise waits long for its CRNG.
        "-device".into(),
        "virtio-rng-pci".into(),
    ]);
    match vsock {
        VsockDevice::Kernel { cid } => {
            args.extend(["-device".into(), format!("vhost-vsock-pci,guest-cid={cid}")])
        }
        VsockDevice::VhostUser => args.extend([
            "-chardev".into(),
            format!("socket,id=vsock,path={}", opt(&files.vhost_user())),
            "-device".into(),
            "vhost-user-vsock-pci,chardev=vsock".into(),
        ]),
    }
    // Shared folders: one vhost-user-fs device per share, each served by its virtiofsd.
    for (n, share) in config.shares.iter().enumerate() {
        args.extend([
            "-chardev".into(),
            format!("socket,id=fs{n},path={}", opt(&files.virtiofs_socket(n))),
            "-device".into(),
            format!(
                "vhost-user-fs-pci,chardev=fs{n},tag={}",
                share.tag.replace(',', ",,")
            ),
        ]);
    }
    args.extend([
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", opt(&files.qmp())),
    ]);
    args.into_iter().map(OsString::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config() -> VmConfig {
        VmConfig {
            kernel: "/img/vmlinuz".into(),
            initrd: "/img/initramfs.cpio".into(),
            cmdline: "berth.debug=1".into(),
            cpus: 2,
            memory_mib: 2048,
            disk: "/data/a,b.img".into(),
            disk_size_bytes: 1 << 30,
            state_dir: "/run/berth".into(),
            shares: Vec::new(),
        }
    }

    fn line(accel: Accel, vsock: VsockDevice) -> String {
        let files = Files::new(PathBuf::from("/run/berth"));
        let args = qemu_args(&config(), accel, vsock, &files);
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn tcg_with_vhost_user_vsock() {
        let l = line(Accel::Tcg, VsockDevice::VhostUser);
        for part in [
            "-M q35,memory-backend=mem",
            "-object memory-backend-memfd,id=mem,size=2048M,share=on -m 2048M -smp 2",
            "-accel tcg -cpu max",
            "-kernel /img/vmlinuz -initrd /img/initramfs.cpio",
            "-append console=ttyS0 quiet panic=-1 berth.debug=1",
            "-chardev file,id=console,path=/run/berth/console.log -serial chardev:console",
            // The comma in the disk's path is escaped, not taken as an option separator.
            "-drive file=/data/a,,b.img,if=none,id=data,format=raw",
            "-device virtio-blk-pci,drive=data",
            "-netdev user,id=net0 -device virtio-net-pci,netdev=net0",
            "-chardev socket,id=vsock,path=/run/berth/vhost-vsock.sock -device vhost-user-vsock-pci,chardev=vsock",
            "-qmp unix:/run/berth/qmp.sock,server=on,wait=off",
            "-nodefaults -no-user-config -nographic -no-reboot",
        ] {
            assert!(l.contains(part), "missing {part:?} in {l}");
        }
        assert!(!l.contains("vhost-vsock-pci,guest-cid"), "{l}");
        assert!(
            !l.contains("vhost-user-fs") && !l.contains("berth.shares"),
            "{l}"
        );
    }

    #[test]
    fn shares_get_a_device_each_and_a_cmdline_entry() {
        let mut config = config();
        config.shares = vec![
            crate::backend::Share {
                tag: "home".into(),
                host_path: "/home/me".into(),
                read_only: false,
            },
            crate::backend::Share {
                tag: "src".into(),
                host_path: "/srv/a b".into(),
                read_only: true,
            },
        ];
        let files = Files::new(PathBuf::from("/run/berth"));
        let args = qemu_args(&config, Accel::Tcg, VsockDevice::VhostUser, &files);
        let l = args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        for part in [
            "-chardev socket,id=fs0,path=/run/berth/virtiofs-0.sock -device vhost-user-fs-pci,chardev=fs0,tag=home",
            "-chardev socket,id=fs1,path=/run/berth/virtiofs-1.sock -device vhost-user-fs-pci,chardev=fs1,tag=src",
        ] {
            assert!(l.contains(part), "missing {part:?} in {l}");
        }
        let append = args.iter().position(|a| a == "-append").unwrap() + 1;
        assert_eq!(
            args[append],
            "console=ttyS0 quiet panic=-1 berth.debug=1 berth.shares=home:/home/me,src:/srv/a%20b:ro"
        );
    }

    #[test]
    fn kvm_with_kernel_vsock() {
        let l = line(Accel::Kvm, VsockDevice::Kernel { cid: 3 });
        assert!(l.contains("-accel kvm -cpu host"), "{l}");
        assert!(l.contains("-device vhost-vsock-pci,guest-cid=3"), "{l}");
        assert!(!l.contains("vhost-user-vsock"), "{l}");
    }
}
