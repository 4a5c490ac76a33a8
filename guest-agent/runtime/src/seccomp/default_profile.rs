//! Berth's default seccomp profile: moby's, with `socketcall` refused.
//!
//! Unlisted syscalls fail with EPERM. The allow-list lives in `syscalls.rs`; this file
//! adds the rules that look at arguments and the parts that depend on capabilities,
//! the kernel version and the architecture.

use std::collections::BTreeSet;

use oci_spec::runtime::{
    Arch, Capabilities, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg,
    LinuxSeccompArgBuilder, LinuxSeccompOperator, LinuxSyscall,
};

use super::syscalls;

const EPERM: u32 = libc::EPERM as u32;
const ENOSYS: u32 = libc::ENOSYS as u32;

/// The `clone` flags that create namespaces; only CAP_SYS_ADMIN may pass them.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// The argument of `clone` that holds the flags (s390 swaps the first two).
const CLONE_FLAGS_ARG: usize = if cfg!(target_arch = "s390x") { 1 } else { 0 };

/// Personas a container may switch to: Linux (0), 32-bit Linux (PER_LINUX32 = 8),
/// either with a 2.6-style uname (UNAME26 = 0x20000), and the query value 0xffffffff.
/// Others change how the kernel treats the process (e.g. READ_IMPLIES_EXEC).
const PERSONAS: &[u64] = &[0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

/// Address families `socket` may create: all but AF_ALG (38, the kernel crypto API)
/// and AF_VSOCK (40, which would reach the VM's agent and the host), as
/// (operator, value, valueTwo). Seccomp compares the whole 64-bit register but the
/// kernel truncates `domain` to an int, so an open-ended "> 40" would let
/// 0x1_0000_0028 through as AF_VSOCK. Above 40 the ranges are therefore masked blocks
/// whose mask also covers the upper 32 bits: 41, 42-43, 44-47 and 48-63 (AF_MAX is 46
/// today, the rest leaves room for new families).
const SOCKET_DOMAINS: &[(LinuxSeccompOperator, u64, u64)] = &[
    (LinuxSeccompOperator::ScmpCmpLt, 38, 0),
    (LinuxSeccompOperator::ScmpCmpEq, 39, 0),
    (LinuxSeccompOperator::ScmpCmpEq, 41, 0),
    (LinuxSeccompOperator::ScmpCmpMaskedEq, !1, 42),
    (LinuxSeccompOperator::ScmpCmpMaskedEq, !3, 44),
    (LinuxSeccompOperator::ScmpCmpMaskedEq, !15, 48),
];

/// Berth's default profile, for a container with the default capability set (moby's
/// 14). Of the capability-gated syscalls it therefore allows only `chroot`.
pub fn default_profile() -> LinuxSeccomp {
    default_profile_for(&default_capabilities())
}

/// Berth's default profile adjusted to the container's bounding capability set, as
/// moby adjusts its own: each capability unlocks the syscalls it guards, and
/// CAP_SYS_ADMIN also allows namespace flags on `clone`/`clone3`.
///
/// Every syscall not allowed fails with EPERM, except `clone3` and `socketcall`, which
/// fail with ENOSYS, the answer that makes libc try its alternatives. `socketcall` is
/// the multiplexer 32-bit x86 uses for sockets; seccomp cannot see the address family
/// behind its pointer argument, so allowing it would reopen AF_VSOCK (moby allows it
/// and relies on an LSM instead). Consequence: 32-bit x86 programs whose libc only
/// uses `socketcall` (glibc built for kernels before 4.3, e.g. Debian's i386 glibc)
/// cannot create sockets; musl falls back to the direct syscalls and works.
pub fn default_profile_for(bounding: &Capabilities) -> LinuxSeccomp {
    let sys_admin = bounding.contains(&Capability::SysAdmin);
    let mut rules = vec![rule(
        &allowed_names(bounding),
        LinuxSeccompAction::ScmpActAllow,
    )];
    rules.extend(socket_rules());
    rules.extend(personality_rules());
    if !sys_admin {
        rules.extend(clone_rules());
    }

    let mut profile = LinuxSeccomp::default();
    profile
        .set_default_action(LinuxSeccompAction::ScmpActErrno)
        .set_default_errno_ret(Some(EPERM))
        .set_architectures(Some(architectures()))
        .set_syscalls(Some(rules));
    profile
}

/// `socket` for the families in [`SOCKET_DOMAINS`], and no `socketcall` at all.
fn socket_rules() -> Vec<LinuxSyscall> {
    let mut rules: Vec<LinuxSyscall> = SOCKET_DOMAINS
        .iter()
        .map(|&(op, value, value_two)| {
            with_args(
                rule(&["socket"], LinuxSeccompAction::ScmpActAllow),
                vec![arg(0, op, value, value_two)],
            )
        })
        .collect();
    // On 32-bit x86 libseccomp turns each rule above into a second one for
    // socketcall(SYS_SOCKET, ...) that can only check the call number, so it would
    // allow every family. An unconditional rule for a syscall replaces its
    // conditional ones in libseccomp, whatever the order, so this closes that path.
    rules.push(errno(&["socketcall"], ENOSYS));
    rules
}

/// `personality` for the personas in [`PERSONAS`] only.
fn personality_rules() -> Vec<LinuxSyscall> {
    PERSONAS
        .iter()
        .map(|&persona| {
            with_args(
                rule(&["personality"], LinuxSeccompAction::ScmpActAllow),
                vec![arg(0, LinuxSeccompOperator::ScmpCmpEq, persona, 0)],
            )
        })
        .collect()
}

/// Without CAP_SYS_ADMIN: `clone` without namespace flags, and no `clone3`, whose
/// flags are in memory out of seccomp's sight (glibc then falls back to `clone`).
fn clone_rules() -> Vec<LinuxSyscall> {
    vec![
        with_args(
            rule(&["clone"], LinuxSeccompAction::ScmpActAllow),
            vec![arg(
                CLONE_FLAGS_ARG,
                LinuxSeccompOperator::ScmpCmpMaskedEq,
                NAMESPACE_FLAGS,
                0,
            )],
        ),
        errno(&["clone3"], ENOSYS),
    ]
}

/// Moby's default capabilities, the ones Berth gives a container unless told otherwise.
pub const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

fn default_capabilities() -> Capabilities {
    DEFAULT_CAPABILITIES.into_iter().collect()
}

/// Every syscall allowed without looking at its arguments, sorted and unique.
fn allowed_names(bounding: &Capabilities) -> Vec<&'static str> {
    let mut names: BTreeSet<&str> = syscalls::ALWAYS_ALLOWED
        .iter()
        .flat_map(|group| group.iter().copied())
        .collect();
    if cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
        names.extend(syscalls::X86_ONLY);
    }
    if cfg!(any(target_arch = "aarch64", target_arch = "arm")) {
        names.extend(syscalls::ARM_ONLY);
    }
    if kernel_at_least(4, 8) {
        names.extend(syscalls::TRACING_SINCE_4_8);
    }
    for (capability, unlocked) in syscalls::BY_CAPABILITY {
        if bounding.contains(capability) {
            names.extend(unlocked.iter().copied());
        }
    }
    if bounding.contains(&Capability::SysAdmin) {
        names.extend(["clone", "clone3"]);
    }
    names.into_iter().collect()
}

