//! The process: user, groups, cwd, environment, rlimits, oom score, no_new_privs, sysctl.

use std::fs;

use serde_json::json;

use crate::common::host::status_field;
use crate::common::{spec, Sandbox};

#[test]
fn user_group_and_additional_gids_are_applied() {
    let sandbox = Sandbox::new("proc-user");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["process"]["user"] =
        json!({ "uid": 65534, "gid": 65534, "additionalGids": [1234, 5678] });
    bundle.sh("id -u; id -g; id -un; cat /proc/self/status");
    let out = sandbox.run(&bundle).expect_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.get(..3),
        Some(&["65534", "65534", "nobody"][..]),
        "{out}"
    );
    let groups = status_field(&out.stdout, "Groups").unwrap_or_default();
    let groups: Vec<&str> = groups.split_whitespace().collect();
    assert!(
        groups.contains(&"1234") && groups.contains(&"5678"),
        "{groups:?}\n{out}"
    );
    assert!(
        !groups.contains(&"0"),
        "root's group must be dropped: {groups:?}"
    );
}

#[test]
fn cwd_is_honoured() {
    let sandbox = Sandbox::new("proc-cwd");
    let mut bundle = sandbox.bundle("c");
    fs::create_dir_all(bundle.rootfs().join("srv/app")).unwrap();
    bundle.spec["process"]["cwd"] = json!("/srv/app");
    bundle.args(&["pwd"]);
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout, "/srv/app\n", "{out}");
}

#[test]
fn the_spec_env_is_the_whole_environment() {
    let sandbox = Sandbox::new("proc-env");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["process"]["env"] = json!([spec::PATH_ENV, "GREETING=hello world"]);
    bundle.args(&["env"]);
    bundle.write();
    let mut cmd = sandbox.command(&["run", "--bundle", bundle.dir.to_str().unwrap(), &bundle.id]);
    // The runtime's own environment must not leak into the container.
    cmd.env("BERTH_HOST_ONLY", "leaked");
    let out = sandbox.exec(cmd).expect_ok();
    let env: Vec<&str> = out.stdout.lines().collect();
    assert!(env.contains(&"GREETING=hello world"), "{out}");
    assert!(env.contains(&spec::PATH_ENV), "{out}");
    assert!(!out.stdout.contains("BERTH_HOST_ONLY"), "{out}");
}

#[test]
fn rlimit_nofile_is_applied() {
    let sandbox = Sandbox::new("proc-rlimit");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["process"]["rlimits"] =
        json!([{ "type": "RLIMIT_NOFILE", "soft": 512, "hard": 512 }]);
    bundle.sh("ulimit -n; ulimit -Hn");
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout, "512\n512\n", "{out}");
}

#[test]
fn oom_score_adj_is_applied() {
    let sandbox = Sandbox::new("proc-oom");
    let mut bundle = sandbox.bundle("c");
    bundle.spec["process"]["oomScoreAdj"] = json!(500);
    bundle.args(&["cat", "/proc/self/oom_score_adj"]);
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout, "500\n", "{out}");
}

#[test]
fn no_new_privileges_follows_the_spec() {
    let sandbox = Sandbox::new("proc-nnp");
    for (name, flag, want) in [("on", true, "1"), ("off", false, "0")] {
        let mut bundle = sandbox.bundle(name);
        bundle.spec["process"]["noNewPrivileges"] = json!(flag);
        bundle.args(&["cat", "/proc/self/status"]);
        let out = sandbox.run(&bundle).expect_ok();
        assert_eq!(
            status_field(&out.stdout, "NoNewPrivs").as_deref(),
            Some(want),
            "noNewPrivileges={flag}\n{out}"
        );
    }
}

#[test]
fn sysctls_are_set_in_the_containers_network_namespace_only() {
    // ip_default_ttl starts at 64 in every new network namespace, so reading 77
    // proves the runtime wrote it; ip_forward may be inherited from the host.
    let sandbox = Sandbox::new("proc-sysctl");
    let host = |key: &str| fs::read_to_string(format!("/proc/sys/net/ipv4/{key}")).unwrap();
    let before = (host("ip_forward"), host("ip_default_ttl"));
    let mut bundle = sandbox.bundle("c");
    bundle.spec["linux"]["sysctl"] =
        json!({ "net.ipv4.ip_forward": "1", "net.ipv4.ip_default_ttl": "77" });
    bundle.sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl");
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout, "1\n77\n", "{out}");
    let after = (host("ip_forward"), host("ip_default_ttl"));
    assert_eq!(after, before, "the host's sysctls changed");
}
