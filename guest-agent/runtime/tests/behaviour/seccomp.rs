//! seccomp: Berth's default profile, and a filter written in the test, refuse
//! keyctl, unshare and AF_VSOCK sockets while ordinary sockets keep working.

use serde_json::{json, Value};

use crate::common::host::compile_static_c;
use crate::common::{Bundle, Sandbox};

const PROBE_SOURCE: &str = include_str!("seccomp_probe.c");

/// AF_VSOCK: Berth blocks it so containers cannot reach the guest agent.
const AF_VSOCK: u64 = 40;

/// Syscalls busybox, the probe and a runtime's last steps before exec need
/// (x86_64 names). keyctl, unshare and plain `socket` are deliberately absent.
const ALLOWED: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "alarm",
    "arch_prctl",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "clone",
    "clone3",
    "close",
    "close_range",
    "connect",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_pwait",
    "epoll_wait",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "fcntl",
    "fdatasync",
    "flock",
    "fork",
    "fstat",
    "fstatfs",
    "fsync",
    "ftruncate",
    "futex",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getgroups",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresuid",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getxattr",
    "ioctl",
    "kill",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "lseek",
    "lstat",
    "madvise",
    "mkdir",
    "mkdirat",
    "mmap",
    "mprotect",
    "mremap",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "prlimit64",
    "pselect6",
    "pwrite64",
    "read",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmsg",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "sched_getaffinity",
    "sched_yield",
    "select",
    "sendfile",
    "sendmsg",
    "sendto",
    "setgid",
    "setgroups",
    "setitimer",
    "setpgid",
    "setpriority",
    "setresgid",
    "setresuid",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_tid_address",
    "setuid",
    "shutdown",
    "sigaltstack",
    "socketpair",
    "stat",
    "statfs",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sysinfo",
    "tgkill",
    "time",
    "times",
    "tkill",
    "truncate",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utimensat",
    "vfork",
    "wait4",
    "waitid",
    "write",
    "writev",
];

/// A small deny-by-default profile written here, independent of Berth's own: the
/// allow list, plus `socket` for every address family except AF_VSOCK. It checks
/// that the runtime applies whatever filter the spec carries (argument rules,
/// errno), not just its default.
fn deny_by_default_profile() -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": libc::EPERM,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            { "names": ALLOWED, "action": "SCMP_ACT_ALLOW" },
            { "names": ["socket"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": AF_VSOCK, "op": "SCMP_CMP_NE" }] }
        ]
    })
}

/// A bundle whose process is the probe.
fn probe_bundle(sandbox: &Sandbox, name: &str) -> Bundle {
    let mut bundle = sandbox.bundle(name);
    compile_static_c(PROBE_SOURCE, &bundle.rootfs().join("bin/seccomp-probe"));
    bundle.args(&["/bin/seccomp-probe"]);
    bundle
}

#[test]
fn without_a_filter_the_probe_calls_succeed() {
    // The control: proves the probe can tell a filter's EPERM from other errors.
    let sandbox = Sandbox::new("seccomp-none");
    let bundle = probe_bundle(&sandbox, "c");
    let out = sandbox.run(&bundle).expect_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"keyctl ok"), "{out}");
    assert_eq!(lines.get(1), Some(&"unshare ok"), "{out}");
    assert_ne!(lines.get(2), Some(&"vsock EPERM"), "{out}");
    assert_eq!(lines.get(3), Some(&"unix ok"), "{out}");
}

#[test]
fn berths_default_profile_refuses_keyctl_unshare_and_vsock() {
    let sandbox = Sandbox::new("seccomp-berth");
    let mut bundle = probe_bundle(&sandbox, "c");
    let profile = berth_runtime::seccomp::default_profile();
    bundle.spec["linux"]["seccomp"] = serde_json::to_value(profile).expect("profile as JSON");
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(
        out.stdout, "keyctl EPERM\nunshare EPERM\nvsock EPERM\nunix ok\n",
        "{out}"
    );
}

#[test]
fn a_hand_written_deny_by_default_filter_is_enforced() {
    let sandbox = Sandbox::new("seccomp-deny");
    let mut bundle = probe_bundle(&sandbox, "c");
    bundle.spec["linux"]["seccomp"] = deny_by_default_profile();
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(
        out.stdout, "keyctl EPERM\nunshare EPERM\nvsock EPERM\nunix ok\n",
        "{out}"
    );
}