/// The native architecture with the 32-bit ABIs its kernel can also run.
fn architectures() -> Vec<Arch> {
    if cfg!(target_arch = "x86_64") {
        vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    } else if cfg!(target_arch = "aarch64") {
        vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm]
    } else {
        vec![Arch::ScmpArchNative]
    }
}

/// Whether the running kernel is at least `major.minor`. If the release cannot be read
/// the answer is no, which only withholds the syscalls that old kernels made unsafe.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut numbers = release
        .trim()
        .split(['.', '-'])
        .map(|part| part.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(found_major), Some(found_minor)) => (found_major, found_minor) >= (major, minor),
        _ => false,
    }
}

fn rule(names: &[&str], action: LinuxSeccompAction) -> LinuxSyscall {
    let mut rule = LinuxSyscall::default();
    rule.set_names(names.iter().map(|name| name.to_string()).collect())
        .set_action(action);
    rule
}

fn errno(names: &[&str], errno: u32) -> LinuxSyscall {
    let mut rule = rule(names, LinuxSeccompAction::ScmpActErrno);
    rule.set_errno_ret(Some(errno));
    rule
}

fn with_args(mut rule: LinuxSyscall, args: Vec<LinuxSeccompArg>) -> LinuxSyscall {
    rule.set_args(Some(args));
    rule
}

fn arg(index: usize, op: LinuxSeccompOperator, value: u64, value_two: u64) -> LinuxSeccompArg {
    let builder = LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value);
    let builder = if op == LinuxSeccompOperator::ScmpCmpMaskedEq {
        builder.value_two(value_two)
    } else {
        builder
    };
    // LinuxSeccompArg has no setters; its builder only fails on a missing field, and
    // every field of this one has a default.
    builder
        .build()
        .expect("LinuxSeccompArg fields all have defaults")
}
