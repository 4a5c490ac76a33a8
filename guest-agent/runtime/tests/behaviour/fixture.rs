//! tests/fixtures/busybox-bundle.sh (used by the benchmarks and other suites)
//! builds a bundle that runs and stays equal to the harness's base spec.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::common::{output, spec, Sandbox};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/busybox-bundle.sh")
}

#[test]
fn the_fixture_script_builds_a_bundle_that_runs() {
    let sandbox = Sandbox::new("fixture");
    let dir = sandbox.path().join("fixture");
    let mut cmd = Command::new("sh");
    cmd.arg(script())
        .arg(&dir)
        .args(["sh", "-c", "echo \"fixture $(hostname)\"; id -un"]);
    output::run(cmd, sandbox.path(), output::COMMAND_TIMEOUT).expect_ok();

    let text = std::fs::read_to_string(dir.join("config.json")).expect("config.json");
    let mut written: Value = serde_json::from_str(&text).expect("config.json is JSON");
    serde_json::from_value::<oci_spec::runtime::Spec>(written.clone())
        .expect("config.json is a valid OCI spec");
    // Same spec as the harness's, but for what the harness sets per test.
    written["linux"]["cgroupsPath"] = json!("/x");
    let mut base = spec::base("/x");
    base["process"]["args"] = json!(["sh", "-c", "echo \"fixture $(hostname)\"; id -un"]);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    assert_eq!(
        pretty(&written),
        pretty(&base),
        "busybox-bundle.sh and common/spec.rs drifted apart"
    );

    let id = sandbox.id("fixture");
    let out = sandbox
        .runtime(&["run", "--bundle", dir.to_str().unwrap(), &id])
        .expect_ok();
    assert_eq!(out.stdout, "fixture berth\nroot\n", "{out}");
}
