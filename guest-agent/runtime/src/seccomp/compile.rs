//! Translating an OCI seccomp profile into a libseccomp filter.

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

use super::SeccompError;

/// Syscalls take at most six arguments; libseccomp numbers them 0 to 5.
const ARG_COUNT: usize = 6;

/// The errno (or tracer message) used when a rule asks for ERRNO or TRACE without
/// `errnoRet`, as runc does.
const DEFAULT_RET: u16 = libc::EPERM as u16;

/// Translates `profile` into a libseccomp filter, ready for [`super::load_compiled`].
///
/// Behaves like runc on the points the OCI spec leaves open:
/// - syscall names this libseccomp or architecture does not know are skipped, because
///   shared profiles (moby's, podman's) list syscalls of every kernel and architecture;
/// - a rule whose action equals the default action is skipped (libseccomp refuses it);
/// - several conditions on the same argument are alternatives (libseccomp cannot AND
///   two comparisons of one argument): the rule is added once per combination, each
///   combination taking one condition per argument;
/// - no_new_privs is left to the caller (see [`super::load_compiled`]).
///
/// `SCMP_ACT_NOTIFY` and `listenerPath` are refused: Berth has no seccomp agent.
pub fn compile(profile: &LinuxSeccomp) -> Result<ScmpFilterContext, SeccompError> {
    if profile.listener_path().is_some() {
        return Err(SeccompError::Unsupported(
            "listenerPath (seccomp user notification)",
        ));
    }
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(SeccompError::Init)?;
    ctx.set_ctl_nnp(false).map_err(SeccompError::Init)?;
    // Report the kernel's own errno when loading fails (EACCES without no_new_privs)
    // instead of libseccomp's generic ECANCELED. Older libseccomp builds lack the
    // attribute; the filter is the same without it, only the diagnostics are poorer.
    let _ = ctx.set_api_sysrawrc(true);

    for arch in profile.architectures().iter().flatten() {
        ctx.add_arch(scmp_arch(*arch))
            .map_err(|source| SeccompError::Arch {
                arch: *arch,
                source,
            })?;
    }
    for flag in profile.flags().iter().flatten() {
        apply_flag(&mut ctx, *flag)?;
    }
    for rule in profile.syscalls().iter().flatten() {
        add_rule(&mut ctx, rule, default)?;
    }
    Ok(ctx)
}

/// Adds one OCI syscall entry: every name, every combination of its conditions.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    rule: &LinuxSyscall,
    default: ScmpAction,
) -> Result<(), SeccompError> {
    let action = action(rule.action(), rule.errno_ret())?;
    let combinations = conditions(rule)?;
    if action == default {
        return Ok(());
    }
    for name in rule.names() {
        let Ok(syscall) = ScmpSyscall::from_name(name) else {
            tracing::debug!(syscall = %name, "seccomp: skipping syscall unknown to libseccomp");
            continue;
        };
        for comparisons in &combinations {
            ctx.add_rule_conditional(action, syscall, comparisons)
                .map_err(|source| SeccompError::Rule {
                    syscall: name.clone(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// The comparisons of `rule`, as the list of alternatives libseccomp can express:
/// one condition per argument in each alternative. A rule without arguments yields a
/// single empty alternative, i.e. an unconditional rule.
fn conditions(rule: &LinuxSyscall) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let mut by_index: [Vec<ScmpArgCompare>; ARG_COUNT] = Default::default();
    for arg in rule.args().iter().flatten() {
        let slot = by_index
            .get_mut(arg.index())
            .ok_or_else(|| SeccompError::ArgIndex {
                syscalls: rule.names().join(", "),
                index: arg.index(),
            })?;
        slot.push(comparison(arg));
    }
    let mut combinations = vec![Vec::new()];
    for choices in by_index.iter().filter(|choices| !choices.is_empty()) {
        combinations = combinations
            .iter()
            .flat_map(|chosen| {
                choices.iter().map(move |choice| {
                    let mut next = chosen.clone();
                    next.push(*choice);
                    next
                })
            })
            .collect();
    }
    Ok(combinations)
}

/// One argument condition. For MASKED_EQ the OCI `value` is the mask and `valueTwo`
/// the expected result; for every other operator `value` is the operand.
fn comparison(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let (op, datum) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    // The index was checked against ARG_COUNT by the caller, so it fits in u32.
    ScmpArgCompare::new(arg.index() as u32, op, datum)
}

/// The libseccomp action for an OCI action and its optional `errnoRet`.
fn action(action: LinuxSeccompAction, errno_ret: Option<u32>) -> Result<ScmpAction, SeccompError> {
    Ok(match action {
        // SCMP_ACT_KILL predates KILL_PROCESS and has always meant the thread.
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(i32::from(ret(errno_ret)?)),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(ret(errno_ret)?),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::Unsupported(
                "SCMP_ACT_NOTIFY (seccomp user notification)",
            ))
        }
    })
}

/// The 16-bit value the kernel returns with ERRNO or passes to a tracer with TRACE.
fn ret(errno_ret: Option<u32>) -> Result<u16, SeccompError> {
    match errno_ret {
        None => Ok(DEFAULT_RET),
        Some(value) => u16::try_from(value).map_err(|_| SeccompError::ErrnoRet(value)),
    }
}

/// Sets the filter attribute behind one OCI filter flag.
fn apply_flag(
    ctx: &mut ScmpFilterContext,
    flag: LinuxSeccompFilterFlag,
) -> Result<(), SeccompError> {
    let applied = match flag {
        LinuxSeccompFilterFlag::SeccompFilterFlagLog => ctx.set_ctl_log(true),
        LinuxSeccompFilterFlag::SeccompFilterFlagTsync => ctx.set_ctl_tsync(true),
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => ctx.set_ctl_ssb(true),
    };
    applied
        .map(drop)
        .map_err(|source| SeccompError::Flag { flag, source })
}

/// The libseccomp architecture for an OCI architecture name.
fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
    }
}
