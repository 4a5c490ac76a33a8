//! Real QEMU boots (root + QEMU + vhost-device-vsock, as CI has): the Debian kernel from
//! /boot with a busybox initramfs built here, under TCG. Each boot takes a few seconds.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::{Backend, BackendError, Status, VmConfig};
use berth_host::vm::{Timeouts, Vm, VmError};

/// The newest /boot/vmlinuz-*.
fn host_kernel() -> PathBuf {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .expect("/boot")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .collect();
    kernels.sort();
    kernels
        .pop()
        .expect("a kernel in /boot (apt-get install linux-image-amd64)")
}

/// Appends one newc cpio entry.
fn cpio_entry(out: &mut Vec<u8>, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
    let fields = [
        0,
        mode,
        0,
        0,
        1,
        0,
        data.len() as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// An initramfs whose /init prints `marker` and then runs `then` (busybox applets).
fn initramfs(dir: &Path, marker: &str, then: &str) -> PathBuf {
    let busybox = std::fs::read("/bin/busybox").expect("busybox-static at /bin/busybox");
    let init = format!("#!/bin/busybox sh\n/bin/busybox echo {marker}\n/bin/busybox {then}\n");
    let mut cpio = Vec::new();
    cpio_entry(&mut cpio, "bin", 0o040755, (0, 0), b"");
    cpio_entry(&mut cpio, "dev", 0o040755, (0, 0), b"");
    // Without /dev/console the kernel gives init no stdout.
    cpio_entry(&mut cpio, "dev/console", 0o020600, (5, 1), b"");
    cpio_entry(&mut cpio, "bin/busybox", 0o100755, (0, 0), &busybox);
    cpio_entry(&mut cpio, "init", 0o100755, (0, 0), init.as_bytes());
    cpio_entry(&mut cpio, "TRAILER!!!", 0, (0, 0), b"");
    let path = dir.join("initramfs.cpio");
    std::fs::write(&path, cpio).unwrap();
    path
}

struct Guest {
    _dir: tempfile::TempDir,
    config: VmConfig,
    backend: Arc<QemuBackend>,
}

fn guest(marker: &str, then: &str, accel: Option<&str>) -> Guest {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("run");
    let config = VmConfig {
        kernel: host_kernel(),
        initrd: initramfs(dir.path(), marker, then),
        cmdline: String::new(),
        cpus: 1,
        memory_mib: 256,
        disk: dir.path().join("data.img"),
        disk_size_bytes: 1 << 30,
        state_dir: state.clone(),
        shares: Vec::new(),
    };
    let mut options = QemuOptions::from_env();
    options.accel = accel.map(String::from);
    let backend = Arc::new(QemuBackend::new(state, options));
    Guest {
        _dir: dir,
        config,
        backend,
    }
}

fn console(backend: &QemuBackend) -> String {
    String::from_utf8_lossy(&std::fs::read(backend.console_log()).unwrap_or_default()).into_owned()
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn qemu_boot_running_guest_is_adopted_and_stopped() {
    // No accelerator override: this runs the real KVM probe (cached for later boots).
    let g = guest("BERTH-SLEEPER", "sleep 3600", None);
    let started = Instant::now();
    g.backend.start(&g.config).unwrap();
    let name = g.backend.name();
    assert!(name == "qemu-tcg" || name == "qemu-kvm", "{name}");
    wait_for("the marker", Duration::from_secs(60), || {
        console(&g.backend).contains("BERTH-SLEEPER")
    });
    eprintln!(
        "{name}: QEMU start to init marker in {:?}",
        started.elapsed()
    );
    let pid = match g.backend.status() {
        Status::Running { pid: Some(pid) } => pid,
        other => panic!("expected Running, got {other:?}"),
    };
    assert_eq!(g.backend.query_status().unwrap(), "running");

    // Another host process (a fresh backend on the same state) sees it and will not boot a
    // second VM.
    let other = QemuBackend::new(&g.config.state_dir, QemuOptions::from_env());
    assert_eq!(other.status(), Status::Running { pid: Some(pid) });
    match other.start(&g.config) {
        Err(BackendError::RunningElsewhere { pid: p }) => assert_eq!(p, pid),
        got => panic!("expected RunningElsewhere, got {got:?}"),
    }
    assert!(matches!(
        g.backend.start(&g.config),
        Err(BackendError::AlreadyRunning)
    ));

    // The sleeper ignores the power button: stop falls through to QMP quit.
    let stopping = Instant::now();
    other.stop(Duration::from_secs(1)).unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopping.elapsed()
    );
    assert_eq!(other.status(), Status::Stopped);
    assert_eq!(g.backend.status(), Status::Stopped);
    assert!(matches!(g.backend.kill(), Err(BackendError::NotRunning)));
}

#[test]
fn qemu_boot_guest_that_powers_off_is_stopped_not_crashed() {
    let g = guest("BERTH-POWEROFF", "poweroff -f", Some("tcg"));
    let vm = Vm::new(g.backend.clone(), g.config.clone()).with_timeouts(Timeouts {
        ready: Duration::from_secs(60),
        ..Timeouts::default()
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    // No agent in this guest: start must notice the VM went away, not wait out its timeout.
    match runtime.block_on(vm.start(|_| {})) {
        Err(VmError::StoppedAtBoot { console_tail }) => {
            assert!(console_tail.contains("BERTH-POWEROFF"), "{console_tail}")
        }
        other => panic!("expected StoppedAtBoot, got {other:?}"),
    }
    eprintln!("QEMU start to poweroff in {:?}", started.elapsed());
    assert_eq!(g.backend.status(), Status::Stopped);
    // The disk was created sparse and survives.
    assert_eq!(g.config.disk.metadata().unwrap().len(), 1 << 30);
}

#[test]
fn qemu_boot_externally_killed_qemu_is_a_crash_with_the_console() {
    let g = guest("BERTH-VICTIM", "sleep 3600", Some("tcg"));
    g.backend.start(&g.config).unwrap();
    wait_for("the marker", Duration::from_secs(60), || {
        console(&g.backend).contains("BERTH-VICTIM")
    });
    let Status::Running { pid: Some(pid) } = g.backend.status() else {
        panic!("not running")
    };
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("QEMU to die", Duration::from_secs(10), || {
        !matches!(g.backend.status(), Status::Running { .. })
    });
    match g.backend.status() {
        Status::Crashed {
            reason,
            console_tail,
        } => {
            assert!(reason.contains("SIGKILL"), "{reason}");
            assert!(console_tail.contains("BERTH-VICTIM"), "{console_tail}");
        }
        other => panic!("expected Crashed, got {other:?}"),
    }
    // A fresh backend (the daemon restarted) sees the crash too, without the exit record's
    // author.
    let other = QemuBackend::new(&g.config.state_dir, QemuOptions::from_env());
    assert!(matches!(other.status(), Status::Crashed { .. }));
    // And the next boot starts clean.
    g.backend.start(&g.config).unwrap();
    assert!(matches!(g.backend.status(), Status::Running { .. }));
    g.backend.kill().unwrap();
    assert_eq!(g.backend.status(), Status::Stopped);
}
