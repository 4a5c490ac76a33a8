//! Table-driven tests of the merge of a request with its image's config.

use serde_json::json;

use super::tests::{image, request, spec_of, strings};
use super::*;
use crate::container::config::ContainerConfig;

#[test]
fn entrypoint_and_cmd_merge_like_docker() {
    type Args<'a> = Option<&'a [&'a str]>;
    // (image entrypoint, image cmd, request entrypoint, request cmd, expected args)
    let cases: &[(Args, Args, Args, Args, Args)] = &[
        (None, Some(&["sh"]), None, None, Some(&["sh"])),
        (
            None,
            Some(&["sh"]),
            None,
            Some(&["echo", "hi"]),
            Some(&["echo", "hi"]),
        ),
        (
            Some(&["/init"]),
            Some(&["--serve"]),
            None,
            None,
            Some(&["/init", "--serve"]),
        ),
        (
            Some(&["/init"]),
            Some(&["--serve"]),
            None,
            Some(&["-v"]),
            Some(&["/init", "-v"]),
        ),
        // An explicit entrypoint drops the image's Cmd...
        (
            Some(&["/init"]),
            Some(&["--serve"]),
            Some(&["top"]),
            None,
            Some(&["top"]),
        ),
        (
            None,
            Some(&["sh"]),
            Some(&["top"]),
            Some(&["-b"]),
            Some(&["top", "-b"]),
        ),
        // ...and an empty one clears the image's entrypoint.
        (
            Some(&["/init"]),
            Some(&["sh"]),
            Some(&[""]),
            Some(&["ls"]),
            Some(&["ls"]),
        ),
        (Some(&["/init"]), Some(&["sh"]), Some(&[]), None, None),
        (None, None, None, None, None),
        (None, None, None, Some(&[]), None),
    ];
    for (img_ep, img_cmd, ep, cmd, want) in cases {
        let img = image(json!({ "Entrypoint": img_ep, "Cmd": img_cmd }));
        let config = ContainerConfig {
            entrypoint: ep.map(strings),
            cmd: cmd.map(strings),
            ..request()
        };
        let got = merge(&config, &img);
        match want {
            Some(args) => assert_eq!(
                got.unwrap().args,
                strings(args),
                "{img_ep:?} {img_cmd:?} {ep:?} {cmd:?}"
            ),
            None => assert_eq!(got.unwrap_err().to_string(), "No command specified"),
        }
    }
}

#[test]
fn env_overrides_image_by_key() {
    // (image env, request env, expected)
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&["PATH=/bin", "A=1"], &[], &["PATH=/bin", "A=1"]),
        (&["PATH=/bin", "A=1"], &["A=2"], &["PATH=/bin", "A=2"]),
        (
            &["PATH=/bin"],
            &["B=x=y", "C="],
            &["PATH=/bin", "B=x=y", "C="],
        ),
        (&["PATH=/bin", "A=1"], &["A"], &["PATH=/bin"]),
        (&["A=1"], &["A=2", "A=3"], &["A=3"]),
    ];
    for (img_env, req_env, want) in cases {
        let img = image(json!({ "Env": img_env, "Cmd": ["sh"] }));
        let config = ContainerConfig {
            env: strings(req_env),
            ..request()
        };
        assert_eq!(
            merge(&config, &img).unwrap().env,
            strings(want),
            "{req_env:?}"
        );
    }
    // The process env adds PATH (when missing), HOSTNAME, TERM with a tty, and HOME.
    let spec = spec_of(ContainerConfig {
        tty: true,
        hostname: Some("web".into()),
        env: strings(&["HOSTNAME=mine"]),
        ..request()
    });
    let env = spec.process().as_ref().unwrap().env().clone().unwrap();
    assert_eq!(
        env,
        strings(&[
            process::DEFAULT_PATH,
            "HOSTNAME=mine",
            "TERM=xterm",
            "HOME=/"
        ])
    );
}

#[test]
fn image_fields_merge_and_hostile_ones_are_refused() {
    let img = image(json!({
        "Cmd": ["sh"], "WorkingDir": "app", "User": "daemon", "StopSignal": "SIGQUIT",
        "Labels": { "a": "image", "b": "image" }, "ExposedPorts": { "80/tcp": {} },
        "Volumes": { "/data": {}, "/cache/": {}, "/logs": {} },
    }));
    let config = ContainerConfig {
        labels: [("b".to_string(), "request".to_string())].into(),
        exposed_ports: ["53/udp".to_string()].into(),
        mounts: vec![MountConfig::Tmpfs {
            target: "/logs".into(),
            size: None,
            mode: None,
        }],
        ..request()
    };
    let merged = merge(&config, &img).unwrap();
    assert_eq!(merged.working_dir, "/app");
    assert_eq!(merged.user, "daemon");
    assert_eq!(merged.stop_signal, "SIGQUIT");
    assert_eq!(merged.labels["a"], "image");
    assert_eq!(merged.labels["b"], "request");
    assert_eq!(merged.exposed_ports.len(), 2);
    assert_eq!(merged.image_volumes, strings(&["/cache", "/data"]));

    for bad in [
        json!({ "Cmd": ["sh"], "Env": ["=x"] }),
        json!({ "Cmd": ["sh"], "StopSignal": "SIGNOPE" }),
        json!({ "Cmd": ["sh"], "Volumes": { "/": {} } }),
        json!({ "Cmd": ["sh"], "Volumes": { "../etc": {} } }),
    ] {
        let err = merge(&request(), &image(bad.clone())).unwrap_err();
        assert!(matches!(err, MergeError::Image { .. }), "{bad}: {err}");
    }
}
