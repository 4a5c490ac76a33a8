//! `linux.resources.devices` on cgroup v2: v2 has no devices files; the kernel asks the
//! cgroup's BPF_PROG_TYPE_CGROUP_DEVICE programs instead, so the rules become one.
//!
//! Meaning of the rule list, as the v1 plan writes it (`devices.deny a`, then the rules):
//! everything starts denied; a type-"a" rule resets everything to allowed or denied;
//! after that, for each requested access (r, w, m) the last rule naming the device and
//! that access decides. It gives runc's results for the lists runtimes and engines make
//! (deny all, then allows), and where v1 itself is weak it errs towards denying: v1
//! silently ignores a deny that would punch a hole in a wider allow ("c 1:* rwm" then
//! deny "c 1:3 w"), and a later wider deny does not remove an earlier narrower allow;
//! here both denials hold. One difference is more permissive: v1 wants a single rule to
//! grant all of an open's accesses, here "r" and "w" may come from two rules.
//!
//! Generation is pure (tested by interpreting the program); [`enforce`] loads and
//! attaches it.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use super::bpf::{self, op, Insn};
use super::convert::{self, DeviceKind, DeviceRule};
use super::plan_common::invalid;
use super::CgroupError;

/// The spec field every error names.
const WHAT: &str = "linux.resources.devices";
/// The name Berth's programs carry, so a re-apply finds and replaces its own.
const PROGRAM_NAME: &str = "berth_devices";
/// Room for the verifier's report on a refused program.
const LOG_SIZE: usize = 64 * 1024;

// Registers. r1 holds the context (`struct bpf_cgroup_dev_ctx`) on entry and is free
// once the fields are loaded; r0 is the verdict (1 allows, 0 denies).
const R_VERDICT: u8 = 0;
const R_CTX: u8 = 1;
const R_TMP: u8 = 1;
/// Requested access bits not yet decided by a rule.
const R_ACCESS: u8 = 2;
const R_TYPE: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

// Offsets in `struct bpf_cgroup_dev_ctx`: access_type is (access << 16) | type.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;

// BPF_DEVCG_DEV_* values of the device type.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

/// The program enforcing `rules` (see the module comment for their meaning).
pub(crate) fn program(rules: &[LinuxDeviceCgroup]) -> Result<Vec<Insn>, CgroupError> {
    let rules: Vec<DeviceRule> = rules
        .iter()
        .map(|r| convert::parse_device_rule(r).map_err(|e| invalid(WHAT, e)))
        .collect::<Result<_, _>>()?;
    let (default_allow, rules) = effective_rules(&rules);
    let mut insns = prologue();
    // The last rule speaks first; each decides the accesses it names.
    for rule in rules.iter().rev().filter(|r| can_match(r)) {
        insns.extend(rule_block(rule));
    }
    insns.extend(verdict(default_allow));
    Ok(insns)
}

/// The default and the rules after the last type-"a" rule, which makes every earlier
/// rule moot. Without one the default is deny, as the v1 plan starts with `deny a`.
fn effective_rules(rules: &[DeviceRule]) -> (bool, &[DeviceRule]) {
    match rules.iter().rposition(|r| r.kind == DeviceKind::All) {
        Some(reset) => (rules[reset].allow, &rules[reset + 1..]),
        None => (false, rules),
    }
}

/// Whether a rule can name a real device. Device numbers have 12 (major) and 20
/// (minor) bits, so a rule with a number above i32::MAX never matches; leaving it out
/// also keeps every compared number a non-negative immediate, which the kernel
/// sign-extends before comparing it with the zero-extended context field.
fn can_match(rule: &DeviceRule) -> bool {
    let fits = |n: Option<u32>| !matches!(n, Some(n) if i32::try_from(n).is_err());
    fits(rule.major) && fits(rule.minor)
}

/// Splits the context into registers.
fn prologue() -> Vec<Insn> {
    vec![
        Insn::new(op::LDX_W, R_ACCESS, R_CTX, CTX_ACCESS_TYPE, 0),
        Insn::new(op::LDX_W, R_MAJOR, R_CTX, CTX_MAJOR, 0),
        Insn::new(op::LDX_W, R_MINOR, R_CTX, CTX_MINOR, 0),
        Insn::new(op::MOV32_REG, R_TYPE, R_ACCESS, 0, 0),
        Insn::new(op::AND32_IMM, R_TYPE, 0, 0, 0xffff),
        Insn::new(op::RSH32_IMM, R_ACCESS, 0, 0, 16),
    ]
}

fn verdict(allow: bool) -> [Insn; 2] {
    [
        Insn::new(op::MOV64_IMM, R_VERDICT, 0, 0, i32::from(allow)),
        Insn::new(op::EXIT, 0, 0, 0, 0),
    ]
}

