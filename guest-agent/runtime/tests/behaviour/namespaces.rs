//! Namespaces: hostname, fresh namespaces, joining one by path, pid 1, user ns.

use std::fs;

use serde_json::json;

use crate::common::host::{host_namespace, NetNs};
use crate::common::Sandbox;

const NAMESPACES: [&str; 6] = ["mnt", "pid", "uts", "ipc", "net", "cgroup"];

/// The script printing `<kind> <link>` for every namespace in [`NAMESPACES`].
fn print_namespaces() -> String {
    NAMESPACES
        .iter()
        .map(|kind| format!("echo {kind} $(readlink /proc/self/ns/{kind});"))
        .collect()
}

/// Parses the output of [`print_namespaces`] into (kind, link) pairs.
fn parse_namespaces(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn hostname_is_set_inside_and_the_host_keeps_its_own() {
    let sandbox = Sandbox::new("ns-hostname");
    let before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut bundle = sandbox.bundle("c");
    bundle.spec["hostname"] = json!("berth-test-host");
    bundle.args(&["hostname"]);
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout, "berth-test-host\n", "{out}");
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
}

#[test]
fn every_requested_namespace_differs_from_the_hosts() {
    let sandbox = Sandbox::new("ns-fresh");
    let mut bundle = sandbox.bundle("c");
    bundle.sh(&print_namespaces());
    let out = sandbox.run(&bundle).expect_ok();
    let seen = parse_namespaces(&out.stdout);
    assert_eq!(seen.len(), NAMESPACES.len(), "{out}");
    for (kind, link) in seen {
        assert!(
            link.starts_with(&format!("{kind}:[")),
            "{kind}: {link}\n{out}"
        );
        assert_ne!(
            link,
            host_namespace(&kind),
            "{kind} namespace is the host's"
        );
    }
}

#[test]
fn an_omitted_namespace_is_shared_with_the_host() {
    let sandbox = Sandbox::new("ns-omitted");
    let mut bundle = sandbox.bundle("c");
    bundle.remove_namespace("network").remove_namespace("ipc");
    bundle.sh(&print_namespaces());
    let out = sandbox.run(&bundle).expect_ok();
    for (kind, link) in parse_namespaces(&out.stdout) {
        let host = host_namespace(&kind);
        match kind.as_str() {
            "net" | "ipc" => assert_eq!(link, host, "{kind} was not requested\n{out}"),
            _ => assert_ne!(link, host, "{kind} was requested\n{out}"),
        }
    }
}

#[test]
fn joining_a_network_namespace_by_path_uses_that_namespace() {
    let sandbox = Sandbox::new("ns-join");
    // Named after the sandbox, which is unique to this process and test.
    let name = sandbox
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let netns = NetNs::add(&name);
    let mut bundle = sandbox.bundle("c");
    bundle.remove_namespace("network");
    bundle.add_namespace("network", Some(&netns.path()));
    bundle.args(&["readlink", "/proc/self/ns/net"]);
    let out = sandbox.run(&bundle).expect_ok();
    assert_eq!(out.stdout.trim(), netns.link(), "{out}");
    assert_ne!(netns.link(), host_namespace("net"));
}

#[test]
fn the_process_is_pid_1_of_its_pid_namespace() {
    let sandbox = Sandbox::new("ns-pid1");
    let mut bundle = sandbox.bundle("c");
    bundle.sh("echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; ls /proc | grep -c '^[0-9]'");
    let out = sandbox.run(&bundle).expect_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"1"), "{out}");
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("sh -c echo $$")),
        "{out}"
    );
    // sh, ls and grep: the host's processes are invisible.
    let visible: usize = lines
        .get(2)
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(visible <= 4, "{visible} processes visible inside\n{out}");
}

#[test]
fn a_user_namespace_maps_root_to_the_requested_host_ids() {
    let sandbox = Sandbox::new("ns-user");
    let mut bundle = sandbox.bundle("c");
    bundle.add_namespace("user", None);
    let mapping = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    bundle.spec["linux"]["uidMappings"] = mapping.clone();
    bundle.spec["linux"]["gidMappings"] = mapping;
    bundle
        .sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; readlink /proc/self/ns/user");
    let out = sandbox.run(&bundle).expect_ok();

    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(
        words.get(..8),
        Some(&["0", "100000", "65536", "0", "100000", "65536", "0", "0"][..]),
        "{out}"
    );
    assert_ne!(
        words.get(8).copied(),
        Some(host_namespace("user").as_str()),
        "{out}"
    );
}
