//! Filters at work: each test forks a child that sets no_new_privs, loads a filter
//! compiled by the parent, makes raw syscalls and reports what it observed through a
//! pipe. Loading needs no root; the unshare/clone checks are only meaningful as root,
//! where the kernel alone would let them succeed.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;

use libc::c_long;
use libseccomp::ScmpFilterContext;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, write, ForkResult};

use super::super::{compile, default_profile, load_compiled, parse_profile};

/// A syscall to make in the filtered child.
#[derive(Clone, Copy)]
enum Call {
    /// Through the native ABI: number and six arguments.
    Native(c_long, [u64; 6]),
    /// Through `int 0x80`, the 32-bit x86 ABI: i386 number and three arguments.
    #[cfg(target_arch = "x86_64")]
    I386(u32, [u32; 3]),
}

/// One call and what it must observe: 0 for success, otherwise the errno.
struct Check {
    name: &'static str,
    call: Call,
    expect: i64,
}

const fn native(name: &'static str, nr: c_long, args: [u64; 6], expect: i64) -> Check {
    Check {
        name,
        call: Call::Native(nr, args),
        expect,
    }
}

const AF_ALG: u64 = 38;
const AF_VSOCK: u64 = 40;
const INET: u64 = libc::AF_INET as u64;
const STREAM: u64 = libc::SOCK_STREAM as u64;
const SEQPACKET: u64 = libc::SOCK_SEQPACKET as u64;
const EPERM: i64 = libc::EPERM as i64;
const ENOSYS: i64 = libc::ENOSYS as i64;
const EXDEV: i64 = libc::EXDEV as i64;

/// The default profile's promises, each against a call the kernel alone (as root)
/// would allow or fail with another errno.
#[rustfmt::skip]
const DEFAULT_PROFILE_CHECKS: &[Check] = &[
    native("getpid", libc::SYS_getpid, [0; 6], 0),
    // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)
    native("keyctl", libc::SYS_keyctl, [0, -3_i64 as u64, 0, 0, 0, 0], EPERM),
    native("unshare(CLONE_NEWUSER)", libc::SYS_unshare, [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0], EPERM),
    native("clone(CLONE_NEWNS)", libc::SYS_clone, [(libc::CLONE_NEWNS | libc::SIGCHLD) as u64, 0, 0, 0, 0, 0], EPERM),
    native("clone(SIGCHLD)", libc::SYS_clone, [libc::SIGCHLD as u64, 0, 0, 0, 0, 0], 0),
    // A zero size makes the kernel answer EINVAL, so only the filter gives ENOSYS.
    native("clone3", libc::SYS_clone3, [0; 6], ENOSYS),
    native("socket(AF_VSOCK)", libc::SYS_socket, [AF_VSOCK, STREAM, 0, 0, 0, 0], EPERM),
    native("socket(AF_ALG)", libc::SYS_socket, [AF_ALG, SEQPACKET, 0, 0, 0, 0], EPERM),
    // The kernel truncates the domain to an int: this is AF_VSOCK in disguise.
    native("socket(1 << 32 | AF_VSOCK)", libc::SYS_socket, [1 << 32 | AF_VSOCK, STREAM, 0, 0, 0, 0], EPERM),
    native("socket(AF_INET)", libc::SYS_socket, [INET, STREAM, 0, 0, 0, 0], 0),
    native("socket(AF_UNIX)", libc::SYS_socket, [libc::AF_UNIX as u64, STREAM, 0, 0, 0, 0], 0),
    native("personality(query)", libc::SYS_personality, [0xffff_ffff, 0, 0, 0, 0, 0], 0),
    native("personality(READ_IMPLIES_EXEC)", libc::SYS_personality, [0x40_0000, 0, 0, 0, 0, 0], EPERM),
    // Null pointers: the kernel alone would answer EFAULT.
    native("mount", libc::SYS_mount, [0; 6], EPERM),
    native("io_uring_setup", libc::SYS_io_uring_setup, [1, 0, 0, 0, 0, 0], EPERM),
    native("bpf", libc::SYS_bpf, [0; 6], EPERM),
];

