//! Seccomp tests: compiling real profiles and refusing bad ones; `behaviour` runs
//! filters in forked children.

mod behaviour;

use std::error::Error as _;

use oci_spec::runtime::{Capability, LinuxSeccomp, LinuxSeccompAction};

use super::{compile, default_profile, default_profile_for, parse_profile, SeccompError};

const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

fn allowed(profile: &LinuxSeccomp) -> Vec<String> {
    let rules = profile.syscalls().as_ref().expect("rules");
    rules
        .iter()
        .filter(|rule| rule.action() == LinuxSeccompAction::ScmpActAllow && rule.args().is_none())
        .flat_map(|rule| rule.names().clone())
        .collect()
}

/// The error and all its sources, as one line, the way the CLI prints it.
fn chain(error: &SeccompError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[test]
fn default_profile_compiles() {
    compile(&default_profile()).expect("default profile");
    let admin = [Capability::SysAdmin, Capability::SysPtrace]
        .into_iter()
        .collect();
    compile(&default_profile_for(&admin)).expect("default profile with CAP_SYS_ADMIN");
}

#[test]
fn default_profile_survives_json() {
    let json = serde_json::to_string(&default_profile()).expect("serialize");
    let parsed = parse_profile(&json).expect("parse");
    assert_eq!(parsed, default_profile());
    compile(&parsed).expect("compile");
}

#[test]
fn podman_profile_compiles() {
    let json = std::fs::read_to_string(PODMAN_PROFILE)
        .unwrap_or_else(|e| panic!("{PODMAN_PROFILE} (Debian package podman): {e}"));
    let profile = parse_profile(&json).expect("podman's profile parses as linux.seccomp");
    assert!(profile
        .syscalls()
        .as_ref()
        .is_some_and(|rules| rules.len() > 10));
    compile(&profile).expect("podman's profile compiles");
}

#[test]
fn default_profile_withholds_privileged_syscalls() {
    let names = allowed(&default_profile());
    for denied in [
        "keyctl",
        "add_key",
        "request_key",
        "unshare",
        "setns",
        "mount",
        "umount2",
        "bpf",
        "io_uring_setup",
        "socketcall",
        "socket",
        "clone",
        "clone3",
        "personality",
        "reboot",
        "init_module",
        "kexec_load",
        "open_by_handle_at",
        "perf_event_open",
        "userfaultfd",
    ] {
        assert!(
            !names.iter().any(|name| name == denied),
            "{denied} is allowed"
        );
    }
    for needed in [
        "read", "execve", "futex", "chroot", "connect", "wait4", "statx",
    ] {
        assert!(
            names.iter().any(|name| name == needed),
            "{needed} is missing"
        );
    }

    let admin = [Capability::SysAdmin].into_iter().collect();
    let names = allowed(&default_profile_for(&admin));
    for unlocked in ["mount", "unshare", "setns", "clone", "clone3"] {
        assert!(
            names.iter().any(|name| name == unlocked),
            "{unlocked} stays denied"
        );
    }
}

#[test]
fn bad_profiles_name_the_offending_value() {
    let cases = [
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_EXPLODE"}]}"#,
            "SCMP_ACT_EXPLODE",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}"#,
            "SCMP_ARCH_Z80",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ALMOST"}]}]}"#,
            "SCMP_CMP_ALMOST",
        ),
    ];
    for (json, offending) in cases {
        let error = parse_profile(json).expect_err(offending);
        assert!(matches!(error, SeccompError::Parse(_)));
        assert!(chain(&error).contains(offending), "{}", chain(&error));
    }
}

#[test]
fn bad_rules_are_refused() {
    let cases = [
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read","pread64"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            "Seccomp rule for read, pread64 compares argument 6, but only 0 to 5 exist",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#,
            "Unsupported seccomp feature: SCMP_ACT_NOTIFY (seccomp user notification)",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock"}"#,
            "Unsupported seccomp feature: listenerPath (seccomp user notification)",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}"#,
            "Seccomp errnoRet 70000 is out of range (0 to 65535)",
        ),
    ];
    for (json, message) in cases {
        let profile = parse_profile(json).expect("valid JSON");
        let Err(error) = compile(&profile) else {
            panic!("compiled despite: {message}");
        };
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn tolerated_oddities_compile() {
    // Unknown names are skipped, a rule equal to the default is dropped, repeated
    // indexes become alternatives, and the filter flags are accepted.
    let json = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [
            {"names": ["not_a_syscall_anywhere", "read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 1, "op": "SCMP_CMP_GT"}
            ]}
        ]
    }"#;
    compile(&parse_profile(json).expect("parse")).expect("compile");
}
