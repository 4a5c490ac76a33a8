//! Cgroup limits in effect, seen from the host and from inside.

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::common::host::{cgroup_v1, CGROUP_ROOT};
use crate::common::Sandbox;

const LIMIT: u64 = 64 * 1024 * 1024;

/// The memory limit file of `cgroup` (a path below the hierarchy's root) on this host.
fn memory_limit_file(cgroup: &str) -> String {
    let cgroup = cgroup.trim_start_matches('/');
    if cgroup_v1() {
        format!("{CGROUP_ROOT}/memory/{cgroup}/memory.limit_in_bytes")
    } else {
        format!("{CGROUP_ROOT}/{cgroup}/memory.max")
    }
}

#[test]
fn memory_limit_is_set_on_the_host_and_visible_inside() {
    let sandbox = Sandbox::new("cg-memory");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["linux"]["resources"]["memory"] = json!({ "limit": LIMIT });
    // With a cgroup namespace the container's own cgroup is the root of its view.
    let inside = memory_limit_file("/");
    bundle.args(&["cat", &inside]);
    let created = sandbox.create(&bundle).expect_ok();

    let on_host = memory_limit_file(&bundle.cgroups_path());
    let host_value = fs::read_to_string(&on_host)
        .unwrap_or_else(|e| panic!("{on_host}: {e} (cgroup not created?)"));
    assert_eq!(host_value.trim(), LIMIT.to_string());

    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    sandbox.wait_status(&bundle.id, "stopped");
    assert_eq!(created.stdout_now().trim(), LIMIT.to_string(), "{created}");

    sandbox.runtime(&["delete", &bundle.id]).expect_ok();
    assert!(
        !Path::new(&on_host).exists(),
        "delete left the cgroup {on_host}"
    );
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let sandbox = Sandbox::new("cg-pids");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["linux"]["resources"]["pids"] = json!({ "limit": 8 });
    bundle.sh("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait");
    let out = sandbox.run(&bundle);
    assert!(!out.timed_out, "{out}");
    assert!(
        out.stderr.contains("can't fork"),
        "forks beyond pids.max must fail\n{out}"
    );
}

#[test]
fn without_a_pids_limit_the_same_forks_succeed() {
    // The control for the fork bomb: twelve children are fine without the limit.
    let sandbox = Sandbox::new("cg-pids-none");
    let mut bundle = sandbox.bundle("c");
    bundle.sh("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait");
    let out = sandbox.run(&bundle).expect_ok();
    assert!(!out.stderr.contains("can't fork"), "{out}");
}
