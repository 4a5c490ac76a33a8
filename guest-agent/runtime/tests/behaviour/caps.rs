//! Capabilities: the sets in /proc/self/status are exactly the requested ones.

use crate::common::host::status_field;
use crate::common::{spec, Sandbox};

/// Runs `grep Cap /proc/self/status` with `caps` granted and checks every set.
fn assert_caps_in_effect(sandbox: &Sandbox, name: &str, caps: &[&str]) {
    let mut bundle = sandbox.bundle(name);
    bundle.spec["process"]["capabilities"] = spec::capabilities(caps);
    bundle.args(&["cat", "/proc/self/status"]);
    let out = sandbox.run(&bundle).expect_ok();

    let want = format!("{:016x}", spec::cap_mask(caps));
    for field in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(
            status_field(&out.stdout, field).as_deref(),
            Some(want.as_str()),
            "{field} for {caps:?}\n{out}"
        );
    }
    for field in ["CapInh", "CapAmb"] {
        assert_eq!(
            status_field(&out.stdout, field).as_deref(),
            Some("0000000000000000"),
            "{field} must be empty when not requested\n{out}"
        );
    }
}

#[test]
fn moby_default_capabilities_are_exactly_the_effective_permitted_and_bounding_sets() {
    let sandbox = Sandbox::new("caps-moby");
    assert_eq!(spec::cap_mask(&spec::moby_cap_names()), 0xa80425fb);
    assert_caps_in_effect(&sandbox, "moby", &spec::moby_cap_names());
}

#[test]
fn a_reduced_capability_set_drops_everything_else() {
    let sandbox = Sandbox::new("caps-reduced");
    assert_caps_in_effect(&sandbox, "reduced", &["CAP_KILL", "CAP_NET_BIND_SERVICE"]);
}

#[test]
fn a_dropped_capability_is_enforced() {
    // Without CAP_CHOWN root cannot give a file away; with it, it can.
    let sandbox = Sandbox::new("caps-chown");
    let script = "touch /tmp/f && chown 65534 /tmp/f && echo chowned";
    let mut with = sandbox.bundle("with");
    with.sh(script);
    let out = sandbox.run(&with).expect_ok();
    assert!(out.stdout.contains("chowned"), "{out}");

    let mut without = sandbox.bundle("without");
    let caps: Vec<&str> = spec::moby_cap_names()
        .into_iter()
        .filter(|c| *c != "CAP_CHOWN")
        .collect();
    without.spec["process"]["capabilities"] = spec::capabilities(&caps);
    without.sh(script);
    let out = sandbox.run(&without).expect_failure();
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
}
