//! The v2 device program against the real kernel. Needs root and a cgroup2 mount: the
//! unified hierarchy at /sys/fs/cgroup, or a hybrid host's /sys/fs/cgroup/unified — the
//! kernel consults the device programs of a process's cgroup2 cgroup even when v2 has
//! no controllers. Elsewhere it prints why it skips and passes.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, geteuid, pipe, write, ForkResult};
use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::bpf::{op, Insn};
use super::{v2_devices, CgroupError, CgroupManager};

fn cgroup2_root() -> Option<PathBuf> {
    let is_v2 = |p: &str| statfs(p).is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC);
    let root = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .find(|p| is_v2(p));
    match root {
        Some(root) if geteuid().is_root() => Some(PathBuf::from(root)),
        _ => {
            eprintln!("skipped: needs root and a cgroup2 mount");
            None
        }
    }
}

/// A cgroup directly below the cgroup2 root, destroyed even when the test panics.
struct TestCgroup {
    manager: CgroupManager,
    dir: PathBuf,
}

impl TestCgroup {
    fn new(root: &Path, name: &str) -> Self {
        let path = Path::new("/").join(name);
        let manager = CgroupManager::with_root(root, Some(&path), name).expect("manager");
        manager.create().expect("create");
        let dir = root.join(name);
        TestCgroup { manager, dir }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = self.manager.destroy();
    }
}

/// A scratch directory for device nodes, removed even when the test panics.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

enum Action {
    Open(libc::c_int),
    Mknod(u32, u32),
}

/// One thing the child tries, and the errno it must fail with (`None`: must succeed).
struct Check {
    what: &'static str,
    path: CString,
    action: Action,
    errno: Option<libc::c_int>,
}

fn check(what: &'static str, path: &Path, action: Action, errno: Option<i32>) -> Check {
    let path = CString::new(path.as_os_str().as_bytes()).expect("no NUL");
    Check {
        what,
        path,
        action,
        errno,
    }
}

/// Runs in the forked child of a multithreaded process, so it only makes raw syscalls
/// (no allocation, no locks). Exit code 0 when every check holds, else
/// 10 * (1 + index) + 1 for an unexpected success or + 2 for another errno.
fn child_checks(go: &OwnedFd, checks: &[Check]) -> ! {
    let mut byte = 0u8;
    // SAFETY: reading one byte into a live local; the descriptor is open in this process.
    let n = unsafe { libc::read(go.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
    if n != 1 {
        // The parent could not move us into the cgroup: checking would prove nothing.
        // SAFETY: _exit ends the process without running anything of the parent's.
        unsafe { libc::_exit(99) };
    }
    for (index, check) in checks.iter().enumerate() {
        // SAFETY: the path is a valid NUL-terminated string built before fork.
        let ret = unsafe {
            match check.action {
                Action::Open(flags) => libc::open(check.path.as_ptr(), flags | libc::O_CLOEXEC),
                Action::Mknod(major, minor) => libc::mknod(
                    check.path.as_ptr(),
                    libc::S_IFCHR | 0o600,
                    libc::makedev(major, minor),
                ),
            }
        };
        // SAFETY: errno is thread-local and this thread just made the call.
        let errno = unsafe { *libc::__errno_location() };
        let code = match (ret >= 0, check.errno) {
            (true, None) => 0,
            (false, Some(expected)) if errno == expected => 0,
            (true, Some(_)) => 1,
            (false, _) => 2,
        };
        if code != 0 {
            // SAFETY: as above.
            unsafe { libc::_exit(10 * (index as libc::c_int + 1) + code) };
        }
    }
    // SAFETY: as above.
    unsafe { libc::_exit(0) }
}

/// Forks a child, moves it into `cg` and has it run `checks`; the child's exit code.
fn run_in_cgroup(cg: &CgroupManager, checks: &[Check]) -> i32 {
    let (go_rx, go_tx) = pipe().expect("pipe");
    // SAFETY: the child only runs child_checks, which makes raw syscalls on data
    // prepared before the fork and ends with _exit.
    let child = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            // SAFETY: closing this process's copy of the write end, so a parent that
            // gives up is seen as end-of-file.
            unsafe { libc::close(go_tx.as_raw_fd()) };
            child_checks(&go_rx, checks)
        }
        ForkResult::Parent { child } => child,
    };
    drop(go_rx);
    let moved = cg.add_process(child.as_raw());
    if moved.is_ok() {
        write(&go_tx, b"g").expect("release the child");
    }
    drop(go_tx);
    let status = waitpid(child, None).expect("waitpid");
    moved.expect("move the child into the cgroup");
    match status {
        WaitStatus::Exited(pid, code) if pid == child => code,
        other => panic!("child ended as {other:?}"),
    }
}

