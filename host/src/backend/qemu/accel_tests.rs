//! The probe's timeout and cache, with a fake QEMU that never boots anything.

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use super::*;

/// A fake `qemu-system-x86_64` in its own directory: answers --version, counts its runs in
/// `runs`, and otherwise sleeps like a hung KVM guest.
fn fake_qemu(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let qemu = bin.join("qemu-system-x86_64");
    std::fs::write(
        &qemu,
        format!(
            "#!/bin/sh\ncase \"$1\" in --version) echo 'QEMU emulator version 0.0-fake';; \
             *) echo run >> {}/runs; exec sleep 60;; esac\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&qemu, std::fs::Permissions::from_mode(0o755)).unwrap();
    qemu
}

fn setup(dir: &Path) -> (ProbeSetup, Files) {
    let kernel = dir.join("vmlinuz");
    std::fs::write(&kernel, b"not a kernel").unwrap();
    let path = std::env::join_paths([dir.join("bin")]).unwrap();
    fake_qemu(dir);
    let qemu = crate::backend::qemu::binary::find_qemu(Some(&path)).unwrap();
    let setup = ProbeSetup {
        qemu,
        kernel,
        // Any existing file stands in for /dev/kvm.
        kvm_device: dir.join("vmlinuz"),
        timeout: Duration::from_millis(700),
    };
    (setup, Files::new(dir))
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).map_or(0, |s| s.lines().count())
}

#[test]
fn a_hanging_kvm_falls_back_to_tcg_once_and_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let (setup, files) = setup(dir.path());

    let started = Instant::now();
    let first = choose(&setup, &files, None).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first.accel, Accel::Tcg);
    assert!(
        first.warning.as_deref().unwrap_or("").contains("TCG"),
        "{first:?}"
    );
    assert_eq!(runs(dir.path()), 1);

    // The verdict is cached: no second probe.
    let second = choose(&setup, &files, None).unwrap();
    assert_eq!(second, first);
    assert_eq!(runs(dir.path()), 1);

    // A different kernel is a different key.
    std::fs::write(&setup.kernel, b"another kernel, longer").unwrap();
    choose(&setup, &files, None).unwrap();
    assert_eq!(runs(dir.path()), 2);
}

#[test]
fn the_probe_gives_up_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (setup, files) = setup(dir.path());
    let started = Instant::now();
    // probe_kvm kills and reaps its QEMU before returning, so returning at all proves it.
    assert_eq!(probe_kvm(&setup, &files), Probe::Hangs);
    let took = started.elapsed();
    assert!(
        took >= setup.timeout && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn overrides_and_missing_kvm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut setup, files) = setup(dir.path());
    assert_eq!(
        choose(&setup, &files, Some("kvm")).unwrap().accel,
        Accel::Kvm
    );
    let tcg = choose(&setup, &files, Some("tcg")).unwrap();
    assert_eq!((tcg.accel, tcg.warning), (Accel::Tcg, None));
    assert!(choose(&setup, &files, Some("hvf")).is_err());
    setup.kvm_device = dir.path().join("no-kvm");
    let no_kvm = choose(&setup, &files, None).unwrap();
    assert_eq!(no_kvm.accel, Accel::Tcg);
    assert!(no_kvm.warning.is_some());
    assert_eq!(runs(dir.path()), 0);
}