/// One rule: skip to the block's end unless the device matches, then decide.
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    let mut block = Vec::new();
    let mut skip_unless = |reg, value: i32| block.push(Insn::new(op::JNE_IMM, reg, 0, 0, value));
    match rule.kind {
        DeviceKind::Block => skip_unless(R_TYPE, DEV_BLOCK),
        DeviceKind::Char => skip_unless(R_TYPE, DEV_CHAR),
        // Type "a" only ever resets (effective_rules); it never reaches a block.
        DeviceKind::All => {}
    }
    // can_match keeps these numbers within i32.
    if let Some(major) = rule.major {
        skip_unless(R_MAJOR, major as i32);
    }
    if let Some(minor) = rule.minor {
        skip_unless(R_MINOR, minor as i32);
    }
    let access = rule.access as i32;
    if rule.allow {
        block.extend([
            // The accesses this rule names are granted; deciding them may finish.
            Insn::new(op::AND32_IMM, R_ACCESS, 0, 0, !access),
            Insn::new(op::JNE_IMM, R_ACCESS, 0, 0, 0),
        ]);
    } else {
        block.extend([
            // Deny if an undecided access is one this rule names.
            Insn::new(op::MOV32_REG, R_TMP, R_ACCESS, 0, 0),
            Insn::new(op::AND32_IMM, R_TMP, 0, 0, access),
            Insn::new(op::JEQ_IMM, R_TMP, 0, 0, 0),
        ]);
    }
    block.extend(verdict(rule.allow));
    aim_jumps_at_end(&mut block);
    block
}

/// Every conditional jump in a block goes to the instruction after it.
fn aim_jumps_at_end(block: &mut [Insn]) {
    let len = block.len();
    for (i, insn) in block.iter_mut().enumerate() {
        if matches!(insn.code, op::JNE_IMM | op::JEQ_IMM) {
            // A block holds at most 8 instructions, far from i16::MAX.
            insn.off = (len - i - 1) as i16;
        }
    }
}

/// Loads `program` and attaches it to the cgroup directory `dir`, then detaches the
/// Berth device programs an earlier apply left there. The new program goes on before
/// the old ones come off, so the cgroup is never unfiltered.
pub(crate) fn enforce(dir: &Path, program: &[Insn]) -> Result<(), CgroupError> {
    let fail = |action| {
        move |source| CgroupError::DeviceProgram {
            action,
            path: dir.to_path_buf(),
            source,
        }
    };
    let cgroup = File::open(dir).map_err(fail("open the cgroup"))?;
    let previous = bpf::attached_device_programs(cgroup.as_fd())
        .map_err(fail("list the device programs attached to"))?;
    let prog = load(program)?;
    bpf::attach_device_program(cgroup.as_fd(), prog.as_fd())
        .map_err(fail("attach the device program to"))?;
    for id in previous {
        if let Some(old) = berth_program(id).map_err(fail("inspect a device program on"))? {
            bpf::detach_device_program(cgroup.as_fd(), old.as_fd())
                .map_err(fail("detach the previous device program from"))?;
        }
    }
    Ok(())
}

/// The program `id` if it is one of Berth's; `None` for another's or one gone since.
fn berth_program(id: u32) -> std::io::Result<Option<OwnedFd>> {
    let prog = match bpf::program_by_id(id) {
        Ok(prog) => prog,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let ours = bpf::program_name(prog.as_fd())? == PROGRAM_NAME;
    Ok(ours.then_some(prog))
}

/// Loads `program`; a refusal carries the verifier's report.
pub(crate) fn load(program: &[Insn]) -> Result<OwnedFd, CgroupError> {
    bpf::load_device_program(program, PROGRAM_NAME, None).map_err(|source| {
        CgroupError::DeviceProgramLoad {
            log: verifier_log(program),
            source,
        }
    })
}

/// Loads `program` again with the verifier's log on, only to explain a refusal: a log
/// buffer on every load would fail a good program whose log outgrew it.
fn verifier_log(program: &[Insn]) -> String {
    let mut buf = vec![0u8; LOG_SIZE];
    // Refused again, as expected; a program accepted this time is simply dropped.
    let _ = bpf::load_device_program(program, PROGRAM_NAME, Some(&mut buf));
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).trim().to_owned()
}

/// The ids of the device programs attached to the cgroup directory `dir`.
#[cfg(test)]
pub(crate) fn attached(dir: &Path) -> std::io::Result<Vec<u32>> {
    let cgroup = File::open(dir)?;
    bpf::attached_device_programs(cgroup.as_fd())
}