fn describe(code: i32, checks: &[Check]) -> String {
    let index = usize::try_from(code / 10 - 1).unwrap_or(usize::MAX);
    let Some(check) = checks.get(index) else {
        return format!("child exited {code}");
    };
    let how = if code % 10 == 1 {
        "succeeded but must fail"
    } else {
        "failed with the wrong errno (or should have worked)"
    };
    format!("{}: {how}", check.what)
}

#[test]
fn root_v2_device_rules_are_enforced_by_the_kernel() {
    let Some(root) = cgroup2_root() else {
        return;
    };
    let pid = std::process::id();
    let cg = TestCgroup::new(&root, &format!("berth-test-devices-{pid}"));
    let spec: LinuxResources = serde_json::from_value(json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"},
    ]}))
    .expect("resources");
    cg.manager.apply(&spec).expect("apply");
    // A second apply replaces Berth's program rather than stacking another.
    cg.manager.apply(&spec).expect("apply again");
    let attached = v2_devices::attached(&cg.dir).expect("list programs");
    assert_eq!(attached.len(), 1, "programs attached: {attached:?}");

    let scratch = Scratch(std::env::temp_dir().join(format!("berth-devices-{pid}")));
    fs::create_dir_all(&scratch.0).expect("scratch dir");
    let eperm = Some(libc::EPERM);
    let checks = [
        check(
            "read /dev/null",
            Path::new("/dev/null"),
            Action::Open(libc::O_RDONLY),
            None,
        ),
        check(
            "write /dev/zero",
            Path::new("/dev/zero"),
            Action::Open(libc::O_WRONLY),
            None,
        ),
        check(
            "read /dev/full",
            Path::new("/dev/full"),
            Action::Open(libc::O_RDONLY),
            eperm,
        ),
        // 'm' is allowed for 1:3, so the EPERMs below come from the program, not from
        // a missing capability or a nodev mount.
        check(
            "mknod c 1:3",
            &scratch.0.join("null"),
            Action::Mknod(1, 3),
            None,
        ),
        check(
            "mknod c 1:7",
            &scratch.0.join("full"),
            Action::Mknod(1, 7),
            eperm,
        ),
        check(
            "mknod c 1:5 (rw only)",
            &scratch.0.join("zero"),
            Action::Mknod(1, 5),
            eperm,
        ),
    ];
    let code = run_in_cgroup(&cg.manager, &checks);
    assert_eq!(code, 0, "{}", describe(code, &checks));
}

#[test]
fn root_v2_a_refused_program_reports_the_verifier_log() {
    if cgroup2_root().is_none() {
        return;
    }
    // Exits without setting r0, which the verifier refuses.
    let program = [Insn::new(op::EXIT, 0, 0, 0, 0)];
    let err = v2_devices::load(&program).expect_err("the verifier must refuse");
    let message = err.to_string();
    assert!(
        matches!(err, CgroupError::DeviceProgramLoad { .. }),
        "{message}"
    );
    assert!(message.contains("linux.resources.devices"), "{message}");
    assert!(
        message.contains("verifier log: ") && message.contains("R0"),
        "{message}"
    );
}
