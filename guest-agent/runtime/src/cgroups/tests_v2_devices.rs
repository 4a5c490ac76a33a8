//! The device program's meaning, checked by running it: a small interpreter for exactly
//! the instructions `v2_devices` emits, with the verifier's checks that matter here
//! (every instruction reachable, jumps forward and inside the program, no register read
//! before it is written, the context read only through r1 before r1 is reused).

use oci_spec::runtime::LinuxDeviceCgroup;
use serde_json::json;

use super::bpf::{op, Insn};
use super::convert::{self, DeviceKind, DeviceRule, ACCESS_MKNOD, ACCESS_READ, ACCESS_WRITE};
use super::v2_devices::program;
use super::CgroupError;

const DEV_BLOCK: u32 = 1;
const DEV_CHAR: u32 = 2;

fn rules(value: serde_json::Value) -> Vec<LinuxDeviceCgroup> {
    serde_json::from_value(value).expect("valid device rules")
}

/// One access the kernel asks about: (BPF_DEVCG_DEV_*, major, minor, BPF_DEVCG_ACC_*).
type Query = (u32, u32, u32, u32);

/// "c 1:3 rw" as a query.
fn query(text: &str) -> Query {
    let parts: Vec<&str> = text.split([' ', ':']).collect();
    let [kind, major, minor, access] = parts[..] else {
        panic!("bad query {text:?}");
    };
    let kind = if kind == "b" { DEV_BLOCK } else { DEV_CHAR };
    let bits = access.chars().fold(0, |bits, c| bits | access_bit(c));
    let number = |n: &str| n.parse().expect("number");
    (kind, number(major), number(minor), bits)
}

fn access_bit(c: char) -> u32 {
    match c {
        'r' => ACCESS_READ,
        'w' => ACCESS_WRITE,
        'm' => ACCESS_MKNOD,
        _ => panic!("bad access {c}"),
    }
}

/// The kernel verifier's control-flow checks: no instruction unreachable, no jump
/// backwards or out of the program, no path falling off its end.
fn check_shape(prog: &[Insn]) {
    let mut reached = vec![false; prog.len()];
    reached[0] = true;
    for (pc, insn) in prog.iter().enumerate() {
        assert!(reached[pc], "instruction {pc} is unreachable");
        let next = match insn.code {
            op::EXIT => vec![],
            op::JNE_IMM | op::JEQ_IMM => {
                assert!(insn.off >= 0, "backward jump at {pc}");
                vec![pc + 1, pc + 1 + insn.off as usize]
            }
            _ => vec![pc + 1],
        };
        for target in next {
            assert!(target < prog.len(), "{pc} leaves the program");
            reached[target] = true;
        }
    }
}

/// Runs `prog` on one access; true when it allows it.
fn run(prog: &[Insn], (kind, major, minor, access): Query) -> bool {
    let ctx = [(access << 16) | kind, major, minor];
    let mut regs: [Option<u64>; 11] = [None; 11];
    regs[1] = Some(0);
    let mut r1_is_ctx = true;
    let mut pc = 0;
    loop {
        let (at, insn) = (pc, prog[pc]);
        let (dst, src) = (usize::from(insn.dst()), usize::from(insn.src()));
        let read = |r: usize| regs[r].unwrap_or_else(|| panic!("r{r} read unset at {at}"));
        let imm32 = insn.imm as u32;
        let imm64 = i64::from(insn.imm) as u64;
        pc += 1;
        let written = match insn.code {
            op::LDX_W => {
                assert!(src == 1 && r1_is_ctx, "context read through r{src}");
                let field = usize::try_from(insn.off).expect("offset") / 4;
                assert_eq!(insn.off % 4, 0, "unaligned context read");
                u64::from(ctx[field])
            }
            op::MOV32_REG => read(src) & 0xffff_ffff,
            op::AND32_IMM => u64::from(read(dst) as u32 & imm32),
            op::RSH32_IMM => u64::from((read(dst) as u32) >> imm32),
            op::MOV64_IMM => imm64,
            op::JNE_IMM | op::JEQ_IMM => {
                let equal = read(dst) == imm64;
                if equal == (insn.code == op::JEQ_IMM) {
                    pc += insn.off as usize;
                }
                continue;
            }
            op::EXIT => {
                return match read(0) {
                    0 => false,
                    1 => true,
                    v => panic!("verdict {v}"),
                }
            }
            code => panic!("opcode {code:#x} is not one the generator emits"),
        };
        regs[dst] = Some(written);
        if dst == 1 {
            r1_is_ctx = false;
        }
    }
}

