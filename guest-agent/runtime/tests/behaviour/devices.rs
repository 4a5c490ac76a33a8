//! /dev: the default device nodes, symlinks and sub-mounts.

use crate::common::Sandbox;

#[test]
fn dev_has_the_default_devices_and_symlinks() {
    let sandbox = Sandbox::new("dev");
    let mut bundle = sandbox.bundle("c");
    bundle.sh(
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done; \
         for l in ptmx fd stdin stdout stderr; do echo /dev/$l '->' $(readlink /dev/$l); done; \
         for d in pts shm; do stat -c '%n %F' /dev/$d; done; \
         echo discard > /dev/null && head -c 8 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c",
    );
    let out = sandbox.run(&bundle).expect_ok();
    let expected = [
        "/dev/null character special file 1:3",
        "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7",
        "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9",
        "/dev/tty character special file 5:0",
        "/dev/ptmx -> pts/ptmx",
        "/dev/fd -> /proc/self/fd",
        "/dev/stdin -> /proc/self/fd/0",
        "/dev/stdout -> /proc/self/fd/1",
        "/dev/stderr -> /proc/self/fd/2",
        "/dev/pts directory",
        "/dev/shm directory",
        "8",
        "3",
    ];
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, expected, "{out}");
}

#[test]
fn dev_full_reports_a_full_disk() {
    // A regular file at /dev/full would accept the write; the device refuses it.
    let sandbox = Sandbox::new("dev-full");
    let mut bundle = sandbox.bundle("c");
    bundle.sh("echo x > /dev/full");
    let out = sandbox.run(&bundle).expect_failure();
    assert!(out.stderr.contains("No space left on device"), "{out}");
}
