//! Table-driven tests of request validation and of the small parsers docker's
//! syntax needs (restart policies, signals).

use super::tests::{request, strings};
use crate::container::config::{ContainerConfig, MountConfig, Resources, RestartPolicy, Ulimit};

#[test]
fn invalid_requests_are_refused_with_clear_errors() {
    let bind = |target: &str| MountConfig::Bind {
        source: "/src".into(),
        target: target.into(),
        readonly: false,
        propagation: Default::default(),
    };
    let res = |r: Resources| ContainerConfig {
        resources: r,
        ..request()
    };
    // (config, expected message fragment)
    let cases: Vec<(ContainerConfig, &str)> = vec![
        (ContainerConfig::default(), "No image given"),
        (
            ContainerConfig {
                env: strings(&["=x"]),
                ..request()
            },
            "the name is empty",
        ),
        (
            ContainerConfig {
                env: strings(&["A=\0"]),
                ..request()
            },
            "NUL",
        ),
        (
            ContainerConfig {
                working_dir: Some("rel".into()),
                ..request()
            },
            "absolute path",
        ),
        (
            ContainerConfig {
                mounts: vec![bind("data")],
                ..request()
            },
            "absolute path",
        ),
        (
            ContainerConfig {
                mounts: vec![bind("/")],
                ..request()
            },
            "cannot be '/'",
        ),
        (
            ContainerConfig {
                mounts: vec![bind("/d/../etc")],
                ..request()
            },
            "'..'",
        ),
        (
            ContainerConfig {
                mounts: vec![bind("/d"), bind("/d/")],
                ..request()
            },
            "Duplicate mount point: /d",
        ),
        (
            res(Resources {
                memory: Some(0),
                ..Default::default()
            }),
            "6MB",
        ),
        (
            res(Resources {
                memory: Some(-1),
                ..Default::default()
            }),
            "6MB",
        ),
        (
            res(Resources {
                memory_swap: Some(1 << 30),
                ..Default::default()
            }),
            "memory limit too",
        ),
        (
            res(Resources {
                nano_cpus: Some(0),
                ..Default::default()
            }),
            "0.01",
        ),
        (
            res(Resources {
                pids_limit: Some(-5),
                ..Default::default()
            }),
            "pids limit",
        ),
        (
            res(Resources {
                cpuset_cpus: Some("3-1".into()),
                ..Default::default()
            }),
            "cpuset",
        ),
        (
            ContainerConfig {
                cap_add: strings(&["NET_FLY"]),
                ..request()
            },
            "Unknown capability",
        ),
        (
            ContainerConfig {
                stop_signal: Some("SIGNOPE".into()),
                ..request()
            },
            "Invalid signal",
        ),
        (
            ContainerConfig {
                security_opt: strings(&["seccomp=/x.json"]),
                ..request()
            },
            "security option",
        ),
        (
            ContainerConfig {
                hostname: Some("a\nb".into()),
                ..request()
            },
            "hostname",
        ),
        (
            ContainerConfig {
                sysctls: [("kernel.panic".into(), "1".into())].into(),
                ..request()
            },
            "not namespaced",
        ),
        (
            ContainerConfig {
                ulimits: vec![Ulimit {
                    name: "nofile".into(),
                    soft: 10,
                    hard: 5,
                }],
                ..request()
            },
            "soft limit",
        ),
        (
            ContainerConfig {
                extra_hosts: strings(&["db"]),
                ..request()
            },
            "NAME:IP",
        ),
    ];
    for (config, fragment) in cases {
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains(fragment),
            "{config:?}: {err:?} lacks {fragment:?}"
        );
    }
    assert!(request().validate().is_ok());
}

#[test]
fn restart_policies_and_signals_parse() {
    let cases: &[(&str, Option<RestartPolicy>)] = &[
        ("", Some(RestartPolicy::No)),
        ("no", Some(RestartPolicy::No)),
        ("always", Some(RestartPolicy::Always)),
        ("unless-stopped", Some(RestartPolicy::UnlessStopped)),
        (
            "on-failure",
            Some(RestartPolicy::OnFailure { max_retries: 0 }),
        ),
        (
            "on-failure:3",
            Some(RestartPolicy::OnFailure { max_retries: 3 }),
        ),
        ("on-failure:-1", None),
        ("always:3", None),
        ("sometimes", None),
    ];
    for (text, want) in cases {
        assert_eq!(text.parse::<RestartPolicy>().ok(), *want, "{text:?}");
    }
    let signals: &[(&str, Option<i32>)] = &[
        ("SIGTERM", Some(15)),
        ("term", Some(15)),
        ("9", Some(9)),
        ("SIGRTMIN+3", Some(37)),
        ("RTMAX-1", Some(63)),
        ("0", None),
        ("65", None),
        ("SIGNOPE", None),
    ];
    for (text, want) in signals {
        assert_eq!(
            crate::container::config::parse_signal(text).ok(),
            *want,
            "{text:?}"
        );
    }
}
