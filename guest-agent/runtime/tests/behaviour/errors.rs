//! Errors inside the container's setup reach the caller with their context.

use serde_json::json;

use crate::common::Sandbox;

#[test]
fn a_missing_executable_is_reported_with_its_path() {
    let sandbox = Sandbox::new("err-exec");
    let mut bundle = sandbox.bundle("c");
    bundle.args(&["/nonexistent-berth-binary"]);
    let out = sandbox.run(&bundle).expect_failure();
    assert!(out.stderr.contains("/nonexistent-berth-binary"), "{out}");
    assert!(!out.stderr.contains("panicked"), "{out}");
}

#[test]
fn a_bad_mount_type_is_reported_with_the_mount() {
    let sandbox = Sandbox::new("err-mount");
    let mut bundle = sandbox.bundle("c");
    bundle.add_mount(json!({
        "destination": "/berth-bad-mount", "type": "berthnosuchfs", "source": "none"
    }));
    bundle.args(&["echo", "must not run"]);
    let out = sandbox.run(&bundle).expect_failure();
    assert!(!out.stdout.contains("must not run"), "{out}");
    assert!(out.stderr.contains("berth-bad-mount"), "{out}");
    assert!(!out.stderr.contains("panicked"), "{out}");
}
