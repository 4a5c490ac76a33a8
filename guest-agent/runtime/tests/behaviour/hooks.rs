//! OCI hooks: each kind runs once, in order, with the state JSON on stdin.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::{spec, Sandbox};

const HOOKS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// A hook running `/bin/sh` (the host's, or busybox's for startContainer) that
/// saves its stdin as `<dir>/<name>.json` and appends `name` to `<dir>/order`.
fn marker_hook(name: &str, dir: &Path) -> Value {
    let dir = dir.display();
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("cat > {dir}/{name}.json && echo {name} >> {dir}/order")],
        "env": [spec::PATH_ENV]
    })
}

#[test]
fn every_hook_runs_once_in_order_and_reads_the_state() {
    let sandbox = Sandbox::new("hooks");
    let markers = sandbox.scratch_dir("markers");
    let mut bundle = sandbox.bundle("c");
    // startContainer runs inside the container: it writes through a bind mount.
    bundle.add_mount(json!({
        "destination": "/hooks", "type": "bind", "source": markers, "options": ["rbind", "rw"]
    }));
    let mut hooks = json!({});
    for name in HOOKS {
        let dir = if name == "startContainer" {
            Path::new("/hooks")
        } else {
            &markers
        };
        hooks[name] = json!([marker_hook(name, dir)]);
    }
    bundle.spec["hooks"] = hooks;
    bundle.args(&["true"]);
    let out = sandbox.run(&bundle).expect_ok();

    let order = fs::read_to_string(markers.join("order")).unwrap_or_default();
    let order: Vec<&str> = order.lines().collect();
    for name in HOOKS {
        assert_eq!(
            order.iter().filter(|n| **n == name).count(),
            1,
            "{name} must run once; ran: {order:?}\n{out}"
        );
        let state = fs::read_to_string(markers.join(format!("{name}.json"))).unwrap();
        let state: Value = serde_json::from_str(&state)
            .unwrap_or_else(|e| panic!("{name} got invalid state JSON ({e}): {state}"));
        assert_eq!(state["id"], bundle.id.as_str(), "{name}: {state}");
        // Inside the container the bundle path may be reported as crun does ("/").
        if name != "startContainer" {
            assert_eq!(
                state["bundle"],
                bundle.dir.to_str().unwrap(),
                "{name}: {state}"
            );
        }
    }
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
    for early in ["prestart", "createRuntime"] {
        assert!(
            at(early) < at("createContainer"),
            "{early} after createContainer: {order:?}"
        );
    }
    assert!(at("createContainer") < at("startContainer"), "{order:?}");
    assert!(at("startContainer") < at("poststop"), "{order:?}");
    assert_eq!(order.last(), Some(&"poststop"), "{order:?}");
}

#[test]
fn a_failing_create_hook_fails_the_container_and_names_the_hook() {
    let sandbox = Sandbox::new("hooks-fail");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["hooks"] = json!({
        "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", "exit 7"] }]
    });
    bundle.args(&["echo", "must not run"]);
    let out = sandbox.run(&bundle).expect_failure();
    assert!(!out.stdout.contains("must not run"), "{out}");
    assert!(out.stderr.to_lowercase().contains("hook"), "{out}");
}