#[test]
fn default_profile_behaviour_in_forked_child() {
    let ctx = compile(&default_profile()).expect("compile");
    assert_checks(&ctx, DEFAULT_PROFILE_CHECKS);
}

/// The same promises for 32-bit x86 programs, including the multiplexed socketcall,
/// whose pointer argument would otherwise hide the address family.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const I386_CHECKS: &[Check] = &[
    Check { name: "i386 getpid", call: Call::I386(20, [0, 0, 0]), expect: 0 },
    // A null argument array: the kernel alone would answer EFAULT.
    Check { name: "i386 socketcall(SYS_SOCKET)", call: Call::I386(102, [1, 0, 0]), expect: ENOSYS },
    Check { name: "i386 socket(AF_VSOCK)", call: Call::I386(359, [40, 1, 0]), expect: EPERM },
    Check { name: "i386 socket(AF_ALG)", call: Call::I386(359, [38, 5, 0]), expect: EPERM },
    Check { name: "i386 socket(AF_INET)", call: Call::I386(359, [2, 1, 0]), expect: 0 },
    Check { name: "i386 keyctl", call: Call::I386(288, [0, -3_i32 as u32, 0]), expect: EPERM },
    Check { name: "i386 unshare(CLONE_NEWUSER)", call: Call::I386(310, [libc::CLONE_NEWUSER as u32, 0, 0]), expect: EPERM },
];

#[cfg(target_arch = "x86_64")]
#[test]
fn default_profile_behaviour_for_i386_in_forked_child() {
    // Without IA32 emulation `int 0x80` raises SIGSEGV and 32-bit programs cannot run
    // at all, so there is nothing to protect.
    let probe = [Check {
        name: "i386 getpid",
        call: Call::I386(20, [0, 0, 0]),
        expect: 0,
    }];
    match run_in_child(None, &probe).status {
        WaitStatus::Signaled(_, Signal::SIGSEGV, _) => {
            eprintln!("no IA32 emulation in this kernel: nothing to check");
            return;
        }
        status => assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}"),
    }
    let ctx = compile(&default_profile()).expect("compile");
    assert_checks(&ctx, I386_CHECKS);
}

/// Repeated conditions on one argument are alternatives; MASKED_EQ uses valueTwo.
#[rustfmt::skip]
const ALTERNATIVES_CHECKS: &[Check] = &[
    native("getpgid(0)", libc::SYS_getpgid, [0; 6], 0),
    native("getpgid(1)", libc::SYS_getpgid, [1, 0, 0, 0, 0, 0], EXDEV),
    native("getpgid(2)", libc::SYS_getpgid, [2, 0, 0, 0, 0, 0], EXDEV),
    native("getpriority(PRIO_PROCESS)", libc::SYS_getpriority, [0; 6], 0),
    native("getpriority(0x13)", libc::SYS_getpriority, [0x13, 0, 0, 0, 0, 0], EXDEV),
];

#[test]
fn rule_semantics_in_forked_child() {
    let json = r#"{
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["getpgid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18, "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}
            ]},
            {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18, "args": [
                {"index": 0, "value": 240, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}
            ]}
        ]
    }"#;
    let ctx = compile(&parse_profile(json).expect("parse")).expect("compile");
    assert_checks(&ctx, ALTERNATIVES_CHECKS);
}

/// How the child ended and what each check observed.
struct Outcome {
    status: WaitStatus,
    observed: Vec<i64>,
}

