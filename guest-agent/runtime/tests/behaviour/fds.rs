//! File descriptors: only stdio reaches the container unless --preserve-fds says so.

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::common::sandbox::path_str;
use crate::common::{Bundle, Sandbox};

/// Makes the spawned runtime inherit `file` as fd `target`, without close-on-exec,
/// the way a careless caller would leak a descriptor.
fn leak_fd(cmd: &mut Command, file: &File, target: RawFd) {
    let fd = file.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and only calls
    // dup2 and fcntl, which are async-signal-safe; `fd` stays open in the parent
    // (it borrows `file`) until spawn returns.
    unsafe {
        cmd.pre_exec(move || {
            let rc = if fd == target {
                // dup2 onto itself keeps FD_CLOEXEC; clear it instead.
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, target)
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn run_command(sandbox: &Sandbox, bundle: &Bundle, flags: &[&str]) -> Command {
    bundle.write();
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--bundle", path_str(&bundle.dir), &bundle.id]);
    sandbox.command(&args)
}

/// The fd numbers in `ls /proc/self/fd` output.
fn open_fds(listing: &str) -> Vec<u32> {
    let mut fds: Vec<u32> = listing
        .split_whitespace()
        .filter_map(|fd| fd.parse().ok())
        .collect();
    fds.sort_unstable();
    fds
}

#[test]
fn a_descriptor_leaked_into_the_runtime_does_not_reach_the_container() {
    let sandbox = Sandbox::new("fd-leak");
    let secret = sandbox.path().join("leaked-secret");
    fs::write(&secret, "host secret\n").unwrap();
    let file = File::open(&secret).unwrap();
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["ls", "/proc/self/fd"]);
    let mut cmd = run_command(&sandbox, &bundle, &[]);
    leak_fd(&mut cmd, &file, 5);
    let out = sandbox.exec(cmd).expect_ok();
    // 0-2 are stdio; 3 is the directory ls itself is reading.
    assert_eq!(open_fds(&out.stdout), [0, 1, 2, 3], "{out}");
}

#[test]
fn preserve_fds_passes_the_callers_fd_3_through() {
    let sandbox = Sandbox::new("fd-preserve");
    let passed = sandbox.path().join("passed");
    fs::write(&passed, "passed through fd 3\n").unwrap();
    let file = File::open(&passed).unwrap();
    let mut bundle = sandbox.bundle("c");
    bundle.sh("cat <&3");
    let mut cmd = run_command(&sandbox, &bundle, &["--preserve-fds", "1"]);
    leak_fd(&mut cmd, &file, 3);
    let out = sandbox.exec(cmd).expect_ok();
    assert_eq!(out.stdout, "passed through fd 3\n", "{out}");
}
