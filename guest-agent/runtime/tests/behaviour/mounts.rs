//! The container's mount table: rootfs, the spec's mounts and their options.

use std::fs;
use std::path::Path;

use nix::mount::{mount, MsFlags};
use serde_json::json;

use crate::common::host::{mount_at, parse_mountinfo, Mount};
use crate::common::Sandbox;

/// The container's view of its mounts, taken from the output of `cat /proc/self/mountinfo`.
fn container_mounts(text: &str) -> Vec<Mount> {
    parse_mountinfo(text)
}

#[test]
fn root_is_the_bundle_rootfs_with_proc_sys_and_dev_mounted() {
    let sandbox = Sandbox::new("mnt-root");
    let mut bundle = sandbox.bundle("c");
    fs::write(bundle.rootfs().join("marker"), "from-the-bundle\n").unwrap();
    bundle.sh("cat /marker; ls /tmp-outside-rootfs 2>&1; cat /proc/self/mountinfo");
    // A host path that must not be visible inside.
    fs::create_dir_all(sandbox.path().join("tmp-outside-rootfs")).unwrap();
    let out = sandbox.run(&bundle).expect_ok();

    assert!(out.stdout.starts_with("from-the-bundle\n"), "{out}");
    assert!(out.stdout.contains("No such file or directory"), "{out}");
    let mounts = container_mounts(&out.stdout);
    let root = mount_at(&mounts, "/").unwrap_or_else(|| panic!("no / mount\n{out}"));
    assert!(
        root.root.ends_with("/rootfs") || root.fstype == "overlay",
        "/ is neither a bind of the rootfs nor an overlay: {root:?}"
    );
    for (point, fstype) in [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ] {
        let m = mount_at(&mounts, point).unwrap_or_else(|| panic!("{point} not mounted\n{out}"));
        assert_eq!(m.fstype, fstype, "{point}: {m:?}");
    }
    let sys = mount_at(&mounts, "/sys").unwrap();
    assert!(
        sys.is_read_only(),
        "/sys must honour its ro option: {sys:?}"
    );
}

#[test]
fn a_read_only_root_refuses_writes() {
    let sandbox = Sandbox::new("mnt-roroot");
    let mut writable = sandbox.bundle("rw");
    writable.args(&["touch", "/x"]);
    sandbox.run(&writable).expect_ok();
    assert!(
        writable.rootfs().join("x").exists(),
        "touch on a rw root must land in rootfs"
    );

    let mut read_only = sandbox.bundle("ro");
    read_only.spec["root"]["readonly"] = json!(true);
    read_only.args(&["touch", "/x"]);
    let out = sandbox.run(&read_only).expect_failure();
    assert!(out.stderr.contains("Read-only file system"), "{out}");
    assert!(!read_only.rootfs().join("x").exists());
}

#[test]
fn a_read_only_bind_mount_shows_the_host_dir_and_refuses_writes() {
    let sandbox = Sandbox::new("mnt-bind");
    let share = sandbox.scratch_dir("share");
    fs::write(share.join("hello"), "hello from the host\n").unwrap();
    let mut bundle = sandbox.bundle("c");
    bundle.add_mount(json!({
        "destination": "/data", "type": "bind", "source": share, "options": ["rbind", "ro"]
    }));
    bundle.sh("cat /data/hello; touch /data/new 2>&1; cat /proc/self/mountinfo");
    let out = sandbox.run(&bundle).expect_ok();

    assert!(out.stdout.starts_with("hello from the host\n"), "{out}");
    assert!(out.stdout.contains("Read-only file system"), "{out}");
    assert!(
        !share.join("new").exists(),
        "the write reached the host dir"
    );
    let mounts = container_mounts(&out.stdout);
    let data = mount_at(&mounts, "/data").unwrap_or_else(|| panic!("no /data mount\n{out}"));
    assert!(data.is_read_only(), "{data:?}");
}

#[test]
fn a_tmpfs_mount_honours_size_and_mode() {
    let sandbox = Sandbox::new("mnt-tmpfs");
    let mut bundle = sandbox.bundle("c");
    bundle.add_mount(json!({
        "destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "size=1m", "mode=1777"]
    }));
    bundle.sh(
        "stat -c %a /scratch; \
         dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1 | grep -o 'No space left on device'; \
         cat /proc/self/mountinfo",
    );
    let out = sandbox.run(&bundle).expect_ok();

    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("1777"), "{out}");
    assert_eq!(
        lines.next(),
        Some("No space left on device"),
        "a 2 MiB write must not fit\n{out}"
    );
    let mounts = container_mounts(&out.stdout);
    let scratch = mount_at(&mounts, "/scratch").unwrap_or_else(|| panic!("no /scratch\n{out}"));
    assert_eq!(scratch.fstype, "tmpfs");
    assert!(
        scratch.super_options.iter().any(|o| o == "size=1024k"),
        "{scratch:?}"
    );
}

/// Creates a container whose root propagation is `propagation`, mounts a tmpfs
/// on the host under its rootfs after `create`, and reports what `/mnt` shows
/// once the process starts.
fn mount_seen_after_create(sandbox: &Sandbox, propagation: &str) -> String {
    let mut bundle = sandbox.bundle(propagation);
    bundle.spec["linux"]["rootfsPropagation"] = json!(propagation);
    bundle.sh("cat /mnt/marker 2>&1; grep ' /mnt ' /proc/self/mountinfo");
    let created = sandbox.create(&bundle).expect_ok();

    let target = bundle.rootfs().join("mnt");
    mount(
        Some("tmpfs"),
        &target,
        Some("tmpfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount tmpfs on the host");
    fs::write(target.join("marker"), "propagated\n").unwrap();
    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    sandbox.wait_status(&bundle.id, "stopped");
    created.stdout_now()
}

/// Makes the sandbox a shared mount, so host mounts below it can propagate to
/// containers whose root is a slave of it (the host's / here is private).
fn make_sandbox_shared(dir: &Path) {
    mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).expect("bind sandbox");
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        MsFlags::MS_SHARED,
        None::<&str>,
    )
    .expect("make sandbox shared");
}

#[test]
fn rslave_root_receives_host_mounts_and_rprivate_does_not() {
    let sandbox = Sandbox::new("mnt-prop");
    make_sandbox_shared(sandbox.path());
    let slave = mount_seen_after_create(&sandbox, "rslave");
    assert!(
        slave.contains("propagated"),
        "rslave root must see the host's new mount:\n{slave}"
    );
    let private = mount_seen_after_create(&sandbox, "rprivate");
    assert!(
        !private.contains("propagated"),
        "rprivate root must not:\n{private}"
    );
}