/// Runs `checks` in a forked child, under `ctx` if given, and compares what it saw.
fn assert_checks(ctx: &ScmpFilterContext, checks: &[Check]) {
    let outcome = run_in_child(Some(ctx), checks);
    assert!(
        matches!(outcome.status, WaitStatus::Exited(_, 0)),
        "filtered child failed: {:?}",
        outcome.status
    );
    assert_eq!(outcome.observed.len(), checks.len());
    let mismatches: Vec<String> = checks
        .iter()
        .zip(&outcome.observed)
        .filter(|(check, observed)| check.expect != **observed)
        .map(|(check, observed)| {
            format!(
                "{}: expected {}, observed {observed}",
                check.name, check.expect
            )
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The most checks one child runs; its report fits a fixed buffer so it need not
/// allocate.
const MAX_CHECKS: usize = 32;

fn run_in_child(ctx: Option<&ScmpFilterContext>, checks: &[Check]) -> Outcome {
    assert!(checks.len() <= MAX_CHECKS);
    let (read_end, write_end) = pipe().expect("pipe");
    // SAFETY: the test binary is multithreaded, so the child relies only on what
    // survives fork: it makes raw syscalls, writes to a pipe and _exits, allocating
    // nothing itself. libseccomp's load does allocate; glibc resets its malloc locks in
    // the child, which makes that safe with the libc these tests run on.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = std::panic::catch_unwind(|| child(ctx, checks, &write_end)).unwrap_or(5);
            // SAFETY: _exit ends the child without running exit handlers or unwinding
            // into the test harness.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut bytes = Vec::new();
            File::from(read_end)
                .read_to_end(&mut bytes)
                .expect("read results");
            let status = waitpid(child, None).expect("waitpid");
            let observed = bytes
                .chunks_exact(8)
                .map(|chunk| i64::from_ne_bytes(chunk.try_into().expect("8 bytes")))
                .collect();
            Outcome { status, observed }
        }
    }
}

/// The child's side: returns its exit code, 0 once every observation is written.
fn child(ctx: Option<&ScmpFilterContext>, checks: &[Check], report: &OwnedFd) -> i32 {
    if let Some(ctx) = ctx {
        // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers and touches no memory.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return 2;
        }
        if load_compiled(ctx).is_err() {
            return 3;
        }
    }
    let mut bytes = [0_u8; MAX_CHECKS * 8];
    for (chunk, check) in bytes.chunks_exact_mut(8).zip(checks) {
        chunk.copy_from_slice(&make(check.call).to_ne_bytes());
    }
    match write(report, &bytes[..checks.len() * 8]) {
        Ok(written) if written == checks.len() * 8 => 0,
        _ => 4,
    }
}

/// Makes one call and returns 0 on success or the errno.
fn make(call: Call) -> i64 {
    match call {
        Call::Native(nr, args) => native_syscall(nr, args),
        #[cfg(target_arch = "x86_64")]
        Call::I386(nr, args) => i386_syscall(nr, args),
    }
}

/// A raw native syscall. A successful `clone` child exits at once and its parent
/// reaps it, so both sides stay in control.
fn native_syscall(nr: c_long, args: [u64; 6]) -> i64 {
    // SAFETY: the checks pass only integers and null pointers, which the kernel
    // validates; `clone` without a new stack behaves like fork, handled right below.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
    if ret < 0 {
        return std::io::Error::last_os_error()
            .raw_os_error()
            .map_or(-1, i64::from);
    }
    if nr == libc::SYS_clone {
        if ret == 0 {
            // SAFETY: the grandchild leaves at once without touching shared state.
            unsafe { libc::_exit(0) }
        }
        let mut status = 0;
        // SAFETY: `status` is a valid place for the kernel to store the exit status.
        unsafe { libc::waitpid(ret as libc::pid_t, &mut status, 0) };
    }
    0
}

/// A syscall through `int 0x80`, which the kernel (and seccomp, as SCMP_ARCH_X86)
/// treats as coming from a 32-bit program.
#[cfg(target_arch = "x86_64")]
fn i386_syscall(nr: u32, args: [u32; 3]) -> i64 {
    let ret: u64;
    // SAFETY: the checks pass only integers and null pointers, so the kernel reads no
    // memory of ours. LLVM reserves rbx, so the first argument is swapped into it
    // around the call and rbx restored; kernels before 4.17 clobber r8-r11.
    unsafe {
        std::arch::asm!(
            "xchg {arg0}, rbx",
            "int 0x80",
            "xchg {arg0}, rbx",
            arg0 = inout(reg) u64::from(args[0]) => _,
            inlateout("rax") u64::from(nr) => ret,
            in("rcx") u64::from(args[1]),
            in("rdx") u64::from(args[2]),
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
        );
    }
    // The result is a 32-bit int in eax; -4095..-1 are errnos.
    let ret = ret as u32 as i32;
    if ret < 0 {
        -i64::from(ret)
    } else {
        0
    }
}