/// Each "c 1:3 rw" case is allowed (true) or denied (false) by the program of `spec`.
fn check(spec: serde_json::Value, cases: &[(&str, bool)]) {
    let prog = program(&rules(spec.clone())).expect("program");
    check_shape(&prog);
    for &(case, expected) in cases {
        assert_eq!(run(&prog, query(case)), expected, "{case} under {spec}");
    }
}

#[test]
fn deny_all_then_allows_is_an_allowlist() {
    let spec = json!([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"},
    ]);
    check(
        spec,
        &[
            ("c 1:3 r", true),
            ("c 1:3 rw", true),
            ("c 1:3 m", true),
            ("c 1:5 rw", true),
            ("c 1:5 m", false),
            ("c 1:5 wm", false),
            ("c 1:7 r", false),
            ("c 1:7 m", false),
            ("b 1:3 r", false),
            ("c 3:1 r", false),
        ],
    );
}

#[test]
fn no_rules_deny_everything_like_v1() {
    check(json!([]), &[("c 1:3 r", false), ("b 8:0 m", false)]);
}

#[test]
fn allow_all_then_denies_is_a_denylist() {
    let spec = json!([
        {"allow": true, "type": "a"},
        {"allow": false, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
        {"allow": false, "type": "b", "access": "m"},
    ]);
    check(
        spec,
        &[
            ("c 1:3 rwm", true),
            ("c 1:7 r", false),
            ("c 1:7 rw", false),
            ("b 8:0 m", false),
            ("b 8:0 rw", true),
        ],
    );
}

#[test]
fn the_last_rule_naming_an_access_wins() {
    // A hole in a wider allow, which v1 would silently ignore.
    let hole = json!([
        {"allow": false, "type": "a"},
        {"allow": true, "type": "c", "major": 1, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"},
    ]);
    check(
        hole,
        &[
            ("c 1:3 r", true),
            ("c 1:3 w", false),
            ("c 1:3 rw", false),
            ("c 1:4 w", true),
        ],
    );
    // A later wider deny overrides an earlier narrower allow.
    let wider = json!([
        {"allow": false, "type": "a"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": false, "type": "c", "access": "m"},
    ]);
    check(wider, &[("c 1:3 m", false), ("c 1:3 rw", true)]);
    // An open's read and write may be granted by two rules.
    let split = json!([
        {"allow": true, "type": "c", "major": 1, "access": "r"},
        {"allow": true, "type": "c", "minor": 3, "access": "w"},
    ]);
    check(
        split,
        &[("c 1:3 rw", true), ("c 1:4 rw", false), ("c 2:3 rw", false)],
    );
}

#[test]
fn a_type_a_rule_resets_what_came_before() {
    let denied_again = json!([
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": false, "type": "a", "major": 1, "minor": 3, "access": "r"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"},
    ]);
    check(denied_again, &[("c 1:3 w", false), ("c 1:5 r", true)]);
    let allowed_again = json!([
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "a", "access": "m"},
    ]);
    check(allowed_again, &[("c 1:3 rw", true), ("b 8:1 m", true)]);
}

#[test]
fn wildcards_and_defaults() {
    let spec = json!([
        {"allow": true, "type": "c", "major": -1, "minor": 3, "access": "r"},
        {"allow": true, "type": "b", "major": 8},
        {"allow": true, "type": "u", "major": 4, "minor": 1, "access": ""},
    ]);
    check(
        spec,
        &[
            ("c 7:3 r", true),
            ("c 7:4 r", false),
            ("c 7:3 w", false),
            ("b 8:16 rwm", true),
            ("c 8:16 r", false),
            ("c 4:1 rwm", true),
        ],
    );
}

#[test]
fn rules_no_device_can_match_are_left_out() {
    let empty = program(&rules(json!([]))).expect("program");
    let huge = json!([{"allow": true, "type": "c", "major": 4_294_967_295_u32, "minor": 1}]);
    assert_eq!(program(&rules(huge)).expect("program"), empty);
}

#[test]
fn invalid_rules_name_the_field() {
    let cases = [
        json!([{"allow": true, "type": "p"}]),
        json!([{"allow": true, "type": "c", "access": "rwx"}]),
        json!([{"allow": true, "type": "c", "major": -4}]),
        json!([{"allow": true, "type": "c", "minor": 1_u64 << 32}]),
    ];
    for case in cases {
        let err = program(&rules(case.clone())).expect_err(&case.to_string());
        assert!(matches!(err, CgroupError::InvalidValue { .. }), "{err}");
        assert!(err.to_string().contains("linux.resources.devices"), "{err}");
    }
}

#[cfg(target_endian = "little")]
#[test]
fn instructions_have_the_kernel_layout() {
    let prog = program(&[]).expect("program");
    assert_eq!(std::mem::size_of::<Insn>(), 8);
    // SAFETY: Insn is #[repr(C)] with fields of 1, 1, 2 and 4 bytes: 8 bytes, no padding.
    let first: [u8; 8] = unsafe { std::mem::transmute(prog[0]) };
    // ldxw r2, [r1 + 0]: dst in the low nibble, src in the high one.
    assert_eq!(first, [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
}

/// Deterministic pseudo-random numbers (a 64-bit LCG); no dependency needed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn random_rule(rng: &mut Lcg) -> serde_json::Value {
    let kind = ["a", "b", "c", "c", "b", "c", "b", "c"][rng.below(8) as usize];
    let major = [-1, 1, 2][rng.below(3) as usize];
    let minor = [-1, 3, 4][rng.below(3) as usize];
    let access = ["r", "w", "m", "rw", "rm", "wm", "rwm"][rng.below(7) as usize];
    let allow = rng.below(2) == 1;
    json!({"allow": allow, "type": kind, "major": major, "minor": minor, "access": access})
}

/// The documented meaning, written directly: per requested access, the last rule that
/// names the device and that access decides; a type-"a" rule decides everything; the
/// default denies.
fn reference(rules: &[DeviceRule], (kind, major, minor, access): Query) -> bool {
    let names_device = |r: &DeviceRule| {
        let kind_ok = match r.kind {
            DeviceKind::All => true,
            DeviceKind::Block => kind == DEV_BLOCK,
            DeviceKind::Char => kind == DEV_CHAR,
        };
        kind_ok && r.major.is_none_or(|m| m == major) && r.minor.is_none_or(|m| m == minor)
    };
    let decide = |bit: u32| {
        let rule = rules
            .iter()
            .rev()
            .find(|r| r.kind == DeviceKind::All || (names_device(r) && r.access & bit != 0));
        rule.is_some_and(|r| r.allow)
    };
    [ACCESS_READ, ACCESS_WRITE, ACCESS_MKNOD]
        .into_iter()
        .filter(|bit| access & bit != 0)
        .all(decide)
}

#[test]
fn programs_agree_with_the_reference_meaning() {
    let mut rng = Lcg(0x5eed);
    for _ in 0..300 {
        let len = rng.below(9) as usize;
        let spec = rules(json!((0..len)
            .map(|_| random_rule(&mut rng))
            .collect::<Vec<_>>()));
        let parsed: Vec<DeviceRule> = spec
            .iter()
            .map(|r| convert::parse_device_rule(r).expect("valid"))
            .collect();
        let prog = program(&spec).expect("program");
        check_shape(&prog);
        for kind in [DEV_BLOCK, DEV_CHAR] {
            for major in [1, 2, 5] {
                for minor in [3, 4, 9] {
                    for access in 1..=7 {
                        let q = (kind, major, minor, access);
                        let want = reference(&parsed, q);
                        assert_eq!(run(&prog, q), want, "{q:?} under {spec:?}");
                    }
                }
            }
        }
    }
}
