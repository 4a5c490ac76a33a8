//! Masked and read-only /proc and /sys paths.

use std::fs;
use std::path::Path;

use crate::common::host::{mount_at, parse_mountinfo};
use crate::common::{spec, Sandbox};

/// The entries of `paths` this kernel has (directories or files, as asked): a
/// runtime skips masking or remounting a path that does not exist (this machine
/// has no /proc/kcore and no /proc/sysrq-trigger).
fn present_on_host<'a>(paths: &[&'a str], dirs: Option<bool>) -> Vec<&'a str> {
    let present: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| Path::new(p).exists())
        .filter(|p| match dirs {
            Some(want_dir) => Path::new(p).is_dir() == want_dir,
            None => true,
        })
        .collect();
    assert!(!present.is_empty(), "none of {paths:?} exists on this host");
    present
}

#[test]
fn masked_proc_files_read_as_an_empty_null_device() {
    let sandbox = Sandbox::new("mask-files");
    let files = present_on_host(&spec::MASKED_PATHS, Some(false));
    let mut bundle = sandbox.bundle("c");
    bundle.sh(&format!(
        "for f in {}; do echo $f $(stat -c '%F %t:%T' $f) $(wc -c < $f); done",
        files.join(" ")
    ));
    let out = sandbox.run(&bundle).expect_ok();
    for file in files {
        let line = format!("{file} character special file 1:3 0");
        assert!(
            out.stdout.lines().any(|l| l == line),
            "want {line:?}\n{out}"
        );
    }
}

#[test]
fn proc_sys_and_the_other_readonly_paths_are_read_only() {
    let sandbox = Sandbox::new("mask-procsys");
    let before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut bundle = sandbox.bundle("c");
    bundle.sh("echo escaped > /proc/sys/kernel/hostname; cat /proc/self/mountinfo");
    let out = sandbox.run(&bundle).expect_ok();
    assert!(out.stderr.contains("Read-only file system"), "{out}");
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
    let mounts = parse_mountinfo(&out.stdout);
    for path in present_on_host(&spec::READONLY_PATHS, None) {
        let m = mount_at(&mounts, path).unwrap_or_else(|| panic!("{path} not remounted\n{out}"));
        assert!(m.is_read_only(), "{path}: {m:?}");
    }
}

#[test]
fn masked_directories_are_empty_read_only_tmpfs() {
    let sandbox = Sandbox::new("mask-dirs");
    // The host has content here, so an unmasked directory would list it.
    assert!(fs::read_dir("/sys/firmware").unwrap().next().is_some());
    let dirs = present_on_host(&spec::MASKED_PATHS, Some(true));
    let mut bundle = sandbox.bundle("c");
    bundle.sh(&format!(
        "for d in {}; do echo $d $(ls -A $d | wc -l); done; \
         touch /sys/firmware/x; cat /proc/self/mountinfo",
        dirs.join(" ")
    ));
    let out = sandbox.run(&bundle).expect_ok();
    assert!(out.stderr.contains("Read-only file system"), "{out}");
    let mounts = parse_mountinfo(&out.stdout);
    for dir in dirs {
        assert!(
            out.stdout.contains(&format!("{dir} 0\n")),
            "{dir} is not empty\n{out}"
        );
        let m = mount_at(&mounts, dir).unwrap_or_else(|| panic!("{dir} not masked\n{out}"));
        assert_eq!(m.fstype, "tmpfs", "{dir}: {m:?}");
        assert!(m.is_read_only(), "{dir}: {m:?}");
    }
}
